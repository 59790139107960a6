"""The server's tables (labelling jobs, workers, annotations; API keys) in the registry's database.

The tables live in ``settings.db_url`` beside the model registry, under their own ``MetaData`` and
names prefixed ``labelling_`` and ``auth_``. Engines and sessions come from
:mod:`ocrprep.registry_db`, which translates database errors into ``StorageError`` /
``RegistryError``; this module only adds its tables and turns rows into the pure values of
:mod:`ocrprep.server.labelling` and :mod:`ocrprep.server.auth`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ocrprep.errors import MalformedRequest, StorageError
from ocrprep.registry_db import get_engine, session_scope, utcnow
from ocrprep.server.auth import Credential, new_credential
from ocrprep.server.labelling import Annotation, Box, Job

__all__ = ["ApiKeyInfo", "JobInfo", "LabellingStore", "ServerBase"]


class ServerBase(DeclarativeBase):
    """Declarative base of the server's tables (its own MetaData)."""


class ApiKeyRow(ServerBase):
    __tablename__ = "auth_api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    scopes: Mapped[str] = mapped_column(String(100), nullable=False)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    digest: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class JobRow(ServerBase):
    __tablename__ = "labelling_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(127), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    labels: Mapped[list] = mapped_column(JSON, nullable=False)
    workers_per_image: Mapped[int] = mapped_column(Integer, nullable=False)
    min_agreement: Mapped[float] = mapped_column(Float, nullable=False)
    attribute: Mapped[str] = mapped_column(String(127), default="")
    source: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ImageRow(ServerBase):
    __tablename__ = "labelling_images"
    __table_args__ = (UniqueConstraint("job_id", "idx", name="uq_labelling_image"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("labelling_jobs.id", ondelete="CASCADE"))
    idx: Mapped[int] = mapped_column(Integer, nullable=False)
    uri: Mapped[str] = mapped_column(Text, nullable=False)


class WorkerRow(ServerBase):
    __tablename__ = "labelling_workers"
    __table_args__ = (UniqueConstraint("job_id", "name", name="uq_labelling_worker"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("labelling_jobs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    digest: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AnnotationRow(ServerBase):
    __tablename__ = "labelling_annotations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("labelling_jobs.id", ondelete="CASCADE"))
    image_idx: Mapped[int] = mapped_column(Integer, nullable=False)
    worker: Mapped[str] = mapped_column(String(200), nullable=False)
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    boxes: Mapped[list] = mapped_column(JSON, default=list)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LeaseRow(ServerBase):
    __tablename__ = "labelling_leases"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("labelling_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    image_idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker: Mapped[str] = mapped_column(String(200), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ResolutionRow(ServerBase):
    __tablename__ = "labelling_resolutions"

    job_id: Mapped[int] = mapped_column(
        ForeignKey("labelling_jobs.id", ondelete="CASCADE"), primary_key=True
    )
    image_idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    resolved_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class JobInfo:
    """A stored job: its id and the pure :class:`~ocrprep.server.labelling.Job`."""

    id: int
    job: Job
    source: str
    created_by: str
    created_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        job = self.job
        return {
            "id": self.id,
            "name": job.name,
            "kind": job.kind,
            "labels": list(job.labels),
            "workers_per_image": job.workers_per_image,
            "min_agreement": job.min_agreement,
            "attribute": job.label_attribute,
            "images": len(job.images),
            "source": self.source,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }


@dataclass(frozen=True)
class ApiKeyInfo:
    """An API key as listed: never the secret."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime | None
    revoked_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "scopes": list(self.scopes),
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoked": self.revoked_at is not None,
        }


_CREATED: set[str] = set()
_CREATED_LOCK = threading.Lock()


def _ensure_tables(url: str) -> None:
    with _CREATED_LOCK:
        if url in _CREATED:
            return
        engine, _ = get_engine(url)
        try:
            ServerBase.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot create the server's tables: {exc}") from exc
        _CREATED.add(url)


class LabellingStore:
    """Labelling jobs, workers, annotations and API keys in the database at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        _ensure_tables(url)

    # -- API keys and worker tokens (the CredentialStore protocol) -----------------------------

    def create_key(self, name: str, scopes: Sequence[str]) -> tuple[str, ApiKeyInfo]:
        """Create an API key; return the token (shown once) and its listing."""
        chosen = tuple(sorted(set(scopes)))
        if not chosen or any(s not in ("read", "admin") for s in chosen):
            raise MalformedRequest(f"scopes must be read and/or admin, not {list(scopes)}")
        if not name.strip():
            raise MalformedRequest("an API key needs a name")
        token, key_id, salt, digest = new_credential("key")
        with session_scope(self.url) as session:
            row = ApiKeyRow(id=key_id, name=name, scopes=",".join(chosen), salt=salt, digest=digest)
            session.add(row)
            session.flush()
            return token, _key_info(row)

    def list_keys(self) -> list[ApiKeyInfo]:
        with session_scope(self.url) as session:
            rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at)).all()
            return [_key_info(row) for row in rows]

    def revoke_key(self, key_id: str) -> ApiKeyInfo:
        """Revoke an API key (idempotent). Raises MalformedRequest for an unknown id."""
        with session_scope(self.url) as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                raise _not_found(f"no API key with id {key_id!r}")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            session.flush()
            return _key_info(row)

    def find_credential(self, credential_id: str) -> Credential | None:
        with session_scope(self.url) as session:
            key = session.get(ApiKeyRow, credential_id)
            if key is not None:
                return Credential(
                    id=key.id, kind="key", name=key.name, salt=key.salt, digest=key.digest,
                    scopes=frozenset(key.scopes.split(",")), revoked=key.revoked_at is not None,
                )
            worker = session.get(WorkerRow, credential_id)
            if worker is not None:
                return Credential(
                    id=worker.id, kind="worker", name=worker.name, salt=worker.salt,
                    digest=worker.digest, job_id=worker.job_id,
                    revoked=worker.revoked_at is not None,
                )
        return None

    # -- jobs ----------------------------------------------------------------------------------

    def create_job(self, job: Job, *, source: str = "", created_by: str = "") -> JobInfo:
        with session_scope(self.url) as session:
            if session.scalar(select(JobRow.id).where(JobRow.name == job.name)) is not None:
                from ocrprep.errors import RegistryError

                raise RegistryError(f"a labelling job named {job.name!r} already exists")
            row = JobRow(
                name=job.name, kind=job.kind, labels=list(job.labels),
                workers_per_image=job.workers_per_image, min_agreement=job.min_agreement,
                attribute=job.attribute, source=source, created_by=created_by,
            )
            session.add(row)
            session.flush()
            session.add_all(ImageRow(job_id=row.id, idx=i, uri=uri) for i, uri in enumerate(job.images))
            session.flush()
            return JobInfo(row.id, job, source, created_by, row.created_at)

    def get_job(self, job_id: int) -> JobInfo:
        with session_scope(self.url) as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise _not_found(f"no labelling job with id {job_id}")
            uris = session.scalars(
                select(ImageRow.uri).where(ImageRow.job_id == job_id).order_by(ImageRow.idx)
            ).all()
            return _job_info(row, tuple(uris))

    def list_jobs(self) -> list[tuple[JobInfo, int, int]]:
        """Every job with its number of answers (one per image and worker) and of answered images."""
        with session_scope(self.url) as session:
            rows = session.scalars(select(JobRow).order_by(JobRow.id)).all()
            out = []
            for row in rows:
                uris = session.scalars(
                    select(ImageRow.uri).where(ImageRow.job_id == row.id).order_by(ImageRow.idx)
                ).all()
                pairs = session.execute(
                    select(AnnotationRow.image_idx, AnnotationRow.worker)
                    .where(AnnotationRow.job_id == row.id)
                    .distinct()
                ).all()
                out.append((_job_info(row, tuple(uris)), len(pairs), len({i for i, _ in pairs})))
            return out

    def delete_job(self, job_id: int) -> None:
        with session_scope(self.url) as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise _not_found(f"no labelling job with id {job_id}")
            for table in (AnnotationRow, LeaseRow, ResolutionRow, ImageRow, WorkerRow):
                session.execute(delete(table).where(table.job_id == job_id))
            session.delete(row)

    # -- workers -------------------------------------------------------------------------------

    def add_worker(self, job_id: int, name: str) -> str:
        """Create a worker of a job and return their token (shown once)."""
        if not name.strip() or len(name) > 200:
            raise MalformedRequest("a worker needs a name of 1-200 characters")
        self.get_job(job_id)
        token, worker_id, salt, digest = new_credential("worker")
        with session_scope(self.url) as session:
            session.add(WorkerRow(id=worker_id, job_id=job_id, name=name, salt=salt, digest=digest))
        return token

    def list_workers(self, job_id: int) -> list[dict[str, Any]]:
        with session_scope(self.url) as session:
            rows = session.scalars(
                select(WorkerRow).where(WorkerRow.job_id == job_id).order_by(WorkerRow.name)
            ).all()
            return [
                {"id": r.id, "name": r.name, "revoked": r.revoked_at is not None} for r in rows
            ]

    # -- annotations ---------------------------------------------------------------------------

    def annotate(self, job_id: int, annotation: Annotation) -> None:
        """Record an answer (a later answer by the same worker replaces the earlier one)."""
        size = annotation.image_size
        with session_scope(self.url) as session:
            session.add(
                AnnotationRow(
                    job_id=job_id, image_idx=annotation.image, worker=annotation.worker,
                    label=annotation.label, boxes=[b.to_dict() for b in annotation.boxes],
                    skipped=annotation.skipped, width=size[0] if size else None,
                    height=size[1] if size else None,
                )
            )
            session.execute(
                delete(LeaseRow)
                .where(LeaseRow.job_id == job_id)
                .where(LeaseRow.image_idx == annotation.image)
                .where(LeaseRow.worker == annotation.worker)
            )

    def undo(self, job_id: int, worker: str) -> int | None:
        """Remove the worker's latest answer; return its image index (None if nothing to undo)."""
        with session_scope(self.url) as session:
            row = session.scalars(
                select(AnnotationRow)
                .where(AnnotationRow.job_id == job_id)
                .where(AnnotationRow.worker == worker)
                .order_by(AnnotationRow.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            index = row.image_idx
            session.delete(row)
            return index

    def annotations(self, job_id: int, worker: str | None = None) -> list[Annotation]:
        """Every answer of a job (or of one worker), oldest first."""
        columns = (AnnotationRow.image_idx, AnnotationRow.worker, AnnotationRow.label,
                   AnnotationRow.boxes, AnnotationRow.skipped, AnnotationRow.width,
                   AnnotationRow.height, AnnotationRow.created_at)
        with session_scope(self.url) as session:
            query = select(*columns).where(AnnotationRow.job_id == job_id)
            if worker is not None:
                query = query.where(AnnotationRow.worker == worker)
            rows = session.execute(query.order_by(AnnotationRow.id)).all()  # tuples: no ORM cost
            return [_annotation(*row) for row in rows]

    def answer_states(self, job_id: int) -> list[tuple[int, str, bool]]:
        """(image, worker, skipped) of every answer, oldest first: what assignment needs."""
        with session_scope(self.url) as session:
            rows = session.execute(
                select(AnnotationRow.image_idx, AnnotationRow.worker, AnnotationRow.skipped)
                .where(AnnotationRow.job_id == job_id)
                .order_by(AnnotationRow.id)
            ).all()
            return [(int(i), str(w), bool(k)) for i, w, k in rows]

    # -- leases ----------------------------------------------------------------------------------

    def leases(self, job_id: int) -> dict[int, set[str]]:
        """Unexpired leases: image index -> workers holding one."""
        now = utcnow()
        with session_scope(self.url) as session:
            rows = session.scalars(select(LeaseRow).where(LeaseRow.job_id == job_id)).all()
            out: dict[int, set[str]] = {}
            for row in rows:
                expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(
                    tzinfo=now.tzinfo
                )
                if expires > now:
                    out.setdefault(row.image_idx, set()).add(row.worker)
            return out

    def lease(self, job_id: int, worker: str, images: Sequence[int], seconds: float) -> None:
        """Hold ``images`` for ``worker`` for ``seconds`` (renewing existing leases)."""
        expires = utcnow() + timedelta(seconds=seconds)
        with session_scope(self.url) as session:
            for index in images:
                row = session.get(LeaseRow, (job_id, index, worker))
                if row is None:
                    session.add(LeaseRow(job_id=job_id, image_idx=index, worker=worker,
                                         expires_at=expires))
                else:
                    row.expires_at = expires

    # -- review --------------------------------------------------------------------------------

    def resolve(self, job_id: int, index: int, label: str, by: str) -> None:
        with session_scope(self.url) as session:
            row = session.get(ResolutionRow, (job_id, index))
            if row is None:
                session.add(ResolutionRow(job_id=job_id, image_idx=index, label=label, resolved_by=by))
            else:
                row.label, row.resolved_by, row.created_at = label, by, utcnow()

    def resolutions(self, job_id: int) -> dict[int, str]:
        with session_scope(self.url) as session:
            rows = session.scalars(select(ResolutionRow).where(ResolutionRow.job_id == job_id)).all()
            return {row.image_idx: row.label for row in rows}


def _not_found(message: str) -> MalformedRequest:
    from ocrprep.errors import ObjectNotFound

    return ObjectNotFound(message)


def _key_info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.name, tuple(row.scopes.split(",")), row.created_at, row.revoked_at)


def _job_info(row: JobRow, uris: tuple[str, ...]) -> JobInfo:
    job = Job(
        name=row.name, images=uris, labels=tuple(row.labels), kind=row.kind,  # type: ignore[arg-type]
        workers_per_image=row.workers_per_image, min_agreement=row.min_agreement,
        attribute=row.attribute or "", created_at=row.created_at,
    )
    return JobInfo(row.id, job, row.source or "", row.created_by or "", row.created_at)


def _annotation(
    image: int, worker: str, label: str | None, boxes: list[dict[str, Any]] | None, skipped: bool,
    width: int | None, height: int | None, created_at: datetime | None,
) -> Annotation:
    parsed = tuple(
        Box(str(b["label"]), float(b["left"]), float(b["top"]), float(b["width"]), float(b["height"]))
        for b in (boxes or [])
    )
    size = (width, height) if width and height else None
    return Annotation(
        image=image, worker=worker, label=label, boxes=parsed, skipped=bool(skipped),
        image_size=size, created_at=created_at,
    )
