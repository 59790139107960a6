"""Flatten a document seen in perspective into a rectangle with its true aspect ratio.

The aspect ratio is estimated from the quad alone with Zhang and He's method ("Whiteboard scanning
and image enhancement", Digital Signal Processing 17(2), 2007): with the principal point at the
image centre and square pixels, the four corners of a rectangle fix the focal length and hence the
rectangle's width-to-height ratio. When the quad is (nearly) a parallelogram the focal length is
undefined and the ratio of the mean opposite side lengths is used instead.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["estimate_aspect_ratio", "flatten_document", "longest_sides", "output_size"]


def estimate_aspect_ratio(quad: np.ndarray, shape: tuple[int, ...]) -> float:
    """The width / height of the rectangle that ``quad`` is a perspective view of.

    Parameters
    ----------
    quad : ndarray, shape (4, 2)
        TL, TR, BR, BL in pixel (x, y).
    shape : tuple
        The photo's shape (rows, cols, ...); its centre is taken as the principal point.

    Returns
    -------
    float
        Width over height, > 0.

    Examples
    --------
    >>> sq = np.array([[10, 10], [50, 10], [50, 90], [10, 90]], np.float32)
    >>> round(estimate_aspect_ratio(sq, (100, 100)), 3)
    0.5
    """
    q = np.asarray(quad, np.float64).reshape(4, 2)
    u0, v0 = shape[1] / 2.0, shape[0] / 2.0
    # Zhang & He number the corners m1 TL, m2 TR, m3 BL, m4 BR.
    m1, m2, m4, m3 = (np.array([x, y, 1.0]) for x, y in q)
    fallback = _side_ratio(q)
    den2 = np.dot(np.cross(m2, m4), m3)
    den3 = np.dot(np.cross(m3, m4), m2)
    if abs(den2) < 1e-9 or abs(den3) < 1e-9:
        return fallback
    k2 = np.dot(np.cross(m1, m4), m3) / den2
    k3 = np.dot(np.cross(m1, m4), m2) / den3
    n2 = k2 * m2 - m1
    n3 = k3 * m3 - m1
    # Near-affine views: n2[2], n3[2] ~ 0 and the focal length is not observable.
    scale = max(abs(n2[0]), abs(n2[1]), abs(n3[0]), abs(n3[1]), 1e-9)
    if abs(n2[2] * n3[2]) * max(shape[0], shape[1]) ** 2 < 1e-6 * scale**2:
        return fallback
    f2 = -(
        (n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 * u0)
        + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 * v0)
    ) / (n2[2] * n3[2])
    if not np.isfinite(f2) or f2 <= 0:
        return fallback
    f = np.sqrt(f2)
    a_inv = np.linalg.inv(np.array([[f, 0, u0], [0, f, v0], [0, 0, 1.0]]))
    b = a_inv.T @ a_inv
    ratio2 = (n2 @ b @ n2) / (n3 @ b @ n3)
    if not np.isfinite(ratio2) or ratio2 <= 0:
        return fallback
    ratio = float(np.sqrt(ratio2))
    # A focal length far outside what cameras have means the quad is noise-dominated.
    if not 0.2 * max(shape[:2]) <= f <= 10 * max(shape[:2]) or not 0.7 < ratio / fallback < 1.4:
        return fallback
    return ratio


def _side_ratio(q: np.ndarray) -> float:
    top, bottom = np.hypot(*(q[1] - q[0])), np.hypot(*(q[2] - q[3]))
    left, right = np.hypot(*(q[3] - q[0])), np.hypot(*(q[2] - q[1]))
    return float((top + bottom) / max(left + right, 1e-9))


def longest_sides(quad: np.ndarray) -> tuple[float, float]:
    """(width, height) of a TL, TR, BR, BL quad: its longer top/bottom and left/right side, in pixels.

    Examples
    --------
    >>> longest_sides(np.array([[10, 10], [50, 10], [60, 90], [10, 90]], np.float32))
    (50.0, 80.62257748298549)
    """
    q = np.asarray(quad, np.float64).reshape(4, 2)
    width = max(np.hypot(*(q[1] - q[0])), np.hypot(*(q[2] - q[3])))
    height = max(np.hypot(*(q[3] - q[0])), np.hypot(*(q[2] - q[1])))
    return float(width), float(height)


def output_size(quad: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int]:
    """The (width, height) of the flattened document: true aspect ratio, no resolution lost.

    The longer dimension takes the longest matching side of the quad, so text is sampled at least
    as finely as in the photo.

    Examples
    --------
    >>> sq = np.array([[10, 10], [50, 10], [50, 90], [10, 90]], np.float32)
    >>> output_size(sq, (100, 100))
    (40, 80)
    """
    q = np.asarray(quad, np.float64).reshape(4, 2)
    ratio = estimate_aspect_ratio(q, shape)
    width, height = longest_sides(q)
    if width / ratio >= height:
        height = width / ratio
    else:
        width = height * ratio
    return max(1, round(width)), max(1, round(height))


def flatten_document(image: np.ndarray, quad: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Warp the quad of ``image`` to an upright rectangle with the document's true aspect ratio.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C), uint8
    quad : ndarray, shape (4, 2)
        TL, TR, BR, BL in pixel (x, y), as :func:`ocrprep.regions.find_document` returns.
    size : tuple of int, optional
        (width, height) of the output; by default :func:`output_size`.

    Returns
    -------
    ndarray, shape (height, width) or (height, width, C), uint8
        A new image; the input is not changed.

    Examples
    --------
    >>> image = np.zeros((100, 100, 3), np.uint8)
    >>> quad = np.array([[10, 10], [50, 10], [50, 90], [10, 90]], np.float32)
    >>> flatten_document(image, quad).shape
    (80, 40, 3)
    """
    q = np.asarray(quad, np.float32).reshape(4, 2)
    width, height = size or output_size(q, image.shape)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(q, target)
    return cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
