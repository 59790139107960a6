"""Helpers for the quality tests: assess the way callers do (bytes, reduced decode)."""

from __future__ import annotations

import numpy as np

from ocrprep.imageio import decode_image_with_info, encode_image
from ocrprep.quality import ASSESS_MAX_SIDE, QualityReport, assess


def assess_bytes(data: bytes) -> QualityReport:
    """Reduced decode plus assess, as ``ocrprep assess`` does it."""
    image, info = decode_image_with_info(data, max_side=ASSESS_MAX_SIDE, as_gray=True)
    return assess(image, source_size=(info.height, info.width))


def assess_array(image: np.ndarray) -> QualityReport:
    """Encode as JPEG (like a real upload), then assess from the bytes."""
    return assess_bytes(encode_image(image, "jpeg", quality=90))
