"""The core functions the server calls, gathered in one value so tests can swap in fakes.

Each field is a plain callable; :func:`default_services` wires the real ones (imported on first
use). Tests build ``dataclasses.replace(default_services(), process=fake)`` and hand it to
:func:`ocrprep.server.create_app` — no monkeypatching.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ocrprep.config import Settings

__all__ = ["Services", "UploadSpool", "default_services", "thumbnail_of", "warm_up"]


def _process(uri: str, settings: Settings, overrides: dict[str, Any]) -> dict[str, Any]:
    from ocrprep.pipeline import process

    return process(uri, settings, **overrides).to_dict()


def _assess(source: bytes | str, settings: Settings) -> dict[str, Any]:
    from ocrprep.api import assess_source

    return assess_source(source, settings=settings, page=settings.process.page).to_dict()


def _detect_labels(
    source: bytes | str, settings: Settings, model: str | None, min_confidence: float | None
) -> dict[str, Any]:
    from ocrprep import imageio
    from ocrprep.models import resolve_model

    data = source if isinstance(source, bytes) else _read(source, settings)
    loaded = resolve_model(settings, model)
    image = imageio.decode_image(data, page=settings.process.page, limits=settings.limits)
    labels = loaded.detect_labels(image, min_confidence=min_confidence)
    return {
        "Labels": [label.to_dict() for label in labels],
        "model": getattr(loaded, "name", None) or (model or ""),
    }


def _detect_regions(
    source: bytes | str, settings: Settings, model: str, min_confidence: float | None
) -> dict[str, Any]:
    from ocrprep import imageio
    from ocrprep.models.runtime import resolve_detector
    from ocrprep.regions.detector import detect_regions

    data = source if isinstance(source, bytes) else _read(source, settings)
    detector = resolve_detector(settings, model)
    image = imageio.decode_image(data, page=settings.process.page, limits=settings.limits)
    return {
        "CustomLabels": detect_regions(image, detector, min_confidence=min_confidence),
        "model": detector.name or model,
    }


def _read(uri: str, settings: Settings) -> bytes:
    from ocrprep import storage

    return storage.read_bytes(uri, settings.storage, max_bytes=settings.limits.max_bytes)


def _write(uri: str, data: bytes, settings: Settings) -> str:
    from ocrprep import storage

    return storage.write_bytes(uri, data, settings.storage)


def _list_images(uri: str, settings: Settings) -> list[str]:
    from ocrprep import storage

    return list(storage.list_images(uri, settings.storage))


def _thumbnail(data: bytes, settings: Settings, side: int) -> bytes:
    from ocrprep import imageio

    image = imageio.decode_image(data, limits=settings.limits, max_side=side)
    return imageio.encode_image(image, "jpeg", quality=80)


def _image_size(data: bytes, settings: Settings) -> tuple[int, int]:
    from ocrprep import imageio

    info = imageio.probe_image(data, limits=settings.limits)
    return int(info.width), int(info.height)


def _registry(settings: Settings) -> Any:
    from ocrprep.registry import Registry

    return Registry.from_settings(settings)


def _start_model(settings: Settings, ref: str) -> Any:
    from ocrprep.models import start_model

    return start_model(settings, ref)


def _train(settings: Settings, body: dict[str, Any], wait: bool) -> Any:
    from ocrprep.models.jobs import TrainRequest, start_training
    from ocrprep.models.training import TrainingParams

    try:
        params = TrainingParams(**body.get("params", {}))
    except TypeError as exc:
        from ocrprep.errors import MalformedRequest

        raise MalformedRequest(f"invalid training params: {exc}") from exc
    request = TrainRequest(
        datasets=tuple(body["datasets"]), project=body["project"],
        test_datasets=tuple(body.get("test_datasets") or ()), format=body.get("format", "auto"),
        attribute=body.get("attribute"), allow_missing=bool(body.get("allow_missing")),
        params=params,
    )
    return start_training(settings, request, wait=wait)


def _load_dataset(settings: Settings, source: str, options: dict[str, Any]) -> Any:
    from ocrprep.datasets import load_dataset
    from ocrprep.models.jobs import resolve_source

    return load_dataset(resolve_source(settings, source), settings=settings, **options)


def _save_dataset(settings: Settings, name: str, dataset: Any) -> str:
    from ocrprep.datasets import save_dataset
    from ocrprep.models.jobs import dataset_store

    return str(save_dataset(dataset, dataset_store(settings), name))


def _list_datasets(settings: Settings) -> list[str]:
    from ocrprep.models.jobs import dataset_store

    folder = dataset_store(settings)
    return sorted(p.stem for p in folder.glob("*.manifest")) if folder.is_dir() else []


def _params(settings: Settings) -> Any:
    from ocrprep.params import ParameterStore

    return ParameterStore.from_settings(settings)


@dataclass(frozen=True)
class Services:
    """The callables behind the routes (all take the request's :class:`Settings`)."""

    process: Callable[[str, Settings, dict[str, Any]], dict[str, Any]] = _process
    assess: Callable[[bytes | str, Settings], dict[str, Any]] = _assess
    detect_labels: Callable[[bytes | str, Settings, str | None, float | None], dict[str, Any]] = (
        _detect_labels
    )
    detect_regions: Callable[[bytes | str, Settings, str, float | None], dict[str, Any]] = (
        _detect_regions
    )
    read_bytes: Callable[[str, Settings], bytes] = _read
    write_bytes: Callable[[str, bytes, Settings], str] = _write
    list_images: Callable[[str, Settings], list[str]] = _list_images
    thumbnail: Callable[[bytes, Settings, int], bytes] = _thumbnail
    image_size: Callable[[bytes, Settings], tuple[int, int]] = _image_size
    registry: Callable[[Settings], Any] = _registry
    params: Callable[[Settings], Any] = _params
    start_model: Callable[[Settings, str], Any] = _start_model
    train: Callable[[Settings, dict[str, Any], bool], Any] = _train
    load_dataset: Callable[[Settings, str, dict[str, Any]], Any] = _load_dataset
    save_dataset: Callable[[Settings, str, Any], str] = _save_dataset
    list_datasets: Callable[[Settings], list[str]] = _list_datasets


def thumbnail_of(services: Services, uri: str, settings: Settings, side: int) -> bytes:
    """A JPEG thumbnail of the image at ``uri`` (runs in a worker process)."""
    return services.thumbnail(services.read_bytes(uri, settings), settings, side)


def warm_up() -> int:
    """Import the image code in a fresh worker process, so the first call is not slow."""
    import os

    from ocrprep import api, imageio, pipeline, quality  # noqa: F401

    return os.getpid()


def default_services() -> Services:
    """The real core functions."""
    return Services()


class UploadSpool:
    """Uploaded images as files under ``folder``, one sub-folder per content hash, the oldest
    removed once more than ``keep`` are held.

    ``process`` reads by URI, and runs in worker processes, so an upload is written (atomically)
    to ``folder/<sha256 prefix>/<name>``: a repeated upload keeps its path and output name, and
    the dashboard can show it until ``keep`` newer uploads push it out. The folder is added to the
    storage roots of the calls that read it (:meth:`settings_for`).
    """

    def __init__(self, folder: Path, keep: int = 64) -> None:
        self.folder = Path(folder)
        self.keep = keep
        self._lock = threading.Lock()

    def settings_for(self, settings: Settings) -> Settings:
        """``settings`` whose storage roots also hold the upload folder."""
        roots = tuple(settings.storage.roots) or (Path.cwd(),)
        if self.folder in roots:
            return settings
        return settings.with_overrides(**{"storage.roots": (*roots, self.folder)})

    def put(self, data: bytes, filename: str | None) -> str:
        """Store an upload and return its path."""
        digest = hashlib.sha256(data).hexdigest()[:24]
        name = PurePosixPath(filename or "upload").name or "upload"
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100].lstrip(".")
        target = self.folder / digest / (safe or "upload")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
                partial.write_bytes(data)
                os.replace(partial, target)
            os.utime(target.parent)
            self._trim()
        except OSError as exc:
            from ocrprep.errors import StorageError

            raise StorageError(f"cannot keep the upload under {self.folder}: {exc}") from exc
        return str(target)

    def _trim(self) -> None:
        with self._lock:
            folders = sorted((p for p in self.folder.iterdir() if p.is_dir()),
                             key=lambda p: p.stat().st_mtime)
            for old in folders[: max(0, len(folders) - self.keep)]:
                shutil.rmtree(old, ignore_errors=True)
