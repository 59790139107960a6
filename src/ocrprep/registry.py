"""The model registry: projects, model versions and their statuses, in a database.

Statuses and the changes allowed between them (anything else raises
:class:`~ocrprep.errors.RegistryError`)::

    TRAINING_IN_PROGRESS -> TRAINING_COMPLETED | TRAINING_FAILED
    TRAINING_COMPLETED   -> STARTING | DELETING
    STARTING             -> RUNNING | FAILED
    RUNNING              -> STOPPING
    STOPPING             -> STOPPED | FAILED
    STOPPED, FAILED      -> STARTING | DELETING
    TRAINING_FAILED      -> DELETING

A trainer records its process id, host and process start time, and a heartbeat. Whenever versions
are read, a ``TRAINING_IN_PROGRESS`` row whose trainer process is gone (or, on another host, whose
heartbeat is older than :data:`STALE_AFTER_SECONDS`) is marked ``TRAINING_FAILED`` with the reason
"trainer process exited without finishing", so a crash or a kill never leaves a version stuck.

Model folders live under ``$OCRPREP_HOME/models/<project>/<version>/``. A version's kind
(:data:`CLASSIFIER` or :data:`REGION_DETECTOR`) is read from its folder's ``model.json``
(:func:`model_kind`), so both kinds share projects, versions and start/stop.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ocrprep.errors import MalformedRequest, RegistryError, StorageError
from ocrprep.registry_db import ModelVersionRow, ProjectRow, as_utc, session_scope, utcnow

if TYPE_CHECKING:
    from ocrprep.config import Settings

__all__ = [
    "CLASSIFIER",
    "KINDS",
    "REGION_DETECTOR",
    "STALE_AFTER_SECONDS",
    "TRANSITIONS",
    "ModelVersion",
    "Registry",
    "Status",
    "model_kind",
    "parse_ref",
    "process_alive",
    "process_start_time",
]

#: A training heartbeat older than this (seconds) marks a trainer on another host as dead.
STALE_AFTER_SECONDS = 300

#: The kinds of model a version can hold (``model.json`` ``kind``; a classifier's may omit it).
CLASSIFIER = "classifier"
REGION_DETECTOR = "region-detector"
KINDS = (CLASSIFIER, REGION_DETECTOR)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class Status(StrEnum):
    """A model version's status (the managed service's names)."""

    TRAINING_IN_PROGRESS = "TRAINING_IN_PROGRESS"
    TRAINING_COMPLETED = "TRAINING_COMPLETED"
    TRAINING_FAILED = "TRAINING_FAILED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    DELETING = "DELETING"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.TRAINING_IN_PROGRESS: frozenset({S.TRAINING_COMPLETED, S.TRAINING_FAILED}),
    S.TRAINING_COMPLETED: frozenset({S.STARTING, S.DELETING}),
    S.TRAINING_FAILED: frozenset({S.DELETING}),
    S.STARTING: frozenset({S.RUNNING, S.FAILED}),
    S.RUNNING: frozenset({S.STOPPING}),
    S.STOPPING: frozenset({S.STOPPED, S.FAILED}),
    S.STOPPED: frozenset({S.STARTING, S.DELETING}),
    S.FAILED: frozenset({S.STARTING, S.DELETING}),
    S.DELETING: frozenset(),
}

#: Statuses from which a version holds a usable model folder.
USABLE = frozenset({S.TRAINING_COMPLETED, S.STARTING, S.RUNNING, S.STOPPING, S.STOPPED, S.FAILED})


@dataclass(frozen=True)
class ModelVersion:
    """One model version as the registry knows it."""

    project: str
    version: int
    status: Status
    status_message: str = ""
    path: str = ""
    dataset: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    f1_score: float | None = None
    trainer_pid: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    heartbeat_at: datetime | None = None
    kind: str = ""

    @property
    def name(self) -> str:
        """``project:version``."""
        return f"{self.project}:{self.version}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, with the managed service's names beside ours."""
        return {
            "name": self.name,
            "project": self.project,
            "version": self.version,
            "status": self.status.value,
            "status_message": self.status_message,
            "kind": self.kind,
            "path": self.path,
            "dataset": self.dataset,
            "params": self.params,
            "f1_score": self.f1_score,
            "trainer_pid": self.trainer_pid,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "Status": self.status.value,
            "StatusMessage": self.status_message,
            "EvaluationResult": {"F1Score": self.f1_score, "Summary": {"Name": "evaluation.json"}},
        }


