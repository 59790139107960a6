"""The registry's database: SQLAlchemy 2 tables, one cached engine per URL, error translation.

The model registry (:mod:`ocrprep.registry`) and the parameter store (:mod:`ocrprep.params`) share
one database: SQLite under ``$OCRPREP_HOME`` by default, PostgreSQL through a URL such as
``postgresql+psycopg://user@host:5432/db``. This module is the only one that touches SQLAlchemy's
engine; it turns SQLAlchemy errors into :class:`~ocrprep.errors.StorageError` (cannot reach or write
the database) or :class:`~ocrprep.errors.RegistryError` (a constraint says no).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from ocrprep.errors import MalformedRequest, RegistryError, StorageError

__all__ = [
    "Base",
    "as_utc",
    "dispose_engines",
    "ModelVersionRow",
    "ParameterRow",
    "ProjectRow",
    "get_engine",
    "session_scope",
    "utcnow",
]


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """``value`` as an aware UTC time (SQLite returns naive times that were stored in UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the registry tables."""


class ProjectRow(Base):
    """A project: a named family of model versions."""

    __tablename__ = "ocrprep_projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelVersionRow(Base):
    """One trained (or training) model version of a project, with its status."""

    __tablename__ = "ocrprep_model_versions"
    __table_args__ = (UniqueConstraint("project_id", "version", name="uq_project_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("ocrprep_projects.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(40), nullable=False)
    status_message: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(Text, default="")
    dataset: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    f1_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    trainer_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trainer_host: Mapped[str] = mapped_column(String(255), default="")
    trainer_start: Mapped[str] = mapped_column(String(40), default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ParameterRow(Base):
    """A named parameter (the parameter store), versioned on every change."""

    __tablename__ = "ocrprep_parameters"

    name: Mapped[str] = mapped_column(String(500), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


_ENGINES: dict[str, tuple[Engine, sessionmaker[Session]]] = {}
_LOCK = threading.Lock()


def get_engine(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and session factory for ``url``, created once per process, tables included.

    Raises
    ------
    MalformedRequest
        If the URL cannot be parsed or names a driver that is not installed.
    StorageError
        If the database cannot be reached or its tables cannot be created.
    """
    with _LOCK:
        cached = _ENGINES.get(url)
        if cached is not None:
            return cached
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise MalformedRequest(f"invalid database URL {url!r}: {exc}") from exc
        kwargs: dict[str, object] = {"future": True}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                try:
                    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageError(f"cannot create the folder of {database}: {exc}") from exc
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        try:
            engine = create_engine(url, **kwargs)  # type: ignore[arg-type]
        except (NoSuchModuleError, ModuleNotFoundError) as exc:
            raise MalformedRequest(
                f"database URL {parsed.render_as_string(hide_password=True)} needs a driver that is "
                f"not installed ({exc}); for PostgreSQL install ocrprep[postgres]"
            ) from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        try:
            Base.metadata.create_all(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StorageError(
                f"cannot open the registry database {parsed.render_as_string(hide_password=True)}: "
                f"{_short(exc)}"
            ) from exc
        factory = sessionmaker(engine, expire_on_commit=False)
        _ENGINES[url] = (engine, factory)
        return engine, factory


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def dispose_engines() -> None:
    """Close every cached engine (tests and forked workers call this)."""
    with _LOCK:
        for engine, _ in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error.

    Raises
    ------
    RegistryError
        If a constraint rejects the change (for example a duplicate name).
    StorageError
        If the database fails.
    """
    _, factory = get_engine(url)
    session = factory()
    try:
        yield session
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise RegistryError(f"the registry refused the change: {_short(exc)}") from exc
    except SQLAlchemyError as exc:
        session.rollback()
        raise StorageError(f"the registry database failed: {_short(exc)}") from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _short(exc: SQLAlchemyError) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
