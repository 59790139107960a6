"""Binarisation: global (Otsu) and local (Sauvola) thresholds, and their application."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from ocrprep.enhance._image import as_gray, like_input

__all__ = ["binarize", "threshold_otsu", "threshold_sauvola"]


def threshold_otsu(image: np.ndarray) -> int:
    """Otsu's global threshold of the grey image.

    Examples
    --------
    >>> page = np.full((10, 10), 200, np.uint8); page[:5] = 50
    >>> 50 <= threshold_otsu(page) < 200
    True
    """
    level, _ = cv2.threshold(as_gray(image), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return int(level)


def threshold_sauvola(image: np.ndarray, window: int = 31, k: float = 0.2, r: float = 128.0) -> np.ndarray:
    """Sauvola's local threshold ``m * (1 + k * (s / r - 1))`` over a ``window`` square.

    Mean ``m`` and standard deviation ``s`` come from box filters (integral images), so the
    cost does not depend on the window.

    Returns
    -------
    ndarray, (H, W), float32

    Examples
    --------
    >>> page = np.full((40, 40), 220, np.uint8); page[18:22] = 30
    >>> t = threshold_sauvola(page, window=15)
    >>> bool(page[20, 20] < t[20, 20]) and bool(page[5, 5] >= t[5, 5])
    True
    """
    if window < 3 or window % 2 == 0:
        raise ValueError(f"window must be an odd number of at least 3, got {window}")
    gray = as_gray(image).astype(np.float32)
    mean = cv2.boxFilter(gray, cv2.CV_32F, (window, window), borderType=cv2.BORDER_REFLECT)
    square = cv2.boxFilter(gray * gray, cv2.CV_32F, (window, window), borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(square - mean * mean, 0.0))
    return mean * (1.0 + k * (std / r - 1.0))


def binarize(
    image: np.ndarray, method: Literal["otsu", "sauvola"] = "sauvola", *, window: int = 31
) -> np.ndarray:
    """Black text (0) on white (255), shaped like the input.

    Examples
    --------
    >>> page = np.full((40, 40, 3), 200, np.uint8); page[18:22] = 60
    >>> out = binarize(page, "otsu"); out.shape, int(out[20, 0, 0]), int(out[0, 0, 0])
    ((40, 40, 3), 0, 255)
    """
    gray = as_gray(image)
    if method == "otsu":
        out = np.where(gray > threshold_otsu(gray), 255, 0).astype(np.uint8)
    elif method == "sauvola":
        out = np.where(gray > threshold_sauvola(gray, window), 255, 0).astype(np.uint8)
    else:
        raise ValueError(f"unknown binarisation method {method!r}; use 'otsu' or 'sauvola'")
    return like_input(out, image)