def parse_ref(ref: str) -> tuple[str, int | None]:
    """Split ``project`` or ``project:version`` into its parts.

    Raises
    ------
    MalformedRequest
        If the project name or the version is not valid.

    Examples
    --------
    >>> parse_ref("receipts:3")
    ('receipts', 3)
    >>> parse_ref("receipts")
    ('receipts', None)
    """
    project, sep, version = ref.partition(":")
    check_name(project)
    if not sep:
        return project, None
    if not version.isdigit() or int(version) < 1:
        raise MalformedRequest(f"model reference {ref!r}: the version must be a positive integer")
    return project, int(version)


def model_kind(folder: str | Path) -> str:
    """The kind of the model in ``folder``, from its ``model.json``; ``""`` when it has none yet.

    A ``model.json`` without ``kind`` is a classifier's (classifiers were written without one).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     before = model_kind(folder)
    ...     _ = (Path(folder) / "model.json").write_text('{"kind": "region-detector"}')
    ...     before, model_kind(folder)
    ('', 'region-detector')
    """
    if not folder:
        return ""
    try:
        meta = json.loads((Path(folder) / "model.json").read_text())
    except (OSError, ValueError):
        return ""
    kind = meta.get("kind", CLASSIFIER) if isinstance(meta, dict) else ""
    return str(kind) if isinstance(kind, str) else ""


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid project name, else raise :class:`MalformedRequest`."""
    if not _NAME.match(name or ""):
        raise MalformedRequest(
            f"invalid project name {name!r}: use 1-100 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


class Registry:
    """Projects and model versions stored in the database at ``url``.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL (``sqlite:///...`` or ``postgresql+psycopg://...``).
    models_dir : Path
        Folder under which model versions are written, ``<project>/<version>/``.
    """

    def __init__(self, url: str, models_dir: Path) -> None:
        self.url = url
        self.models_dir = Path(models_dir)

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        """The registry of ``settings`` (``settings.db_url``, models under ``home/models``)."""
        return cls(settings.db_url, Path(settings.home) / "models")

    def version_dir(self, project: str, version: int) -> Path:
        """The folder a version's model is written to."""
        return self.models_dir / check_name(project) / str(version)

    # -- creating versions -------------------------------------------------------------------

    def create_version(
        self, project: str, *, dataset: str = "", params: dict[str, Any] | None = None
    ) -> ModelVersion:
        """Create the project if needed and a new version in ``TRAINING_IN_PROGRESS``.

        The calling process is recorded as the trainer; a trainer in another process calls
        :meth:`claim_trainer` once it runs.
        """
        check_name(project)
        for _attempt in range(5):
            try:
                with session_scope(self.url) as session:
                    project_row = self._project(session, project, create=True)
                    latest = session.scalar(
                        select(func.max(ModelVersionRow.version)).where(
                            ModelVersionRow.project_id == project_row.id
                        )
                    )
                    number = int(latest or 0) + 1
                    row = ModelVersionRow(
                        project_id=project_row.id,
                        version=number,
                        status=S.TRAINING_IN_PROGRESS.value,
                        status_message="training",
                        path=str(self.version_dir(project, number)),
                        dataset=dataset,
                        params=dict(params or {}),
                        heartbeat_at=utcnow(),
                        **_trainer_fields(os.getpid()),
                    )
                    session.add(row)
                    session.flush()
                    return _to_version(project, row)
            except RegistryError:
                continue  # another writer took the same version number; try the next one
        raise RegistryError(f"could not allocate a new version of project {project!r}; try again")

    def register(
        self, project: str, path: Path, *, dataset: str = "", f1_score: float | None = None
    ) -> ModelVersion:
        """Add an existing model folder as a new ``TRAINING_COMPLETED`` version."""
        created = self.create_version(project, dataset=dataset)
        return self._set(
            project,
            created.version,
            S.TRAINING_COMPLETED,
            "registered from an existing model folder",
            path=str(Path(path).resolve()),
            f1_score=f1_score,
        )

    def claim_trainer(self, project: str, version: int, pid: int | None = None) -> None:
        """Record ``pid`` (default: this process) as the trainer of a version in training."""
        with session_scope(self.url) as session:
            row = self._row(session, project, version)
            if row.status != S.TRAINING_IN_PROGRESS:
                raise RegistryError(f"{project}:{version} is {row.status}, not in training")
            for key, value in _trainer_fields(pid or os.getpid()).items():
                setattr(row, key, value)
            row.heartbeat_at = utcnow()

    def heartbeat(self, project: str, version: int, message: str | None = None) -> None:
        """Tell readers the trainer is alive (and optionally what it is doing)."""
        with session_scope(self.url) as session:
            values: dict[str, Any] = {"heartbeat_at": utcnow()}
            if message is not None:
                values["status_message"] = message
            session.execute(
                update(ModelVersionRow)
                .where(ModelVersionRow.id == self._row(session, project, version).id)
                .where(ModelVersionRow.status == S.TRAINING_IN_PROGRESS.value)
                .values(**values)
            )

    def complete_training(
        self, project: str, version: int, *, f1_score: float | None, message: str = ""
    ) -> ModelVersion:
        """``TRAINING_IN_PROGRESS`` -> ``TRAINING_COMPLETED``."""
        return self._set(
            project, version, S.TRAINING_COMPLETED, message or "training completed", f1_score=f1_score
        )

    def fail_training(self, project: str, version: int, reason: str) -> ModelVersion:
        """``TRAINING_IN_PROGRESS`` -> ``TRAINING_FAILED`` with the reason."""
        return self._set(project, version, S.TRAINING_FAILED, reason)

    # -- deploying ---------------------------------------------------------------------------

    def transition(
        self, project: str, version: int, to: Status, message: str = ""
    ) -> ModelVersion:
        """Change a version's status, checking :data:`TRANSITIONS`.

        Raises
        ------
        RegistryError
            If the version does not exist or the change is not allowed from its status.
        """
        return self._set(project, version, Status(to), message)

    def stop(self, project: str, version: int) -> ModelVersion:
        """``RUNNING`` -> ``STOPPING`` -> ``STOPPED`` (nothing stays loaded between calls)."""
        self._set(project, version, S.STOPPING, "stopping")
        return self._set(project, version, S.STOPPED, "stopped")

    def delete(self, project: str, version: int) -> None:
        """Delete a version (not while training, starting or running): row and model folder.

        Raises
        ------
        RegistryError
            If the version is training, starting, running or stopping.
        """
        current = self._set(project, version, S.DELETING, "deleting")
        folder = Path(current.path)
        try:
            if folder.is_dir() and _is_within(folder, self.models_dir):
                shutil.rmtree(folder)
        except OSError as exc:
            raise StorageError(f"cannot delete the model folder {folder}: {exc}") from exc
        with session_scope(self.url) as session:
            session.delete(self._row(session, project, version))

    def delete_project(self, project: str) -> None:
        """Delete a project that has no versions left."""
        with session_scope(self.url) as session:
            row = self._project(session, project, create=False)
            count = session.scalar(
                select(func.count()).where(ModelVersionRow.project_id == row.id)
            )
            if count:
                raise RegistryError(f"project {project!r} still has {count} version(s); delete them first")
            session.delete(row)

    # -- reading -----------------------------------------------------------------------------

    def get(self, project: str, version: int | None = None) -> ModelVersion:
        """A version; with ``version=None`` the newest RUNNING one, else the newest usable one.

        Raises
        ------
        RegistryError
            If the project or version does not exist, or no version is usable.
        """
        with session_scope(self.url) as session:
            self._reap(session)
            if version is not None:
                return _to_version(project, self._row(session, project, version))
            project_row = self._project(session, project, create=False)
            rows = session.scalars(
                select(ModelVersionRow)
                .where(ModelVersionRow.project_id == project_row.id)
                .order_by(ModelVersionRow.version.desc())
            ).all()
        for wanted in ({S.RUNNING}, USABLE):
            for row in rows:
                if row.status in wanted:
                    return _to_version(project, row)
        raise RegistryError(f"project {project!r} has no trained model version yet")

    def list_versions(self, project: str | None = None) -> list[ModelVersion]:
        """Every version (of one project, or all), by project then version."""
        with session_scope(self.url) as session:
            self._reap(session)
            query = select(ProjectRow.name, ModelVersionRow).join(
                ProjectRow, ProjectRow.id == ModelVersionRow.project_id
            )
            if project is not None:
                self._project(session, project, create=False)
                query = query.where(ProjectRow.name == project)
            query = query.order_by(ProjectRow.name, ModelVersionRow.version)
            return [_to_version(name, row) for name, row in session.execute(query).all()]

    def list_projects(self) -> list[str]:
        """Every project name, sorted."""
        with session_scope(self.url) as session:
            return list(session.scalars(select(ProjectRow.name).order_by(ProjectRow.name)).all())

    # -- internals ---------------------------------------------------------------------------

    def _set(self, project: str, version: int, to: Status, message: str, **extra: Any) -> ModelVersion:
        with session_scope(self.url) as session:
            if to == S.TRAINING_IN_PROGRESS or Status(to) not in TRANSITIONS:
                raise RegistryError(f"cannot set {project}:{version} to {to}")
            row = self._row(session, project, version)
            current = Status(row.status)
            if to not in TRANSITIONS[current]:
                allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
                raise RegistryError(
                    f"cannot change {project}:{version} from {current} to {to} "
                    f"(allowed from {current}: {allowed})"
                )
            values = {"status": to.value, "status_message": message, "updated_at": utcnow(), **extra}
            result = session.execute(
                update(ModelVersionRow)
                .where(ModelVersionRow.id == row.id)
                .where(ModelVersionRow.status == current.value)
                .values(**values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise RegistryError(
                    f"{project}:{version} changed status while changing it to {to}; try again"
                )
            session.refresh(row)
            return _to_version(project, row)

    @staticmethod
    def _project(session: Session, name: str, *, create: bool) -> ProjectRow:
        row = session.scalar(select(ProjectRow).where(ProjectRow.name == name))
        if row is None:
            if not create:
                raise RegistryError(f"no project named {name!r}; train one with `ocrprep train`")
            row = ProjectRow(name=check_name(name))
            session.add(row)
            session.flush()
        return row

    def _row(self, session: Session, project: str, version: int) -> ModelVersionRow:
        project_row = self._project(session, project, create=False)
        row = session.scalar(
            select(ModelVersionRow)
            .where(ModelVersionRow.project_id == project_row.id)
            .where(ModelVersionRow.version == version)
        )
        if row is None:
            raise RegistryError(f"project {project!r} has no version {version}")
        return row

    @staticmethod
    def _reap(session: Session) -> None:
        """Mark versions whose trainer died as ``TRAINING_FAILED``."""
        rows = session.scalars(
            select(ModelVersionRow).where(
                ModelVersionRow.status == S.TRAINING_IN_PROGRESS.value
            )
        ).all()
        host = socket.gethostname()
        now = utcnow()
        for row in rows:
            reason = None
            if row.trainer_pid and row.trainer_host == host:
                if not process_alive(row.trainer_pid, row.trainer_start or None):
                    reason = "trainer process exited without finishing"
            else:
                beat = as_utc(row.heartbeat_at or row.created_at)
                if beat is None or now - beat > timedelta(seconds=STALE_AFTER_SECONDS):
                    reason = (
                        "trainer process exited without finishing "
                        f"(no heartbeat for {STALE_AFTER_SECONDS} s)"
                    )
            if reason is not None:
                session.execute(
                    update(ModelVersionRow)
                    .where(ModelVersionRow.id == row.id)
                    .where(ModelVersionRow.status == S.TRAINING_IN_PROGRESS.value)
                    .values(
                        status=S.TRAINING_FAILED.value,
                        status_message=f"{reason} (pid {row.trainer_pid})",
                        updated_at=now,
                    )
                )
        session.flush()


def process_start_time(pid: int) -> str:
    """The start time of process ``pid`` from ``/proc`` (clock ticks), or ``""`` if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""


def process_alive(pid: int, start_time: str | None = None) -> bool:
    """True if process ``pid`` exists, is not a zombie, and (if given) started at ``start_time``."""
    stat_path = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            stat = stat_path.read_text()
        except OSError:
            return False
        fields = stat[stat.rfind(")") + 2 :].split()
        if not fields or fields[0] in ("Z", "X"):
            return False
        return not (start_time and len(fields) > 19 and fields[19] != start_time)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _trainer_fields(pid: int) -> dict[str, Any]:
    return {
        "trainer_pid": pid,
        "trainer_host": socket.gethostname(),
        "trainer_start": process_start_time(pid),
    }


def _to_version(project: str, row: ModelVersionRow) -> ModelVersion:
    return ModelVersion(
        project=project,
        version=row.version,
        status=Status(row.status),
        status_message=row.status_message or "",
        path=row.path or "",
        dataset=row.dataset or "",
        params=dict(row.params or {}),
        f1_score=row.f1_score,
        trainer_pid=row.trainer_pid,
        created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at),
        heartbeat_at=as_utc(row.heartbeat_at),
        kind=model_kind(row.path or ""),
    )


def _is_within(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
