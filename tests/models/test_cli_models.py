"""The train / evaluate / models / params / datasets commands through Typer's CliRunner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from _models_support import TINY_PARAMS, tiny_dataset, tiny_dataset_dir, tiny_model_dir  # noqa: F401
from typer.testing import CliRunner

from ocrprep.cli_models import register
from ocrprep.config import Settings
from ocrprep.registry import Registry, Status

app = typer.Typer()
register(app)
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TEST_POSTGRES_URL", raising=False)
    monkeypatch.delenv("OCRPREP_DATABASE_URL", raising=False)
    monkeypatch.setenv("OCRPREP_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_params_commands(home: Path) -> None:
    assert run("params", "set", "preprocess/model", "receipts:2")[0] == 0
    code, text = run("params", "get", "preprocess/model")
    assert code == 0 and text.strip() == "receipts:2"
    code, text = run("params", "list", "--json")
    assert json.loads(text)[0]["Version"] == 1
    code, text = run("params", "get", "nope")
    assert code == 6 and "RegistryError" in text
    assert run("params", "set", "bad name", "x")[0] == 2
    assert run("params", "delete", "preprocess/model")[0] == 0


def test_models_lifecycle_commands(home: Path, tiny_model_dir: Path) -> None:
    registry = Registry.from_settings(Settings(home=home))
    copy = home / "incoming" / "m"
    shutil.copytree(tiny_model_dir, copy)
    registry.register("receipts", copy)
    code, text = run("models", "list", "--json")
    assert code == 0
    rows = {row["name"]: row for row in json.loads(text)}
    assert rows["receipts:1"]["status"] == "TRAINING_COMPLETED"
    code, text = run("models", "start", "receipts:1")
    assert code == 0 and "RUNNING" in text
    code, text = run("models", "describe", "receipts:1")
    assert code == 0 and "macro" in text and "RUNNING" in text
    code, text = run("models", "delete", "receipts:1", "--yes")
    assert code == 6 and "RUNNING" in text  # must stop first
    assert run("models", "stop", "receipts:1")[0] == 0
    assert registry.get("receipts", 1).status == Status.STOPPED
    assert run("models", "delete", "receipts:1", "--yes")[0] == 0
    assert registry.list_versions() == []
    assert run("models", "start", "receipts")[0] == 2  # a version must be named


def test_datasets_commands(home: Path, tiny_dataset_dir: Path, tmp_path: Path) -> None:
    code, text = run("datasets", "show", str(tiny_dataset_dir), "--json")
    assert code == 0 and json.loads(text)["labels"] == {"bad": 24, "good": 12}
    code, text = run("datasets", "import", str(tiny_dataset_dir), "--name", "tiny")
    assert code == 0 and (home / "datasets" / "tiny.manifest").is_file()
    out = tmp_path / "export.manifest"
    code, _ = run("datasets", "export", "tiny", "--out", str(out), "--attribute", "quality")
    assert code == 0 and len(out.read_text().splitlines()) == 36
    bad = tmp_path / "bad.manifest"
    bad.write_text('{"source-ref": 5}\n')
    code, text = run("datasets", "show", str(bad))
    assert code == 2 and "line 1" in text and "source-ref" in text


@pytest.mark.slow
def test_train_wait_then_evaluate(home: Path, tiny_dataset_dir: Path) -> None:
    code, text = run("train", str(tiny_dataset_dir), "--project", "tiny", "--wait", "--rounds", "20",
                     "--threads", "1")
    assert code == 0, text
    assert "tiny:1: TRAINING_COMPLETED" in text and "macro" in text
    code, text = run("evaluate", "tiny:1", str(tiny_dataset_dir), "--json")
    assert code == 0, text
    assert json.loads(text)["num_test_images"] == 36
    code, text = run("train", str(tiny_dataset_dir), "--project", "tiny", "--wait", "--rounds", "20",
                     "--threads", "1", "--threshold-folds", "3", "--json")
    assert code == 0, text
    meta = json.loads((home / "models" / "tiny" / "2" / "model.json").read_text())
    assert meta["threshold_selection"]["folds"] == 3  # chosen on the training split, recorded
    code, text = run("train", str(home / "missing"), "--project", "tiny", "--wait")
    assert code == 2 and "no such file or folder" in text
    assert [v.name for v in Registry.from_settings(Settings(home=home)).list_versions()] == ["tiny:1", "tiny:2"]
