"""The ``extract`` pipeline step: the flattened, cropped document, or one image per region.

``extract_mode = "document"`` (the default) replaces ``ctx.image`` with the flattened document cut
to its content and sets ``ctx.changed``; ``"regions"`` runs the trained box detector named by
``process.regions_model`` and appends one image per detected region to ``ctx.outputs``, in reading
order. Either way a :class:`~ocrprep.pipeline.StepRecord` holds the parameters (the quad, the crop
box, the regions), and the quality check runs on what was extracted when it is available.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from ocrprep.errors import MalformedRequest, PoorQualityImage
from ocrprep.regions.crop import estimate_content_box
from ocrprep.regions.document import locate_document
from ocrprep.regions.flatten import flatten_document

if TYPE_CHECKING:
    from ocrprep.pipeline import Context

__all__ = ["extract_document", "extract_regions", "run"]


MIN_TEXT_HEIGHT = 12.0  # px: flattened text smaller than this is flattened again, larger
TARGET_TEXT_HEIGHT = 20.0  # px: the text height that second flattening aims at (at most 2x)


def extract_document(image: np.ndarray, *, margin: float = 0.02, upsample: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
    """The flattened document of ``image`` cut to its content, and the parameters used.

    The document is flattened at its resolution in the photo (bicubic, the longer side of the
    quad kept). With ``upsample``, a document whose text is then smaller than
    ``MIN_TEXT_HEIGHT`` pixels is flattened again from the photo (one interpolation, not two) at
    up to twice that size, towards ``TARGET_TEXT_HEIGHT``: for engines that want larger text.
    It is off by default because it did not help RapidOCR: on 18 held-out composed photos
    (SROIE 15-32, 11 of them upsampled) the bag-of-words F1 was lower upsampled than native.

    Raises
    ------
    PoorQualityImage
        When no document is visible (the message gives the reason).

    Examples
    --------
    >>> page = np.full((400, 300, 3), 235, np.uint8); page[50:350:12, 40:260] = 20
    >>> out, params = extract_document(page)
    >>> params["full_frame"], out.shape[0] < 400
    (True, True)
    """
    found = locate_document(image)
    if found.quad is None:
        raise PoorQualityImage(f"extract: {found.reason}")
    flat = image if found.full_frame else flatten_document(image, found.quad)
    factor = 1.0
    if upsample and not found.full_frame:
        from ocrprep.enhance import estimate_text_height

        height = estimate_text_height(flat)
        if 0 < height < MIN_TEXT_HEIGHT:
            factor = min(2.0, TARGET_TEXT_HEIGHT / height)
            size = (round(flat.shape[1] * factor), round(flat.shape[0] * factor))
            flat = flatten_document(image, found.quad, size)
    box = estimate_content_box(flat, margin=margin)
    out = flat[box.y0 : box.y1, box.x0 : box.x1]
    params: dict[str, Any] = {
        "quad": np.round(found.quad, 2).tolist(),
        "full_frame": found.full_frame,
        "reason": found.reason,
        "edge_support": round(found.confidence, 4),
        "flat_size": [int(flat.shape[1]), int(flat.shape[0])],
        "upsampled": round(factor, 3),
        "crop": box.to_dict(),
    }
    return np.ascontiguousarray(out), params


def extract_regions(image: np.ndarray, model: Any, min_confidence: float | None = None) -> tuple[list[np.ndarray], list[dict[str, Any]]]:
    """One image per region the detector finds, in reading order, and the detections."""
    from ocrprep.regions.detector import detect_regions

    h, w = image.shape[:2]
    found = detect_regions(image, model, min_confidence=min_confidence)
    found.sort(key=lambda r: (r["Geometry"]["BoundingBox"]["Top"], r["Geometry"]["BoundingBox"]["Left"]))
    crops = []
    for region in found:
        b = region["Geometry"]["BoundingBox"]
        x0, y0 = int(np.floor(b["Left"] * w)), int(np.floor(b["Top"] * h))
        x1, y1 = int(np.ceil((b["Left"] + b["Width"]) * w)), int(np.ceil((b["Top"] + b["Height"]) * h))
        crops.append(np.ascontiguousarray(image[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]))
    return crops, found


def _assess(image: np.ndarray) -> Any:
    try:
        from ocrprep.quality import assess
    except ImportError:
        return None
    return assess(image)


def run(ctx: Context) -> None:
    """Extract the document (or its regions) from ``ctx.image``; see the module docstring."""
    started = time.perf_counter()
    options = ctx.settings.process
    mode = options.extract_mode
    if mode == "document":
        image, params = extract_document(ctx.image)
        changed = image.shape != ctx.image.shape
        if changed:
            ctx.image = image
            ctx.changed = True
        report = _assess(ctx.image)
        if report is not None:
            ctx.report = report
        ctx.record("extract", {"mode": mode, **params}, changed, started)
        return
    reference = options.regions_model
    if not reference:
        raise MalformedRequest("extract in regions mode needs a detector: set process.regions_model")
    from ocrprep.regions.detector import load_detector

    model = load_detector(reference, settings=ctx.settings)
    crops, found = extract_regions(ctx.image, model, options.min_confidence)
    ctx.outputs.extend(crops)
    if crops:
        report = _assess(crops[0])
        if report is not None:
            ctx.report = report
    ctx.record("extract", {"mode": mode, "model": str(reference), "regions": found}, bool(crops), started)
