"""Region detectors in the registry: kinds, start/stop, first-use start, caching, ``process``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from _models_support import db_url, stamp_page, tiny_detector_dir, tiny_model_dir  # noqa: F401
from _models_support import tiny_dataset, tiny_dataset_dir  # noqa: F401

from ocrprep.config import Settings, load_settings
from ocrprep.errors import ModelError
from ocrprep.models.runtime import resolve_detector, resolve_model, start_model
from ocrprep.registry import CLASSIFIER, REGION_DETECTOR, Registry, Status
from ocrprep.regions.detector import DetectorModel, detect_regions, load_detector, read_detector


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A fresh home and registry (SQLite, or the test PostgreSQL) that ``load_settings()``
    (what the extract step reads) also points at."""
    monkeypatch.setenv("OCRPREP_HOME", str(tmp_path / "home"))
    if db_url.startswith("sqlite"):
        monkeypatch.delenv("OCRPREP_DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("OCRPREP_DATABASE_URL", db_url)
    return tmp_path / "home"


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings()


def _register(settings: Settings, folder: Path, project: str = "stamps") -> Registry:
    registry = Registry.from_settings(settings)
    incoming = Path(settings.home) / "incoming"
    copy = incoming / f"{project}-{len(list(incoming.glob('*'))) if incoming.is_dir() else 0}"
    shutil.copytree(folder, copy)
    registry.register(project, copy)
    return registry


def _extract_stamps(settings: Settings, tmp_path: Path, seed: int):
    """``process`` in regions mode with detector ``stamps:1`` on a seeded stamp page."""
    from ocrprep import process

    page, truth = stamp_page(seed)
    source = tmp_path / "page.png"
    cv2.imwrite(str(source), cv2.cvtColor(page, cv2.COLOR_RGB2BGR))
    result = process(str(source), settings.with_overrides(**{"storage.roots": [str(tmp_path)]}),
                     steps=["extract"], extract_mode="regions", regions_model="stamps:1",
                     output=str(tmp_path / "out"))
    return result, truth


def test_versions_know_their_kind(settings: Settings, tiny_detector_dir: Path, tiny_model_dir: Path) -> None:
    registry = _register(settings, tiny_detector_dir)
    _register(settings, tiny_model_dir, "receipts")
    registry.create_version("pending")  # no model.json yet: kind unknown
    kinds = {v.name: v.kind for v in registry.list_versions()}
    assert kinds == {"stamps:1": REGION_DETECTOR, "receipts:1": CLASSIFIER, "pending:1": ""}
    assert registry.get("stamps", 1).to_dict()["kind"] == REGION_DETECTOR


def test_a_stopped_detector_starts_on_first_use_through_process(
    settings: Settings, home: Path, tiny_detector_dir: Path, tmp_path: Path
) -> None:
    registry = _register(settings, tiny_detector_dir)
    started = start_model(settings, "stamps:1")
    assert isinstance(started, DetectorModel) and started.name == "stamps:1"
    assert registry.get("stamps", 1).status == Status.RUNNING
    registry.stop("stamps", 1)
    assert registry.get("stamps", 1).status == Status.STOPPED

    result, truth = _extract_stamps(settings, tmp_path, 99)
    assert registry.get("stamps", 1).status == Status.RUNNING  # started on first use
    record = result.steps[0]
    assert record.params["model"] == "stamps:1"
    names = [r["Name"] for r in record.params["regions"]]
    assert "stamp" in names and len(result.uris) == len(names)
    crop = cv2.imread(result.uris[names.index("stamp")])
    assert crop is not None
    assert abs(crop.shape[1] - truth.width) <= 0.5 * truth.width
    assert abs(crop.shape[0] - truth.height) <= 0.5 * truth.height


def test_a_project_name_resolves_to_its_running_version_and_loads_are_cached(
    settings: Settings, tiny_detector_dir: Path
) -> None:
    registry = _register(settings, tiny_detector_dir)
    _register(settings, tiny_detector_dir, "stamps")  # stamps:2, never started
    first = load_detector("stamps:1", settings=settings)
    assert load_detector("stamps", settings=settings) is first  # the running version wins
    assert load_detector("stamps:1") is first  # load_settings() reads the same home; cached
    assert registry.get("stamps", 2).status == Status.TRAINING_COMPLETED
    folder = Path(registry.get("stamps", 1).path)
    meta = folder / "model.json"
    meta.write_text(meta.read_text())
    os.utime(meta, ns=(meta.stat().st_atime_ns, meta.stat().st_mtime_ns + 10**9))
    assert load_detector("stamps:1", settings=settings) is not first  # a changed folder reloads


def test_untrained_and_failed_versions_are_refused(settings: Settings) -> None:
    registry = Registry.from_settings(settings)
    registry.create_version("stamps")
    with pytest.raises(ModelError, match="TRAINING_IN_PROGRESS"):
        load_detector("stamps:1", settings=settings)
    registry.fail_training("stamps", 1, "out of memory")
    with pytest.raises(ModelError, match="TRAINING_FAILED: out of memory"):
        load_detector("stamps:1", settings=settings)
    with pytest.raises(ModelError, match="not found"):
        load_detector("nosuch:1", settings=settings)
    assert registry.get("stamps", 1).status == Status.TRAINING_FAILED


def test_a_detector_that_cannot_load_is_marked_failed(settings: Settings, tiny_detector_dir: Path) -> None:
    registry = _register(settings, tiny_detector_dir)
    (Path(registry.get("stamps", 1).path) / "model.txt").write_text("not a booster\n")
    with pytest.raises(ModelError, match="stamps:1 cannot be started"):
        load_detector("stamps:1", settings=settings)
    assert registry.get("stamps", 1).status == Status.FAILED


def test_kinds_are_not_mixed_up_and_the_status_is_left_alone(
    settings: Settings, tiny_detector_dir: Path, tiny_model_dir: Path
) -> None:
    registry = _register(settings, tiny_detector_dir)
    _register(settings, tiny_model_dir, "receipts")
    with pytest.raises(ModelError, match="stamps:1 is a region-detector, not a classifier"):
        resolve_model(settings, "stamps:1")
    with pytest.raises(ModelError, match="receipts:1 is a classifier, not a region-detector"):
        resolve_detector(settings, "receipts:1")
    with pytest.raises(ModelError, match="region-detector"):
        resolve_model(settings, str(tiny_detector_dir))
    assert {v.status for v in registry.list_versions()} == {Status.TRAINING_COMPLETED}
    assert resolve_detector(settings, str(tiny_detector_dir)).classes == ("background", "stamp")


def test_models_commands_cover_detectors(home: Path, settings: Settings, tiny_detector_dir: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from ocrprep.cli_models import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()
    registry = _register(settings, tiny_detector_dir)

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.output

    code, text = run("models", "list", "--json")
    rows = {row["name"]: row for row in json.loads(text)}
    assert code == 0 and rows["stamps:1"]["kind"] == REGION_DETECTOR
    code, text = run("models", "start", "stamps:1")
    assert code == 0 and "region-detector" in text and "RUNNING" in text
    code, text = run("models", "describe", "stamps:1")
    assert code == 0 and "mAP@0.5" in text and "stamp" in text and "RUNNING" in text
    assert run("models", "stop", "stamps:1")[0] == 0
    assert registry.get("stamps", 1).status == Status.STOPPED


def test_a_loaded_detector_answers_like_the_trained_one_without_importing_lightgbm(
    tiny_detector_dir: Path, tmp_path: Path
) -> None:
    """Loading uses the classifiers' tree evaluator, so a one-shot process does not pay for
    importing LightGBM (seconds on a busy machine); the answers are the trained booster's."""
    code = (
        "import sys, json, cv2\n"
        "from ocrprep.regions.detector import load_detector, detect_regions\n"
        f"model = load_detector({str(tiny_detector_dir)!r})\n"
        f"page = cv2.cvtColor(cv2.imread({str(tmp_path / 'page.png')!r}), cv2.COLOR_BGR2RGB)\n"
        "print(json.dumps({'lightgbm': 'lightgbm' in sys.modules, 'found': detect_regions(page, model)}))\n"
    )
    import lightgbm as lgb

    page, _ = stamp_page(5)
    cv2.imwrite(str(tmp_path / "page.png"), cv2.cvtColor(page, cv2.COLOR_RGB2BGR))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    answer = json.loads(done.stdout)
    assert answer["lightgbm"] is False
    loaded = read_detector(tiny_detector_dir)
    booster = lgb.Booster(model_file=str(tiny_detector_dir / "model.txt"))
    trained = DetectorModel(booster, loaded.classes, loaded.thresholds, loaded.meta)
    assert answer["found"] == detect_regions(page, trained) == detect_regions(page, loaded)
    assert answer["found"], "the stamp was not found"


def test_process_finds_a_detector_in_the_registry_of_its_own_settings(
    settings: Settings, tiny_detector_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server or library caller passes settings; the extract step must not read the environment's."""
    _register(settings, tiny_detector_dir)
    monkeypatch.setenv("OCRPREP_HOME", str(tmp_path / "another-home"))  # load_settings() looks here
    monkeypatch.delenv("OCRPREP_DATABASE_URL", raising=False)
    result, _ = _extract_stamps(settings, tmp_path, 7)
    assert result.steps[0].params["model"] == "stamps:1"
