"""Noise: estimate the noise level, and smooth it away while keeping stroke edges."""

from __future__ import annotations

import math

import cv2
import numpy as np

from ocrprep.enhance._image import Views, check_image, like_layout, views, working_layout

__all__ = ["deblock", "denoise", "despeckle", "estimate_noise", "smooth_artifacts"]


def estimate_noise(image: np.ndarray | Views) -> float:
    """Standard deviation of additive noise, in grey levels (Immerkær's fast method).

    A Laplacian-difference mask cancels smooth image structure; edges are excluded with a Sobel
    threshold so text strokes do not count as noise.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> page = np.clip(128 + rng.normal(0, 10, (200, 200)), 0, 255).astype(np.uint8)
    >>> 8 < estimate_noise(page) < 12
    True
    """
    gray = views(image).gray
    # A central window of at most 700 x 700 full-size pixels: noise is not scale-invariant.
    height, width = gray.shape
    top, left = max(0, (height - 700) // 2), max(0, (width - 700) // 2)
    sample = gray[top : top + 700, left : left + 700].astype(np.float32)
    if min(sample.shape) < 3:  # no interior pixel to judge
        return 0.0
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    response = np.abs(cv2.filter2D(sample, -1, kernel))[1:-1, 1:-1]
    gx = cv2.Sobel(sample, cv2.CV_32F, 1, 0)[1:-1, 1:-1]
    gy = cv2.Sobel(sample, cv2.CV_32F, 0, 1)[1:-1, 1:-1]
    magnitude = np.abs(gx) + np.abs(gy)
    flat = magnitude < np.percentile(magnitude[::3, ::3], 80)
    if flat.sum() < 100:
        flat = np.ones_like(flat)
    return float(math.sqrt(math.pi / 2) / 6.0 * response[flat].mean())


def smooth_artifacts(image: np.ndarray, sigma: float = 0.8) -> np.ndarray:
    """A light Gaussian blur against JPEG blocking and ringing, before contrast is stretched.

    Examples
    --------
    >>> smooth_artifacts(np.zeros((8, 8, 3), np.uint8)).shape
    (8, 8, 3)
    """
    check_image(image)
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma)


def deblock(image: np.ndarray, strength: float = 20.0) -> np.ndarray:
    """Flatten JPEG blocks, ringing and grain, keeping stroke edges, before a strong stretch.

    A 5x5 bilateral filter: pixels are averaged only with neighbours within about ``strength``
    grey levels, so the small steps of blocking and sensor grain are smoothed while the larger
    step from paper to ink is kept. Tie ``strength`` to the ink contrast (a fifth of it works on
    dim, heavily compressed receipts); a Gaussian blur instead thins faint print.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3), uint8
    strength : float
        The bilateral filter's range sigma, in grey levels.

    Returns
    -------
    ndarray
        Same shape and dtype.

    Examples
    --------
    >>> page = np.full((40, 40), 100, np.uint8); page[::8] = 104; page[20:23] = 20
    >>> out = deblock(page, 10)
    >>> int(np.ptp(out[:16])) < 4, int(out[21, 20]) < 40
    (True, True)
    """
    check_image(image)
    work = working_layout(image)
    return like_layout(cv2.bilateralFilter(work, 5, sigmaColor=float(strength), sigmaSpace=3), image)


def denoise(image: np.ndarray, sigma: float | None = None) -> np.ndarray:
    """Smooth noise of standard deviation ``sigma`` (estimated when omitted), keeping edges.

    A 3x3 median removes speckle; stronger noise adds :func:`deblock`'s edge-keeping bilateral
    filter, its range tied to the noise level. Thin print suffers from the median: use it for
    real noise only (the policy asks for a measured sigma of 4 or more).

    Returns
    -------
    ndarray
        Same shape and dtype.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> page = np.clip(200 + rng.normal(0, 15, (100, 100)), 0, 255).astype(np.uint8)
    >>> bool(denoise(page).std() < page.std())
    True
    """
    check_image(image)
    level = estimate_noise(image) if sigma is None else float(sigma)
    out = cv2.medianBlur(image, 3)
    if level > 8.0:
        out = deblock(out, 2.5 * level)
    return out


def despeckle(image: np.ndarray, size: int = 3) -> np.ndarray:
    """A ``size`` x ``size`` median filter: isolated specks and ragged JPEG fringes go, strokes stay.

    On a stretched dim JPEG page the ringing around each glyph and the sensor grain become dark
    specks and burrs that Tesseract's binarisation keeps; a median removes anything narrower than
    half its window and keeps the straight edges of strokes wider than that.

    Examples
    --------
    >>> page = np.full((9, 9), 255, np.uint8); page[4, 4] = 0; page[:, 0:3] = 0
    >>> out = despeckle(page); int(out[4, 4]), int(out[4, 1])
    (255, 0)
    """
    check_image(image)
    if size not in (3, 5):
        raise ValueError(f"despeckle size must be 3 or 5, got {size}")
    return cv2.medianBlur(np.ascontiguousarray(image), size)
