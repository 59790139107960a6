"""The parameter store, and how resolve_model reads the active model from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from _models_support import (  # noqa: F401  (fixtures)
    db_url,
    settings,
    synthetic_page,
    tiny_dataset,
    tiny_dataset_dir,
    tiny_model_dir,
)

from ocrprep.config import Settings
from ocrprep.errors import MalformedRequest, ModelError, RegistryError
from ocrprep.models import DEFAULT_MODEL_DIR, resolve_model
from ocrprep.params import ParameterStore
from ocrprep.registry import Registry, Status


def test_set_get_list_delete(db_url: str) -> None:
    store = ParameterStore(db_url)
    assert store.find("preprocess/model") is None
    first = store.set("preprocess/model", "receipts:1")
    second = store.set("preprocess/model", "receipts:2")
    store.set("other/x", "1")
    assert (first.version, second.version) == (1, 2)
    assert store.get("preprocess/model").value == "receipts:2"
    assert [p.name for p in store.list("preprocess/")] == ["preprocess/model"]
    assert [p.name for p in store.list()] == ["other/x", "preprocess/model"]
    store.delete("other/x")
    with pytest.raises(RegistryError, match="no parameter named 'other/x'"):
        store.get("other/x")
    with pytest.raises(RegistryError):
        store.delete("other/x")


@pytest.mark.parametrize("name", ["", "has space", "semi;colon", "x" * 501])
def test_invalid_names_are_refused(db_url: str, name: str) -> None:
    with pytest.raises(MalformedRequest):
        ParameterStore(db_url).set(name, "v")


def test_prefix_is_literal_not_a_pattern(db_url: str) -> None:
    store = ParameterStore(db_url)
    store.set("a_b", "1")
    store.set("axb", "2")
    assert [p.name for p in store.list("a_")] == ["a_b"]


def _register_copy(settings: Settings, model_dir: Path, project: str) -> str:
    registry = Registry.from_settings(settings)
    target = Path(settings.home) / "imported" / f"{project}-{len(registry.list_versions()) + 1}"
    shutil.copytree(model_dir, target)
    return registry.register(project, target).name


def test_parameter_change_takes_effect_on_next_resolve(settings: Settings, tiny_model_dir: Path) -> None:
    first = _register_copy(settings, tiny_model_dir, "receipts")
    second = _register_copy(settings, tiny_model_dir, "receipts")
    store = ParameterStore(settings.db_url)
    store.set("preprocess/model", first)
    assert resolve_model(settings).name == first
    store.set("preprocess/model", second)
    assert resolve_model(settings).name == second
    # an explicit reference wins over the parameter
    assert resolve_model(settings, first).name == first
    assert resolve_model(settings, str(tiny_model_dir)).path == tiny_model_dir


def test_resolve_starts_a_model_that_is_not_running(settings: Settings, tiny_model_dir: Path) -> None:
    name = _register_copy(settings, tiny_model_dir, "receipts")
    registry = Registry.from_settings(settings)
    assert registry.get("receipts", 1).status == Status.TRAINING_COMPLETED
    model = resolve_model(settings, name)
    assert registry.get("receipts", 1).status == Status.RUNNING
    registry.stop("receipts", 1)
    assert registry.get("receipts", 1).status == Status.STOPPED
    assert resolve_model(settings, "receipts").name == name
    assert registry.get("receipts", 1).status == Status.RUNNING
    labels = model.detect_labels(synthetic_page(5), min_confidence=0)
    assert sorted(label.name for label in labels) == ["bad", "good"]


def test_broken_model_fails_with_its_name(settings: Settings, tiny_model_dir: Path) -> None:
    name = _register_copy(settings, tiny_model_dir, "broken")
    registry = Registry.from_settings(settings)
    (Path(registry.get("broken", 1).path) / "model.txt").write_text("not a model\n")
    with pytest.raises(ModelError, match="broken:1"):
        resolve_model(settings, name)
    assert registry.get("broken", 1).status == Status.FAILED


def test_unknown_or_untrained_models_raise_model_error(settings: Settings) -> None:
    with pytest.raises(ModelError, match="nosuch"):
        resolve_model(settings, "nosuch:3")
    Registry.from_settings(settings).create_version("pending")
    with pytest.raises(ModelError, match="TRAINING_IN_PROGRESS"):
        resolve_model(settings, "pending:1")
    ParameterStore(settings.db_url).set("preprocess/model", "nosuch")
    with pytest.raises(ModelError, match="parameter preprocess/model"):
        resolve_model(settings)


def test_without_parameter_the_bundled_model_answers(tmp_path: Path) -> None:
    if not (DEFAULT_MODEL_DIR / "model.txt").is_file():
        pytest.skip("the bundled model is not built yet (make model)")
    settings = Settings(home=tmp_path / "fresh")
    model = resolve_model(settings)
    assert model.name.startswith("quality-default")
    assert set(model.labels) == {"good", "bad"}
    assert not (tmp_path / "fresh" / "registry.sqlite3").exists()  # a read creates no database
    page = synthetic_page(1, 400, 300)
    labels = model.detect_labels(page, min_confidence=0)
    confidences = [label.confidence for label in labels]
    assert confidences == sorted(confidences, reverse=True)
    assert np.isclose(sum(confidences), 100.0, atol=1e-6)
