"""Training jobs tracked by the registry: in this process (``--wait``) or in a background process.

A job creates a version in ``TRAINING_IN_PROGRESS``, trains with
:func:`ocrprep.models.training.train_model` into the version's folder, and ends in
``TRAINING_COMPLETED`` (with the macro F1) or ``TRAINING_FAILED`` (with the reason). A background
job runs ``python -m ocrprep.models.jobs`` in its own session, records its process id, and beats
a heartbeat; if it is killed, the next read of the registry marks the version ``TRAINING_FAILED``
("trainer process exited without finishing"), so no version stays in progress.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrprep.datasets import Dataset, load_dataset, merge_datasets
from ocrprep.errors import DatasetError, OcrprepError, RegistryError, StorageError
from ocrprep.models.training import Progress, TrainingParams, train_model
from ocrprep.registry import ModelVersion, Registry

if TYPE_CHECKING:
    from ocrprep.config import Settings

__all__ = ["TrainRequest", "load_training_data", "run_job", "start_training"]

HEARTBEAT_SECONDS = 10.0


@dataclass(frozen=True)
class TrainRequest:
    """What to train: dataset sources (folders, S3 prefixes, manifests or saved dataset names)."""

    datasets: tuple[str, ...]
    project: str
    test_datasets: tuple[str, ...] = ()
    format: str = "auto"
    attribute: str | None = None
    allow_missing: bool = False
    params: TrainingParams = TrainingParams()

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> TrainRequest:
        data = json.loads(text)
        data["datasets"] = tuple(data["datasets"])
        data["test_datasets"] = tuple(data["test_datasets"])
        data["params"] = TrainingParams(**data["params"])
        return cls(**data)


def dataset_store(settings: Settings) -> Path:
    """Folder of saved datasets (``ocrprep datasets import --name``)."""
    return Path(settings.home) / "datasets"


def resolve_source(settings: Settings, source: str) -> str:
    """A saved dataset name becomes its manifest path; anything else is returned as is."""
    if "/" not in source and "\\" not in source and not Path(source).exists():
        saved = dataset_store(settings) / f"{source}.manifest"
        if saved.is_file():
            return str(saved)
    return source


def load_training_data(settings: Settings, request: TrainRequest) -> tuple[Dataset, Dataset | None]:
    """The training dataset and the explicit test dataset (or None), checked.

    Raises
    ------
    DatasetError
        Malformed sources or missing images.
    """

    def load(sources: tuple[str, ...]) -> Dataset:
        parts = [
            load_dataset(
                resolve_source(settings, s), format=request.format, attribute=request.attribute,
                allow_missing=request.allow_missing, settings=settings,
            )
            for s in sources
        ]
        return parts[0] if len(parts) == 1 else merge_datasets(parts)

    if not request.datasets:
        raise DatasetError("no training dataset given")
    train = load(request.datasets)
    test = load(request.test_datasets) if request.test_datasets else None
    return train, test


def run_job(
    settings: Settings,
    request: TrainRequest,
    version: ModelVersion,
    *,
    progress: Progress | None = None,
    data: tuple[Dataset, Dataset | None] | None = None,
) -> ModelVersion:
    """Train ``version`` (already ``TRAINING_IN_PROGRESS``) in this process; record the outcome.

    Raises
    ------
    OcrprepError
        The training failure, after the version was marked ``TRAINING_FAILED``.
    """
    registry = Registry.from_settings(settings)
    registry.claim_trainer(version.project, version.version)
    stop = threading.Event()
    state = {"message": "training"}

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                registry.heartbeat(version.project, version.version, state["message"])
            except OcrprepError:
                pass  # a missed beat is harmless; the next one retries

    def report(stage: str, done: int, total: int) -> None:
        state["message"] = f"training: {stage} {done}/{total}"
        if progress:
            progress(stage, done, total)

    thread = threading.Thread(target=beat, name="ocrprep-heartbeat", daemon=True)
    thread.start()
    try:
        train, test = data if data is not None else load_training_data(settings, request)
        result = train_model(
            train, Path(version.path), params=request.params, test=test, name=version.name,
            settings=settings, cache_dir=Path(settings.home) / "cache" / "features", progress=report,
        )
    except BaseException as exc:  # noqa: BLE001 - every failure must be recorded, even a signal
        stop.set()
        reason = _reason(exc)
        try:
            registry.fail_training(version.project, version.version, reason)
        except OcrprepError:
            pass  # the reaper marks it failed once this process is gone
        raise
    stop.set()
    return registry.complete_training(
        version.project, version.version, f1_score=result.macro_f1,
        message=f"training completed: macro F1 {result.macro_f1:.4f} on "
        f"{result.evaluation['num_test_images']} test images",
    )


def start_training(
    settings: Settings, request: TrainRequest, *, wait: bool = True, progress: Progress | None = None
) -> ModelVersion:
    """Check the data, create a version and train it (here, or in a background process).

    Returns
    -------
    ModelVersion
        With ``wait``: the finished version. Without: the version in ``TRAINING_IN_PROGRESS``.

    Raises
    ------
    DatasetError
        Before any version is created, when the data is malformed.
    """
    data = load_training_data(settings, request)  # fail fast, before a version exists
    registry = Registry.from_settings(settings)
    sources = " + ".join(request.datasets)
    if request.test_datasets:
        sources += " (test: " + " + ".join(request.test_datasets) + ")"
    version = registry.create_version(
        request.project, dataset=sources, params=asdict(request.params)
    )
    if wait:
        return run_job(settings, request, version, progress=progress, data=data)
    folder = Path(version.path)
    log_path = folder.parent / f"{version.version}.train.log"
    env = dict(os.environ)
    env["OCRPREP_HOME"] = str(settings.home)
    env["OCRPREP_TRAIN_SETTINGS"] = settings.model_dump_json()
    command = [sys.executable, "-m", "ocrprep.models.jobs", "--project", version.project,
               "--version", str(version.version), "--request", request.to_json()]
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        pid = _spawn_detached(command, log_path, env)
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        registry.fail_training(version.project, version.version, f"cannot start the trainer: {exc}")
        raise StorageError(f"cannot start the background trainer: {exc}") from exc
    try:
        registry.claim_trainer(version.project, version.version, pid)
    except RegistryError:
        pass  # the trainer already finished (or failed) and recorded it
    return registry.get(version.project, version.version)


_LAUNCHER = """
import subprocess, sys
with open(sys.argv[1], "ab") as log:
    child = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
