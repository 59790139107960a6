"""Cheap text-layout cues shared by ``assess`` and the degradations: ink mask, glyph height, paper.

All functions take a grayscale ``(H, W)`` uint8 image (use :func:`to_gray`) and never change it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "Glyphs", "components", "find_glyphs", "glyph_filter", "glyph_height", "ink_depth", "ink_mask",
    "label_components", "paper_level", "partition_percentile", "to_gray",
]


def to_gray(image: np.ndarray) -> np.ndarray:
    """The luminance of ``image`` as a ``(H, W)`` uint8 array (a view when already grayscale).

    Examples
    --------
    >>> to_gray(np.zeros((4, 5, 3), np.uint8)).shape
    (4, 5)
    """
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def paper_level(gray: np.ndarray) -> float:
    """The paper (background) luminance: a high percentile of the image, 0..255.

    Examples
    --------
    >>> paper_level(np.full((8, 8), 200, np.uint8))
    200.0
    """
    step = max(1, int(np.sqrt(gray.size / 250_000)))
    return float(np.percentile(gray[::step, ::step], 90))


# the ink threshold of each local mean level: max(6, round(mean / 20)), rounded as OpenCV does
_OFFSET = np.maximum(cv2.convertScaleAbs(np.arange(256, dtype=np.uint8), alpha=1 / 20.0), 6)


def ink_depth(gray: np.ndarray, *, block: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """How much darker each pixel is than its neighbourhood, and the ink threshold of :func:`ink_mask`.

    Returns ``(depth, offset)``, both uint8 ``(H, W)``: ``depth = mean_block - gray`` (0 where the
    pixel is brighter) and ``offset = max(6, mean_block / 20)``; ``depth > offset`` is the ink mask.
    A lower threshold (a few grey levels above the noise) finds faint print.

    Examples
    --------
    >>> g = np.full((40, 40), 230, np.uint8); g[10:30, 18:22] = 220
    >>> depth, offset = ink_depth(g)
    >>> int(depth[20, 20]) > 3, bool(depth[20, 20] > offset[20, 20])
    (True, False)
    """
    if block is None:
        block = max(15, (min(gray.shape[:2]) // 16) | 1)
    block = max(3, block | 1)
    mean = cv2.blur(gray, (block, block), borderType=cv2.BORDER_REPLICATE)
    return cv2.subtract(mean, gray), cv2.LUT(mean, _OFFSET)


def ink_mask(gray: np.ndarray, *, block: int | None = None) -> np.ndarray:
    """Pixels clearly darker than their neighbourhood (ink), as a bool ``(H, W)`` mask.

    A local-mean threshold, ``gray < mean_block - max(6, mean_block / 20)``: robust to uneven
    lighting, and the offset grows with the local level so paper grain is not ink while faint
    print on bright paper still is.

    Examples
    --------
    >>> g = np.full((40, 40), 230, np.uint8); g[10:30, 18:22] = 20
    >>> bool(ink_mask(g)[20, 20]), bool(ink_mask(g)[2, 2])
    (True, False)
    """
    depth, offset = ink_depth(gray, block=block)
    return depth > offset


def components(mask: np.ndarray, connectivity: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Connected components of a mask (bool, or uint8 with nonzero foreground): ``(labels, stats)``.

    ``stats`` leaves out row 0 (the background).

    The same labels and ``x, y, w, h, area`` rows as ``cv2.connectedComponentsWithStats``, about
    three times faster: 16-bit labels while they fit (OpenCV refuses on overflow, then 32-bit).

    Examples
    --------
    >>> m = np.zeros((6, 6), bool); m[1:3, 1:3] = True; m[4, 4] = True
    >>> components(m)[1].tolist()
    [[1, 1, 2, 2, 4], [4, 4, 1, 1, 1]]
    """
    _, labels, stats, _ = label_components(mask, connectivity)
    return labels, stats[1:]


