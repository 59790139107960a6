"""Options, defined once and shared by the Python API, the CLI, the HTTP API and the config file.

Precedence, lowest first: the defaults here < the config file (``$OCRPREP_CONFIG``, else
``$OCRPREP_HOME/config.yaml`` when it exists) < environment variables (``OCRPREP_<SECTION>__<FIELD>``,
for example ``OCRPREP_STORAGE__ROOTS='["/data"]'``) < explicit arguments. Unknown keys are
rejected with a "did you mean" hint.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ocrprep.errors import MalformedRequest
from ocrprep.server.options import ServerOptions

__all__ = [
    "ImageLimits",
    "ProcessOptions",
    "Settings",
    "StorageOptions",
    "default_home",
    "load_settings",
]

ALLOWED_FORMATS: tuple[str, ...] = ("JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF")


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageLimits(_Options):
    """Limits applied before an image is decoded."""

    max_pixels: int = Field(80_000_000, gt=0, description="Refuse images with more pixels (bombs).")
    max_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Refuse inputs with more bytes.")
    formats: tuple[str, ...] = Field(ALLOWED_FORMATS, description="Allowed container formats.")


class StorageOptions(_Options):
    """Where ocrprep may read and write."""

    roots: tuple[Path, ...] = Field(
        (), description="Local folders that may be read and written; empty means the working folder."
    )
    allow_http: bool = Field(False, description="Allow http(s):// inputs (off by default).")
    s3_endpoint_url: str | None = Field(None, description="Endpoint of an S3-compatible store.")
    s3_region: str | None = Field(None, description="Region for the S3 client.")


class ProcessOptions(_Options):
    """What ``process`` does with one image."""

    steps: tuple[str, ...] = Field(("validate",), description="Named steps, run in order.")
    output: str = Field("out", description="Folder, file:// or s3:// prefix for changed images.")
    model: str | None = Field(
        None,
        description="Model reference (project[:version] or a folder); overrides the parameter store.",
    )
    model_parameter: str = Field(
        "preprocess/model", description="Parameter that names the active model."
    )
    acceptable_labels: tuple[str, ...] = Field(("good",), description="Top labels that pass.")
    decision: Literal["model", "both", "measurements"] = Field(
        "model",
        description="validate: who decides — the model's top label (the measured report gives "
        "the reasons), both (each must pass), or the measurements alone (no model is loaded).",
    )
    min_confidence: float | None = Field(
        None, ge=0, le=100, description="Minimum label confidence (0-100); default per label."
    )
    page: int = Field(0, ge=0, description="Page of a multi-page TIFF to read.")
    output_format: Literal["png", "jpeg", "tiff"] = Field("png", description="Format of outputs.")
    extract_mode: Literal["document", "regions"] = Field(
        "document", description="extract: the flattened document, or one object per region."
    )
    regions_model: str | None = Field(
        None, description="extract in regions mode: the box detector (project[:version] or folder)."
    )
    enhance_mode: Literal["auto", "always", "off"] = Field(
        "auto", description="enhance: choose operations per image, apply all, or do nothing."
    )
    enhance_profile: Literal["generic", "tesseract", "rapidocr"] = Field(
        "generic",
        description="enhance: settings tailored to the OCR engine that will read the image "
        "(generic suits both); `ocrprep ocr --engine` sets it to its engine.",
    )


class Settings(_Options):
    """Every setting, by section."""

    home: Path = Field(default_factory=lambda: default_home(), description="State folder.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the registry; default SQLite under home."
    )
    limits: ImageLimits = Field(default_factory=ImageLimits)
    storage: StorageOptions = Field(default_factory=StorageOptions)
    process: ProcessOptions = Field(default_factory=ProcessOptions)
    server: ServerOptions = Field(default_factory=ServerOptions)

    @property
    def db_url(self) -> str:
        """The registry's database URL, defaulting to SQLite under ``home``."""
        return self.database_url or f"sqlite:///{self.home / 'registry.sqlite3'}"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with explicit overrides (dotted keys like ``process.output`` allowed)."""
        data = self.model_dump()
        for key, value in overrides.items():
            if value is None:
                continue
            _set_dotted(data, key.split("."), value, Settings)
        return _validate(data, "arguments")


def default_home() -> Path:
    """``$OCRPREP_HOME`` or ``~/.ocrprep``."""
    return Path(os.environ.get("OCRPREP_HOME") or Path.home() / ".ocrprep")


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, the config file, the environment and ``overrides``, in that order.

    Raises
    ------
    MalformedRequest
        If a key is unknown (with a "did you mean" hint) or a value is invalid.
    """
    data: dict[str, Any] = {}
    path = config_file or _config_path()
    if path is not None:
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise MalformedRequest(f"cannot read config file {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise MalformedRequest(f"config file {path} must hold a mapping of sections")
        _check_keys(loaded, Settings, str(path))
        data.update(loaded)
    for name, raw in os.environ.items():
        if not name.startswith("OCRPREP_") or name in ("OCRPREP_HOME", "OCRPREP_CONFIG"):
            continue
        keys = name[len("OCRPREP_") :].lower().split("__")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        _set_dotted(data, keys, value, Settings, source=f"environment variable {name}")
    settings = _validate(data, "configuration")
    return settings.with_overrides(**overrides) if overrides else settings


def _config_path() -> Path | None:
    explicit = os.environ.get("OCRPREP_CONFIG")
    if explicit:
        return Path(explicit)
    candidate = default_home() / "config.yaml"
    return candidate if candidate.is_file() else None


def _set_dotted(
    data: dict[str, Any], keys: list[str], value: Any, model: type[BaseModel], source: str = ""
) -> None:
    where = source or ".".join(keys)
    node = data
    current: type[BaseModel] | None = model
    for i, key in enumerate(keys):
        if current is not None:
            _check_keys({key: None}, current, where)
            annotation = current.model_fields[key].annotation
            current = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
        if i == len(keys) - 1:
            node[key] = value
        else:
            child = node.get(key)
            if isinstance(child, BaseModel):
                child = child.model_dump()
            node[key] = dict(child or {})
            node = node[key]


def _check_keys(data: dict[str, Any], model: type[BaseModel], where: str) -> None:
    known = list(model.model_fields)
    for key, value in data.items():
        if key not in known:
            hint = difflib.get_close_matches(key, known, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else f"; known keys: {', '.join(known)}"
            raise MalformedRequest(f"unknown option {key!r} in {where}{suggestion}")
        annotation = model.model_fields[key].annotation
        if isinstance(value, dict) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _check_keys(value, annotation, where)


def _validate(data: dict[str, Any], where: str) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise MalformedRequest(f"invalid {where}: {loc}: {first['msg']}") from exc
