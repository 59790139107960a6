"""Crop to content: trim scanner borders and empty paper around the text, never cutting text.

:func:`estimate_content_box` finds the box, :func:`crop_to_content` applies it. Ink is every pixel
clearly darker than the paper (a threshold between the paper level and the darkest ink, never
closer to the paper than ``min_contrast``). Dark scanner borders and background strips are removed
only when they are *border bands*: components that touch an image edge, run along most of it and
are filled (not text-like). Everything else that is ink, however small or far out (a page number,
a logo, a stamp, a speck), stays inside the box, so the crop cannot eat content: only
``min_speck`` (default 0: keep everything) drops isolated dots.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocrprep.imageio._pixels import percentile_u8
from ocrprep.quality.text import to_gray

__all__ = ["ContentBox", "crop_to_content", "estimate_content_box", "ink_mask"]


@dataclass(frozen=True)
class ContentBox:
    """A box in pixel coordinates, ``x1``/``y1`` exclusive.

    Examples
    --------
    >>> ContentBox(1, 2, 5, 8).size
    (4, 6)
    """

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.x1 - self.x0, self.y1 - self.y0

    def to_dict(self) -> dict[str, int]:
        return {"x0": self.x0, "y0": self.y0, "x1": self.x1, "y1": self.y1}


def ink_mask(image: np.ndarray, *, min_contrast: float = 40.0) -> np.ndarray:
    """Pixels clearly darker than the paper, (H, W) bool.

    The paper level is the local maximum of a reduced copy, smoothed (so a slow illumination
    change is followed), capped by the image's 90th percentile; a pixel is ink when it is darker
    than the paper by at least ``min_contrast``. Faint pencil counts as much as black print.

    Examples
    --------
    >>> page = np.full((20, 20), 230, np.uint8); page[5, 5] = 30
    >>> int(ink_mask(page).sum())
    1
    """
    gray_u8 = to_gray(image)
    gray = gray_u8.astype(np.float32)
    h, w = gray.shape
    global_paper = percentile_u8(gray_u8, 90.0)  # from the histogram: np.percentile sorts the page
    # A dark scanner border wider than the max filter below would drag the smoothed paper level
    # down beside it, and print next to the border would no longer count as ink: the border
    # bands of a global threshold are paper for the estimate.
    bands = _border_bands(gray < global_paper - min_contrast)
    if bands.any():
        gray_for_paper = gray.copy()
        gray_for_paper[bands] = global_paper
    else:
        gray_for_paper = gray
    # Local paper level: a dilation (max filter) removes text, a blur smooths it.
    k = max(3, (min(h, w) // 20) | 1)
    small_side = 256
    scale = min(1.0, small_side / max(h, w))
    if scale < 1:
        small = cv2.resize(gray_for_paper, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA)
        k = max(3, (min(small.shape) // 20) | 1)
    else:
        small = gray_for_paper
    paper = cv2.dilate(small, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    paper = cv2.GaussianBlur(paper, (0, 0), k)
    if scale < 1:
        paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    return gray < np.minimum(paper, global_paper) - min_contrast


def _border_bands(ink: np.ndarray) -> np.ndarray:
    """Components of ``ink`` that are scanner borders: touch an edge, run along 0.8 of it, filled."""
    h, w = ink.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    x, y, bw, bh, area = stats[1:].T
    fill = area / np.maximum(1, bw * bh)
    touches_lr = (x == 0) | (x + bw == w)
    touches_tb = (y == 0) | (y + bh == h)
    spans = (touches_lr & (bh >= 0.8 * h)) | (touches_tb & (bw >= 0.8 * w))
    bands = np.zeros(count, bool)
    bands[1:] = spans & (fill >= 0.3)
    if not bands.any():
        return np.zeros((h, w), bool)
    return bands[labels]


def estimate_content_box(
    image: np.ndarray,
    *,
    margin: float = 0.02,
    min_contrast: float = 40.0,
    min_speck: int = 0,
) -> ContentBox:
    """The box around all content of ``image`` plus a margin, without scanner borders.

    Parameters
    ----------
    image : ndarray, shape (H, W) or (H, W, C), uint8
    margin : float
        Added on each side: a fraction of the shorter image side (< 1) or pixels (>= 1).
    min_contrast : float
        The least darkening from the paper that counts as ink, in grey levels.
    min_speck : int
        Ink components of fewer pixels are ignored (0 keeps every dot).

    Returns
    -------
    ContentBox
        The whole image when there is no content.

    Examples
    --------
    >>> page = np.full((100, 80), 240, np.uint8); page[40:50, 30:60] = 0
    >>> estimate_content_box(page, margin=5)
    ContentBox(x0=25, y0=35, x1=65, y1=55)
    """
    h, w = image.shape[:2]
    ink = ink_mask(image, min_contrast=min_contrast)
    ink &= ~_border_bands(ink)
    if min_speck > 0:
        count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
        keep = stats[:, cv2.CC_STAT_AREA] >= min_speck
        keep[0] = False
        ink = keep[labels]
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    if len(rows) == 0:
        return ContentBox(0, 0, w, h)
    pad = round(margin * min(h, w)) if margin < 1 else round(margin)
    return ContentBox(
        max(0, int(cols[0]) - pad),
        max(0, int(rows[0]) - pad),
        min(w, int(cols[-1]) + 1 + pad),
        min(h, int(rows[-1]) + 1 + pad),
    )


def crop_to_content(image: np.ndarray, margin: float = 0.02, *, box: ContentBox | None = None) -> np.ndarray:
    """``image`` cut to :func:`estimate_content_box` (or the given ``box``); a copy.

    Examples
    --------
    >>> page = np.full((100, 80), 240, np.uint8); page[40:50, 30:60] = 0
    >>> crop_to_content(page, margin=5).shape
    (20, 40)
    """
    b = box or estimate_content_box(image, margin=margin)
    return image[b.y0 : b.y1, b.x0 : b.x1].copy()