def label_components(
    mask: np.ndarray, connectivity: int = 8
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats(mask)``: ``(count, labels, stats, centroids)``, background
    included, with 16-bit labels while they fit (OpenCV refuses on overflow, then 32-bit).

    Examples
    --------
    >>> m = np.zeros((6, 6), bool); m[1:3, 1:3] = True
    >>> count, _, _, centroids = label_components(m); count, centroids[1].tolist()
    (2, [1.5, 1.5])
    """
    u8 = mask.view(np.uint8) if mask.dtype == bool else mask
    try:
        return cv2.connectedComponentsWithStatsWithAlgorithm(u8, connectivity, cv2.CV_16U, cv2.CCL_DEFAULT)
    except cv2.error:  # more than 65535 components
        return cv2.connectedComponentsWithStats(u8, connectivity=connectivity)


def glyph_filter(stats: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Which rows of ``connectedComponentsWithStats`` stats (x, y, w, h, area) look like characters.

    Examples
    --------
    >>> glyph_filter(np.array([[0, 0, 6, 12, 40], [0, 0, 90, 3, 270]]), (200, 200)).tolist()
    [True, False]
    """
    w, h, area = stats[:, 2], stats[:, 3], stats[:, 4]
    return (
        (h >= 3) & (h <= max(4, shape[0] // 8)) & (w <= 4 * h + 2) & (w <= shape[1] // 4 + 2)
        & (area >= 0.08 * w * h) & (area <= 0.95 * w * h + 1)
    )


def glyph_height(heights: np.ndarray) -> float:
    """The text size from glyph heights: the 70th percentile (0 when empty).

    Characters broken into pieces (dot-matrix, faded print) and punctuation pull a median down, so
    the size is judged by the upper part of the distribution.

    Examples
    --------
    >>> glyph_height(np.array([2, 3, 10, 10, 10, 10, 10, 11, 11, 11, 12]))
    11.0
    """
    return partition_percentile(heights, 70) if heights.size else 0.0


def partition_percentile(values: np.ndarray, q: float) -> float:
    """``np.percentile(values, q)`` (linear interpolation) by a partition: a tenth of the cost.

    Examples
    --------
    >>> partition_percentile(np.array([4, 1, 3, 2]), 50) == float(np.percentile([4, 1, 3, 2], 50))
    True
    """
    n = values.size
    at = q / 100.0 * (n - 1)
    lo = int(math.floor(at))
    hi = min(n - 1, lo + 1)
    part = np.partition(values.reshape(-1), (lo, hi))
    a, b = float(part[lo]), float(part[hi])
    return a + (b - a) * (at - lo)


@dataclass(frozen=True)
class Glyphs:
    """Connected components that look like characters.

    Attributes
    ----------
    boxes : numpy.ndarray
        ``(N, 4)`` int array of ``x, y, w, h`` per glyph.
    height : float
        Median glyph height in pixels (0 when there are none).
    stroke : float
        Median stroke width in pixels (glyph ink area over its skeleton-ish length).
    """

    boxes: np.ndarray
    height: float
    stroke: float

    @property
    def count(self) -> int:
        return int(self.boxes.shape[0])


def find_glyphs(mask: np.ndarray) -> Glyphs:
    """Components of an ink mask that have the size and shape of characters.

    Parameters
    ----------
    mask : numpy.ndarray
        Bool ``(H, W)`` ink mask.

    Examples
    --------
    >>> m = np.zeros((200, 200), bool); m[10:22, 10:16] = True; m[10:22, 30:36] = True
    >>> m[12:20, 12:14] = False; m[12:20, 32:34] = False
    >>> g = find_glyphs(m); g.count, g.height
    (2, 12.0)
    """
    s = components(mask)[1]
    keep = glyph_filter(s, mask.shape[:2])
    boxes = s[keep, :4].astype(np.int32)
    if boxes.shape[0] == 0:
        return Glyphs(boxes, 0.0, 0.0)
    w, h, area = s[keep, 2], s[keep, 3].astype(np.float64), s[keep, 4]
    # stroke ~ ink area over a skeleton-length proxy
    stroke = area / np.maximum(1.0, np.maximum(w, h) * 1.6)
    return Glyphs(boxes, glyph_height(h), float(np.median(stroke)))
