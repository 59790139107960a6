"""Named parameters: the role of a parameter store (for example ``preprocess/model``).

Parameters live in the registry's database, so every process that shares the database sees a
change on its next read; ``process`` reads the active model's parameter on every call, so a change
takes effect without a restart. Each write bumps the parameter's version.

Names are 1-500 characters of letters, digits and ``_ . - /`` (``preprocess/model``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ocrprep.errors import MalformedRequest, RegistryError
from ocrprep.registry_db import ParameterRow, as_utc, session_scope, utcnow

if TYPE_CHECKING:
    from ocrprep.config import Settings

__all__ = [
    "Parameter",
    "ParameterStore",
    "check_parameter_name",
    "delete_parameter",
    "get_parameter",
    "list_parameters",
    "set_parameter",
]

_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,500}$")


@dataclass(frozen=True)
class Parameter:
    """A parameter's value, its version (1 on creation, +1 per change) and last change time."""

    name: str
    value: str
    version: int
    updated_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "version": self.version,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "Name": self.name,
            "Value": self.value,
            "Version": self.version,
        }


def check_parameter_name(name: str) -> str:
    """Return ``name`` if valid, else raise :class:`MalformedRequest`.

    Examples
    --------
    >>> check_parameter_name("preprocess/model")
    'preprocess/model'
    """
    if not _NAME.match(name or ""):
        raise MalformedRequest(
            f"invalid parameter name {name!r}: use letters, digits and '_', '.', '-', '/'"
        )
    return name


class ParameterStore:
    """The parameter store in the database at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url

    @classmethod
    def from_settings(cls, settings: Settings) -> ParameterStore:
        return cls(settings.db_url)

    def get(self, name: str) -> Parameter:
        """The parameter ``name``.

        Raises
        ------
        RegistryError
            If no parameter has that name.
        """
        found = self.find(name)
        if found is None:
            raise RegistryError(f"no parameter named {name!r}; set it with `ocrprep params set`")
        return found

    def find(self, name: str) -> Parameter | None:
        """The parameter ``name``, or None if it is not set."""
        check_parameter_name(name)
        with session_scope(self.url) as session:
            row = session.get(ParameterRow, name)
            return _to_parameter(row) if row is not None else None

    def set(self, name: str, value: str) -> Parameter:
        """Create or change a parameter; returns it with its new version."""
        check_parameter_name(name)
        if not isinstance(value, str):
            raise MalformedRequest(f"parameter {name!r}: the value must be text")
        for _attempt in range(5):
            try:
                with session_scope(self.url) as session:
                    row = session.get(ParameterRow, name, with_for_update=True)
                    if row is None:
                        row = ParameterRow(name=name, value=value, version=1, updated_at=utcnow())
                        session.add(row)
                    else:
                        row.value = value
                        row.version = row.version + 1
                        row.updated_at = utcnow()
                    session.flush()
                    return _to_parameter(row)
            except RegistryError:
                continue  # a concurrent first write of the same name; read it and update
        raise RegistryError(f"could not write parameter {name!r}; try again")

    def delete(self, name: str) -> None:
        """Remove a parameter.

        Raises
        ------
        RegistryError
            If no parameter has that name.
        """
        check_parameter_name(name)
        with session_scope(self.url) as session:
            row = session.get(ParameterRow, name)
            if row is None:
                raise RegistryError(f"no parameter named {name!r}")
            session.delete(row)

    def list(self, prefix: str = "") -> list[Parameter]:
        """Every parameter whose name starts with ``prefix``, sorted by name."""
        with session_scope(self.url) as session:
            query = select(ParameterRow).order_by(ParameterRow.name)
            if prefix:
                query = query.where(ParameterRow.name.startswith(prefix, autoescape=True))
            return [_to_parameter(row) for row in session.scalars(query).all()]


def get_parameter(settings: Settings, name: str) -> Parameter:
    """The parameter ``name`` from the store of ``settings``; raises RegistryError if unset."""
    return ParameterStore.from_settings(settings).get(name)


def set_parameter(settings: Settings, name: str, value: str) -> Parameter:
    """Set the parameter ``name`` in the store of ``settings``."""
    return ParameterStore.from_settings(settings).set(name, value)


def delete_parameter(settings: Settings, name: str) -> None:
    """Delete the parameter ``name`` from the store of ``settings``."""
    ParameterStore.from_settings(settings).delete(name)


def list_parameters(settings: Settings, prefix: str = "") -> list[Parameter]:
    """Parameters of ``settings``'s store whose names start with ``prefix``."""
    return ParameterStore.from_settings(settings).list(prefix)


def _to_parameter(row: ParameterRow) -> Parameter:
    return Parameter(name=row.name, value=row.value, version=row.version, updated_at=as_utc(row.updated_at))
