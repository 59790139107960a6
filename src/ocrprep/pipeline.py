"""The preprocessing step: read an image by URI, run the named steps, return the URI OCR should read.

The recipe is :func:`process`; each step is a plain function ``run(ctx)`` registered by name in
:data:`STEPS`, so a configuration lists steps (``validate``, ``enhance``, ``extract``) in order.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import PurePosixPath
from typing import Any

import numpy as np

from ocrprep import imageio, storage
from ocrprep.config import Settings, load_settings
from ocrprep.errors import MalformedRequest
from ocrprep.quality.report import Label, QualityReport

__all__ = ["STEPS", "Context", "ProcessResult", "Source", "StepRecord", "process"]

#: Bumped when a change to the steps would change their output for the same configuration,
#: so that output names (which are derived from it) do not collide with stale objects.
#: 2: enhance re-reads the orientation of print under 9 px off an enlarged copy; 3: exact halvings
#: in the enhance estimates, the two-phase fine skew search, and low contrast alone no longer
#: rebuilds light print as faint; 4: nor does it on print under 9 px unless the report calls it faint;
#: 5: the rapidocr enhance profile does not enlarge.
PIPELINE_VERSION = "5"


@dataclass(frozen=True)
class Source:
    """Where the input came from, and its identity for naming outputs."""

    uri: str
    bucket: str | None
    key: str | None
    version_id: str | None
    content_sha256: str

    def to_input(self) -> dict[str, Any]:
        return {"Bucket": self.bucket, "Key": self.key, "S3Uri": self.uri}


@dataclass(frozen=True)
class StepRecord:
    """One step as it ran: its parameters, whether it changed the image, and its time."""

    name: str
    params: dict[str, Any]
    changed: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "params": self.params,
            "changed": self.changed,
            "seconds": round(self.seconds, 4),
        }


@dataclass
class Context:
    """The state a pipeline's steps share for one image.

    The full-size image is decoded on first use of :attr:`image`; a step that only needs to look
    (validation) asks :meth:`preview` for a reduced decode instead, which costs a fraction.
    """

    settings: Settings
    source: Source
    data: bytes
    report: QualityReport | None = None
    top_label: Label | None = None
    changed: bool = False
    outputs: list[np.ndarray] = field(default_factory=list)
    records: list[StepRecord] = field(default_factory=list)
    remaining: tuple[str, ...] = ()
    final_check: bool = False
    _image: np.ndarray | None = None
    _info: imageio.ImageInfo | None = None
    _previews: dict[int, tuple[np.ndarray, tuple[int, int]]] = field(default_factory=dict)

    @property
    def info(self) -> imageio.ImageInfo:
        """The input's header: format, size, pages."""
        if self._info is None:
            self._info = imageio.probe_image(self.data, limits=self.settings.limits)
        return self._info

    @property
    def image(self) -> np.ndarray:
        """The current image, full size (decoded on first use)."""
        if self._image is None:
            self._image = imageio.decode_image(
                self.data, page=self.settings.process.page, limits=self.settings.limits
            )
        return self._image

    @image.setter
    def image(self, value: np.ndarray) -> None:
        self._image = value

    def preview(self, max_side: int) -> tuple[np.ndarray, tuple[int, int]]:
        """The current image at most ``max_side`` on its longer side, and its full (height, width).

        While no step has changed the image this is a reduced decode (JPEG DCT scaling), made
        once; afterwards the changed image is shrunk the same way, so measurements and models
        see alike images either way.
        """
        if self.changed and self._image is not None:
            full = self._image
            return imageio.shrink_image(full, max_side), (full.shape[0], full.shape[1])
        cached = self._previews.get(max_side)
        if cached is None:
            small, info = imageio.decode_image_with_info(
                self.data, page=self.settings.process.page, limits=self.settings.limits,
                max_side=max_side,
            )
            self._info = info
            cached = self._previews[max_side] = (small, (info.height, info.width))
        return cached

    def record(self, name: str, params: dict[str, Any], changed: bool, started: float) -> None:
        """Append a :class:`StepRecord` for a step that started at ``started`` (perf_counter)."""
        self.records.append(StepRecord(name, params, changed, time.perf_counter() - started))