print(child.pid, flush=True)
"""


def _spawn_detached(command: list[str], log_path: Path, env: dict[str, str]) -> int:
    """Start ``command`` as a grandchild in its own session (not our child: never a zombie here).

    Returns its process id.
    """
    done = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(log_path), *command],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OcrprepError):
        return f"{type(exc).__name__}: {exc.message}"
    if isinstance(exc, KeyboardInterrupt):
        return "training interrupted"
    if isinstance(exc, SystemExit):
        return f"trainer stopped (exit {exc.code})"
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return f"unexpected error: {last}"


def _main(argv: list[str] | None = None) -> int:
    from ocrprep.config import Settings

    parser = argparse.ArgumentParser(description="ocrprep background trainer (internal)")
    parser.add_argument("--project", required=True)
    parser.add_argument("--version", type=int, required=True)
    parser.add_argument("--request", required=True)
    args = parser.parse_args(argv)

    def on_signal(signum: int, _frame: Any) -> None:
        raise SystemExit(f"signal {signal.Signals(signum).name}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    settings = Settings.model_validate_json(os.environ["OCRPREP_TRAIN_SETTINGS"])
    request = TrainRequest.from_json(args.request)
    version = Registry.from_settings(settings).get(args.project, args.version)
    try:
        run_job(settings, request, version,
                progress=lambda stage, done, total: print(f"{stage} {done}/{total}", flush=True))
    except (OcrprepError, SystemExit, KeyboardInterrupt) as exc:
        print(f"training failed: {_reason(exc)}", file=sys.stderr, flush=True)
        return 1
    print("training completed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
