"""Enhancement for OCR: orientation, skew, illumination, contrast, noise, binarisation, size.

Every operation is a pure function over a uint8 numpy image (the input is never modified), with
the estimate apart from its application (``estimate_skew`` / ``deskew``, ``detect_orientation`` /
``fix_orientation``, ``estimate_background`` / ``normalize_illumination`` ...).
:func:`auto_enhance` picks the operations an image needs from its quality report.

>>> import numpy as np
>>> auto_enhance(np.full((80, 60, 3), 245, np.uint8), mode="off").changed
False
"""

from __future__ import annotations

from ocrprep.enhance.binarize import binarize, threshold_otsu, threshold_sauvola
from ocrprep.enhance.contrast import Levels, estimate_levels, invert, is_inverted, stretch_contrast
from ocrprep.enhance.denoise import deblock, denoise, despeckle, estimate_noise
from ocrprep.enhance.geometry import (
    estimate_borders,
    estimate_text_height,
    paper_color,
    remove_borders,
    rotate,
    upscale,
)
from ocrprep.enhance.illumination import estimate_background, normalize_illumination, unevenness
from ocrprep.enhance.orientation import (
    OrientationEstimate,
    detect_orientation,
    fix_orientation,
    measure_orientation,
)
from ocrprep.enhance.policy import PROFILES, EnhanceResult, Operation, Thresholds, auto_enhance, measure
from ocrprep.enhance.skew import SkewEstimate, deskew, estimate_skew, measure_skew

__all__ = [
    "PROFILES",
    "EnhanceResult",
    "Levels",
    "Operation",
    "OrientationEstimate",
    "SkewEstimate",
    "Thresholds",
    "auto_enhance",
    "binarize",
    "deblock",
    "denoise",
    "despeckle",
    "deskew",
    "detect_orientation",
    "estimate_background",
    "estimate_borders",
    "estimate_levels",
    "estimate_noise",
    "estimate_skew",
    "estimate_text_height",
    "fix_orientation",
    "invert",
    "is_inverted",
    "measure",
    "measure_orientation",
    "measure_skew",
    "normalize_illumination",
    "paper_color",
    "remove_borders",
    "rotate",
    "stretch_contrast",
    "threshold_otsu",
    "threshold_sauvola",
    "unevenness",
    "upscale",
]