@dataclass(frozen=True)
class ProcessResult:
    """What :func:`process` returns: the URI OCR should read, and how it came to be."""

    uri: str
    uris: tuple[str, ...]
    source: Source
    changed: bool
    report: QualityReport | None
    top_label: Label | None
    steps: tuple[StepRecord, ...]
    timings: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The result in the original function's contract plus ocrprep's own fields."""
        location = storage.parse_uri(self.uri)
        return {
            "Bucket": location.bucket or None,
            "Key": location.key,
            "S3Uri": self.uri,
            "TopLabel": self.top_label.to_dict() if self.top_label else None,
            "Input": self.source.to_input(),
            "uri": self.uri,
            "uris": list(self.uris),
            "changed": self.changed,
            "report": self.report.to_dict() if self.report else None,
            "steps": [record.to_dict() for record in self.steps],
            "timings": {name: round(value, 4) for name, value in self.timings.items()},
        }


Step = Callable[[Context], None]

#: Step name -> ``module:function``; imported on first use so that a pipeline of only
#: ``validate`` does not load the enhancement or region code.
_STEP_TARGETS: dict[str, str] = {
    "validate": "ocrprep.validate:run",
    "enhance": "ocrprep.enhance.step:run",
    "extract": "ocrprep.regions.step:run",
}


class _StepRegistry(dict[str, Step]):
    """A dict of steps that imports each registered target the first time it is asked for."""

    def __missing__(self, name: str) -> Step:
        target = _STEP_TARGETS.get(name)
        if target is None:
            known = ", ".join(sorted(set(_STEP_TARGETS) | set(self)))
            raise MalformedRequest(f"unknown step {name!r}; known steps: {known}")
        module, _, attr = target.partition(":")
        step: Step = getattr(import_module(module), attr)
        self[name] = step
        return step

    def __contains__(self, name: object) -> bool:
        return name in _STEP_TARGETS or super().__contains__(name)


#: The steps a configuration may name. Add one with ``STEPS["name"] = run``.
STEPS: _StepRegistry = _StepRegistry()


def process(uri: str, settings: Settings | None = None, **overrides: Any) -> ProcessResult:
    """Run the configured steps on the image at ``uri`` and return the URI OCR should read.

    Parameters
    ----------
    uri : str
        A local path, ``file://``, ``s3://bucket/key`` (``?versionId=`` allowed) or ``mem://`` URI.
    settings : Settings, optional
        Defaults to :func:`ocrprep.config.load_settings` (config file and environment).
    **overrides
        Fields of :class:`ocrprep.config.ProcessOptions`, for example ``steps=("validate",
        "enhance")``, ``output="s3://bucket/prefix"`` or ``model="receipts:2"``.

    Returns
    -------
    ProcessResult
        ``uri`` is the input's own URI when no step changed the image, else a new object under
        the output prefix whose name derives from the input and the step configuration, so a
        repeated call writes the same object and returns the same URI.

    Raises
    ------
    MalformedRequest
        Bad arguments, a missing object or an unreadable image.
    PoorQualityImage
        The image is not good enough for OCR; the error carries the quality report.
    ModelError
        The model is missing or cannot be started.

    Examples
    --------
    >>> from ocrprep import process
    >>> result = process("tests/fixtures/receipts/000.jpg", decision="measurements")
    >>> result.uri, result.changed
    ('tests/fixtures/receipts/000.jpg', False)
    """
    started = time.perf_counter()
    settings = _with_process_overrides(settings or load_settings(), overrides)
    options = settings.process
    steps = [(name, STEPS[name]) for name in options.steps]  # unknown names fail before any work
    data = storage.read_bytes(uri, settings.storage, max_bytes=settings.limits.max_bytes)
    ctx = Context(settings=settings, source=_source(uri, data), data=data)
    timings = {"read": time.perf_counter() - started}
    for i, (name, step) in enumerate(steps):
        ctx.remaining = tuple(options.steps[i + 1 :])
        step_started = time.perf_counter()
        step(ctx)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - step_started
    if ctx.final_check:  # a validate that deferred to later steps judges their result
        step_started = time.perf_counter()
        ctx.remaining = ()
        STEPS["validate"](ctx)
        timings["validate"] = timings.get("validate", 0.0) + time.perf_counter() - step_started
    write_started = time.perf_counter()
    uris = _write_outputs(ctx) if ctx.changed or ctx.outputs else (uri,)
    timings["write"] = time.perf_counter() - write_started
    timings["total"] = time.perf_counter() - started
    return ProcessResult(
        uri=uris[0],
        uris=uris,
        source=ctx.source,
        changed=ctx.changed or bool(ctx.outputs),
        report=ctx.report,
        top_label=ctx.top_label,
        steps=tuple(ctx.records),
        timings=timings,
    )


def output_name(source: Source, settings: Settings, index: int | None = None) -> str:
    """The deterministic file name of an output: the input's stem and a digest of its identity.

    The digest covers the input (bucket, key, version or content hash) and every option that
    shapes the output, so the same call always names the same object and a different
    configuration never overwrites it.
    """
    options = settings.process
    identity = {
        "pipeline": PIPELINE_VERSION,
        "bucket": source.bucket,
        "key": source.key,
        "version": source.version_id,
        "sha256": source.content_sha256,
        "steps": list(options.steps),
        "options": options.model_dump(mode="json", exclude=_NOT_SHAPING_OUTPUT),
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
    stem = PurePosixPath(source.key or source.uri).stem or "image"
    suffix = "" if index is None else f"-r{index:02d}"
    return f"{stem}-{digest}{suffix}.{_EXTENSIONS[options.output_format]}"


_EXTENSIONS = {"png": "png", "jpeg": "jpg", "tiff": "tif"}

#: Options that decide whether an image passes but never change the pixels written.
_NOT_SHAPING_OUTPUT = {
    "output", "model", "model_parameter", "acceptable_labels", "min_confidence", "decision",
}


def _write_outputs(ctx: Context) -> tuple[str, ...]:
    settings = ctx.settings
    fmt = settings.process.output_format
    images = ctx.outputs or [ctx.image]
    indexed = len(ctx.outputs) > 0
    written = []
    for i, image in enumerate(images):
        name = output_name(ctx.source, settings, i if indexed else None)
        target = storage.join(settings.process.output, name)
        if not storage.exists(target, settings.storage):
            storage.write_bytes(target, imageio.encode_image(image, fmt), settings.storage)
        written.append(target)
    return tuple(written)


def _source(uri: str, data: bytes) -> Source:
    location = storage.parse_uri(uri)
    return Source(
        uri=uri,
        bucket=location.bucket or None,
        key=location.key,
        version_id=location.version_id,
        content_sha256=hashlib.sha256(data).hexdigest(),
    )


def _with_process_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    if not overrides:
        return settings
    return settings.with_overrides(**{f"process.{key}": value for key, value in overrides.items()})
