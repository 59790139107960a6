"""The core functions the server calls, gathered in one value so tests can swap in fakes.

Each field is a plain callable; :func:`default_services` wires the real ones (imported on first
use). Tests build ``dataclasses.replace(default_services(), process=fake)`` and hand it to
:func:`ocrprep.server.create_app` — no monkeypatching.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from ocrprep.config import Settings

__all__ = ["Services", "UploadSpool", "default_services"]


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
    from ocrprep.datasets import export_ground_truth
    from ocrprep.errors import StorageError
    from ocrprep.models.jobs import dataset_store
    from ocrprep.registry import check_name

    check_name(name)
    target = dataset_store(settings) / f"{name}.manifest"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(export_ground_truth(dataset, job_name=name))
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc}") from exc
    return str(target)


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


def default_services() -> Services:
    """The real core functions."""
    return Services()


class UploadSpool:
    """Uploaded images as ``mem://`` objects, one bucket per upload, the oldest forgotten.

    ``process`` reads by URI, so an upload is stored under ``mem://<bucket>/<name>`` (the bucket
    named after the content hash, so a repeated upload keeps its URI and output name) and kept
    for the dashboard's thumbnails until ``keep`` newer uploads push it out.
    """

    def __init__(self, keep: int = 64, prefix: str = "upload") -> None:
        self.keep = keep
        self.prefix = prefix
        self._buckets: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, data: bytes, filename: str | None, settings: Settings,
            write: Callable[[str, bytes, Settings], str]) -> str:
        """Store an upload and return its URI."""
        from ocrprep.storage import MemoryStore

        digest = hashlib.sha256(data).hexdigest()[:20]
        bucket = f"{self.prefix}-{digest}"
        name = PurePosixPath(filename or "upload").name or "upload"
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:100] or "upload"
        uri = write(f"mem://{bucket}/{safe}", data, settings)
        with self._lock:
            self._buckets[bucket] = None
            self._buckets.move_to_end(bucket)
            while len(self._buckets) > self.keep:
                old, _ = self._buckets.popitem(last=False)
                MemoryStore.reset(old)
        return uri
