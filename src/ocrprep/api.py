"""Convenience entry points that accept an image, bytes, a path or a URI."""

from __future__ import annotations

import os

import numpy as np

from ocrprep import imageio, quality, storage
from ocrprep.config import Settings, load_settings
from ocrprep.quality.report import QualityReport

__all__ = ["assess_source"]


def assess_source(
    source: np.ndarray | bytes | str | os.PathLike[str],
    *,
    settings: Settings | None = None,
    page: int = 0,
) -> QualityReport:
    """Assess an image given as an array, encoded bytes, a local path or a URI.

    Encoded inputs are decoded at the reduced size assessment needs (JPEG DCT scaling), so
    validating a 12-megapixel photo costs about one full decode or less.

    Examples
    --------
    >>> import numpy as np
    >>> from ocrprep import assess
    >>> assess(np.full((400, 300, 3), 255, np.uint8)).defects["blank"] >= 0.5
    True
    """
    if isinstance(source, np.ndarray):
        return quality.assess(source)
    settings = settings or load_settings()
    if isinstance(source, bytes):
        data = source
    else:
        data = storage.read_bytes(os.fspath(source), settings.storage,
                                  max_bytes=settings.limits.max_bytes)
    image, info = imageio.decode_image_with_info(data, page=page, limits=settings.limits,
                                                 max_side=quality.ASSESS_MAX_SIDE, as_gray=True)
    return quality.assess(image, source_size=(info.height, info.width))
