"""Illumination: estimate the paper's background brightness, and divide it out.

Shadows and uneven lighting are slow changes of the background; text is small and dark. A grey
closing (dilate then erode) with a window larger than the strokes removes the text and keeps the
background, computed on a small copy for speed, smoothed, and scaled back up. Dividing the image by
it makes the paper evenly white while keeping the ink's contrast relative to its surroundings.
"""

from __future__ import annotations

import cv2
import numpy as np

from ocrprep.enhance._image import Views, check_image, resize_to, views

__all__ = ["estimate_background", "normalize_illumination", "unevenness"]

_WORK_SIDE = 500


def estimate_background(image: np.ndarray | Views, *, window: float = 0.04) -> np.ndarray:
    """The background (paper) brightness at every pixel, without the text.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3), uint8
    window : float
        Closing window as a fraction of the longer side (default 4%: wider than text strokes).

    Returns
    -------
    ndarray, (H, W), uint8

    Examples
    --------
    >>> page = np.full((100, 80), 200, np.uint8); page[40:45, 10:70] = 20
    >>> int(estimate_background(page)[42, 40])
    200
    """
    v = views(image)
    gray = v.gray
    small, scale = v.at(_WORK_SIDE)
    size = max(9, int(round(window * max(small.shape))) | 1)
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(small, cv2.MORPH_CLOSE, element)
    smooth = cv2.blur(closed, (size, size))
    if scale < 1.0:
        smooth = cv2.resize(smooth, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return smooth


def unevenness(background: np.ndarray) -> float:
    """How uneven the lighting is: 1 - (5th percentile / 95th percentile) of the background.

    0 for even paper, towards 1 under a deep shadow.

    Examples
    --------
    >>> unevenness(np.full((4, 4), 200, np.uint8))
    0.0
    """
    step = max(1, int(np.sqrt(background.size / 40_000)))
    low, high = np.percentile(background[::step, ::step], [5, 95])
    return float(max(0.0, 1.0 - low / max(high, 1.0)))


def normalize_illumination(
    image: np.ndarray, background: np.ndarray | None = None, *, target: int = 245
) -> np.ndarray:
    """Divide out the background so the paper is evenly ``target`` bright.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3), uint8
    background : ndarray, (H, W), uint8, optional
        From :func:`estimate_background` (computed when omitted).
    target : int
        Brightness of the paper afterwards.

    Returns
    -------
    ndarray
        Same shape and dtype; colour is kept (each channel divided by the same background).

    Examples
    --------
    >>> page = np.full((60, 60), 100, np.uint8); page[20:24, 5:55] = 20
    >>> out = normalize_illumination(page)
    >>> int(out[0, 0]), int(out[22, 30]) < 60
    (245, True)
    """
    check_image(image)
    bg = estimate_background(image) if background is None else background
    out = np.empty_like(image)
    # in bands of rows: whole, the float copies of a 12-megapixel photo took 0.4 GB at once
    for top in range(0, image.shape[0], _BAND_ROWS):
        rows = slice(top, top + _BAND_ROWS)
        gain = float(target) / np.maximum(bg[rows].astype(np.float32), 1.0)
        band = image[rows].astype(np.float32)
        band *= gain[:, :, None] if image.ndim == 3 else gain
        out[rows] = np.clip(band, 0, 255, out=band)
    return out


#: Rows of the image divided at a time by :func:`normalize_illumination`.
_BAND_ROWS = 256
