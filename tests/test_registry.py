"""The model registry on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _models_support import (  # noqa: F401  (fixtures)
    TINY_PARAMS,
    db_url,
    settings,
    tiny_dataset,
    tiny_dataset_dir,
)

from ocrprep.config import Settings
from ocrprep.errors import MalformedRequest, RegistryError
from ocrprep.registry import TRANSITIONS, Registry, Status, parse_ref, process_alive


@pytest.fixture
def registry(db_url: str, tmp_path: Path) -> Registry:
    return Registry(db_url, tmp_path / "models")


def test_versions_are_numbered_per_project(registry: Registry) -> None:
    a1 = registry.create_version("receipts")
    a2 = registry.create_version("receipts")
    b1 = registry.create_version("invoices")
    assert (a1.name, a2.name, b1.name) == ("receipts:1", "receipts:2", "invoices:1")
    assert a1.status == Status.TRAINING_IN_PROGRESS
    assert registry.list_projects() == ["invoices", "receipts"]
    assert [v.name for v in registry.list_versions("receipts")] == ["receipts:1", "receipts:2"]
    assert Path(a2.path) == registry.models_dir / "receipts" / "2"


def test_full_lifecycle(registry: Registry) -> None:
    v = registry.create_version("receipts", dataset="data/", params={"seed": 3})
    done = registry.complete_training("receipts", v.version, f1_score=0.98)
    assert done.status == Status.TRAINING_COMPLETED and done.f1_score == pytest.approx(0.98)
    assert done.params == {"seed": 3}
    registry.transition("receipts", v.version, Status.STARTING)
    assert registry.transition("receipts", v.version, Status.RUNNING).status == Status.RUNNING
    assert registry.stop("receipts", v.version).status == Status.STOPPED
    registry.transition("receipts", v.version, Status.STARTING)
    registry.transition("receipts", v.version, Status.FAILED, "could not load")
    assert registry.get("receipts", v.version).status_message == "could not load"
    registry.delete("receipts", v.version)
    assert registry.list_versions("receipts") == []


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), Status.RUNNING),  # training -> running
        ((), Status.STARTING),  # not trained yet
        ((Status.TRAINING_COMPLETED,), Status.STOPPING),
        ((Status.TRAINING_COMPLETED, Status.STARTING, Status.RUNNING), Status.DELETING),
        ((Status.TRAINING_FAILED,), Status.STARTING),
        ((Status.TRAINING_COMPLETED,), Status.TRAINING_FAILED),
    ],
)
def test_invalid_transitions_raise(registry: Registry, path: tuple[Status, ...], bad: Status) -> None:
    v = registry.create_version("p")
    for step in path:
        registry.transition("p", v.version, step)
    before = registry.get("p", v.version).status
    with pytest.raises(RegistryError, match=f"to {bad.value}"):
        registry.transition("p", v.version, bad)
    assert registry.get("p", v.version).status == before


def test_transition_table_matches_the_issue() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert TRANSITIONS[Status.TRAINING_IN_PROGRESS] == {Status.TRAINING_COMPLETED, Status.TRAINING_FAILED}
    assert TRANSITIONS[Status.STARTING] == {Status.RUNNING, Status.FAILED}
    assert TRANSITIONS[Status.STOPPING] >= {Status.STOPPED}
    assert TRANSITIONS[Status.DELETING] == set()


def test_running_version_cannot_be_deleted_and_unknown_names_raise(registry: Registry) -> None:
    v = registry.create_version("p")
    registry.complete_training("p", v.version, f1_score=None)
    registry.transition("p", v.version, Status.STARTING)
    registry.transition("p", v.version, Status.RUNNING)
    with pytest.raises(RegistryError):
        registry.delete("p", v.version)
    with pytest.raises(RegistryError, match="no project"):
        registry.get("nope")
    with pytest.raises(RegistryError, match="no version 9"):
        registry.get("p", 9)


def test_get_without_version_prefers_running_then_newest_usable(registry: Registry) -> None:
    for _ in range(3):
        registry.create_version("p")
    registry.complete_training("p", 1, f1_score=None)
    registry.complete_training("p", 2, f1_score=None)
    registry.fail_training("p", 3, "boom")
    assert registry.get("p").version == 2
    registry.transition("p", 1, Status.STARTING)
    registry.transition("p", 1, Status.RUNNING)
    assert registry.get("p").version == 1


def test_delete_removes_the_model_folder(registry: Registry) -> None:
    v = registry.create_version("p")
    folder = Path(v.path)
    folder.mkdir(parents=True)
    (folder / "model.txt").write_text("x")
    registry.fail_training("p", v.version, "boom")
    registry.delete("p", v.version)
    assert not folder.exists()
    registry.delete_project("p")
    assert registry.list_projects() == []


def test_dead_trainer_marks_version_failed_on_read(registry: Registry) -> None:
    v = registry.create_version("p")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    registry.claim_trainer("p", v.version, child.pid)
    assert registry.get("p", v.version).status == Status.TRAINING_IN_PROGRESS
    child.kill()
    child.wait()
    found = registry.get("p", v.version)
    assert found.status == Status.TRAINING_FAILED
    assert "trainer process exited without finishing" in found.status_message


def test_process_alive_sees_zombies_and_reused_pids() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while process_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # exits, then stays a zombie until waited for
    assert not process_alive(child.pid)
    child.wait()
    assert process_alive(os.getpid())
    assert not process_alive(os.getpid(), start_time="1")


def test_parse_ref() -> None:
    assert parse_ref("a-b_c.d:12") == ("a-b_c.d", 12)
    for bad in ("", "a:0", "a:x", "../x", "a b"):
        with pytest.raises(MalformedRequest):
            parse_ref(bad)


@pytest.mark.slow
def test_killed_background_training_ends_failed(settings: Settings, tiny_dataset_dir: Path) -> None:
    from ocrprep.models.jobs import TrainRequest, start_training

    request = TrainRequest(datasets=(str(tiny_dataset_dir),), project="bg", params=TINY_PARAMS)
    version = start_training(settings, request, wait=False)
    assert version.status == Status.TRAINING_IN_PROGRESS
    assert version.trainer_pid and version.trainer_pid != os.getpid()
    os.kill(version.trainer_pid, signal.SIGKILL)
    registry = Registry.from_settings(settings)
    deadline = time.monotonic() + 20
    found = registry.get("bg", version.version)
    while found.status == Status.TRAINING_IN_PROGRESS and time.monotonic() < deadline:
        time.sleep(0.1)
        found = registry.get("bg", version.version)
    assert found.status == Status.TRAINING_FAILED
    assert "exited without finishing" in found.status_message


@pytest.mark.slow
def test_background_training_completes_and_survives_a_new_registry_object(
    settings: Settings, tiny_dataset_dir: Path
) -> None:
    from ocrprep.models.jobs import TrainRequest, start_training

    request = TrainRequest(datasets=(str(tiny_dataset_dir),), project="bg", params=TINY_PARAMS)
    version = start_training(settings, request, wait=False)
    deadline = time.monotonic() + 120
    status = version.status
    while status == Status.TRAINING_IN_PROGRESS and time.monotonic() < deadline:
        time.sleep(0.5)
        status = Registry.from_settings(settings).get("bg", version.version).status
    found = Registry.from_settings(settings).get("bg", version.version)
    assert found.status == Status.TRAINING_COMPLETED, found.status_message
    assert found.f1_score is not None
    assert (Path(found.path) / "model.txt").is_file()


def test_failed_training_records_the_reason(settings: Settings, tmp_path: Path) -> None:
    from _models_support import make_tiny_dataset

    from ocrprep.errors import DatasetError
    from ocrprep.models.jobs import TrainRequest, start_training

    data = make_tiny_dataset(tmp_path / "one-label", pages=3)
    for path in (data / "bad").iterdir():
        path.unlink()
    (data / "bad").rmdir()
    request = TrainRequest(datasets=(str(data),), project="fails", params=TINY_PARAMS)
    with pytest.raises(DatasetError):
        start_training(settings, request, wait=True)
    found = Registry.from_settings(settings).get("fails", 1)
    assert found.status == Status.TRAINING_FAILED
    assert found.status_message.startswith("DatasetError:")
