"""Contrast: measure the ink and paper levels, stretch faint or dark images, undo inversion."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocrprep.enhance._image import Views, check_image, percentile_u8, views
from ocrprep.quality.text import label_components

__all__ = ["Levels", "estimate_levels", "invert", "is_inverted", "stretch_contrast"]


@dataclass(frozen=True)
class Levels:
    """Typical brightness of the ink and of the paper (0..255)."""

    ink: float
    paper: float

    @property
    def contrast(self) -> float:
        """``paper - ink``: about 150-230 on a good print, under 80 when faint or dim."""
        return self.paper - self.ink


def estimate_levels(image: np.ndarray | Views, *, text_ink: bool = False) -> Levels:
    """Ink level (darkest text, the 0.5th percentile) and paper level (median of the non-text).

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3), uint8, or Views
    text_ink : bool
        Take the ink level from the text strokes only (the 5th percentile of the pixels of the
        ink mask, which leaves out wide dark areas): a black scanner strip or a photo then does
        not stand in for the ink of a faint print.

    Examples
    --------
    >>> page = np.full((80, 80), 220, np.uint8); page[10:70:8, 5:75] = 40
    >>> lv = estimate_levels(page); (round(lv.ink), round(lv.paper))
    (40, 220)
    >>> page[:, :20] = 0  # a black strip along the edge
    >>> round(estimate_levels(page).ink), round(estimate_levels(page, text_ink=True).ink)
    (0, 40)
    """
    v = views(image)
    small, _ = v.at(1000)
    mask, _ = v.mask(1000, 15)
    paper = float(np.median(small[~mask])) if (~mask).any() else float(np.median(small))
    if mask.sum() <= 20:
        ink = paper
    elif text_ink:
        ink = float(np.percentile(small[mask], 5))
    else:
        ink = float(np.percentile(small[::2, ::2], 0.5))
    return Levels(ink=min(ink, paper), paper=paper)


def stretch_contrast(
    image: np.ndarray, levels: Levels | None = None, *, gamma: float = 1.0,
    ink: int = 0, paper: int = 255,
) -> np.ndarray:
    """Map the measured ink level to ``ink`` and the paper level to ``paper``.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3), uint8
    levels : Levels, optional
        From :func:`estimate_levels` (measured when omitted).
    gamma : float
        Above 1 darkens the mid-tones between ink and paper: thin, faint strokes come back
        thicker, which both OCR engines prefer.

    Returns
    -------
    ndarray
        Same shape, uint8, clipped to 0..255 (one look-up table, so colour is kept).

    Examples
    --------
    >>> page = np.full((50, 50), 200, np.uint8); page[10:40:6, 5:45] = 170
    >>> out = stretch_contrast(page, Levels(ink=170, paper=200))
    >>> int(out[0, 0]), int(out[10, 10])
    (255, 0)
    """
    check_image(image)
    lv = estimate_levels(image) if levels is None else levels
    span = max(lv.paper - lv.ink, 4.0)
    t = np.clip((np.arange(256, dtype=np.float64) - lv.ink) / span, 0.0, 1.0) ** gamma
    lut = np.clip(np.rint(ink + (paper - ink) * t), 0, 255).astype(np.uint8)
    return cv2.LUT(image, lut)


def is_inverted(image: np.ndarray | Views) -> bool:
    """True for light text on a dark background.

    The background (the median) must be dark and far nearer the darkest pixels than the
    brightest: the text is a bright minority. A dim page has no bright minority. A photo of a
    page lying on a dark table has a bright minority too, the page: it is told apart by
    :func:`_page_on_dark`.

    Examples
    --------
    >>> page = np.full((80, 80), 20, np.uint8); page[10:70:20, 5:75] = 230
    >>> is_inverted(page), is_inverted(255 - page)
    (True, False)
    >>> photo = np.full((80, 80), 40, np.uint8); photo[20:60, 25:55] = 230
    >>> photo[25:55:6, 30:50] = 30  # a page with lines of text, on a dark table
    >>> is_inverted(photo)
    False
    """
    small, _ = views(image).at(500)
    low, median, high = percentile_u8(small, np.array([1.0, 50.0, 99.0]))
    light_minority = median < 110 and high - median > max(60.0, 3.0 * (median - low))
    return bool(light_minority and not _page_on_dark(small))


#: A bright region whose convex hull covers at least this share of the frame and is at least
#: ``_PAGE_FILL`` bright inside is a page (light text on dark is strokes: no such region).
_PAGE_AREA = 0.05
_PAGE_FILL = 0.5


def _page_on_dark(gray: np.ndarray) -> bool:
    """Whether the bright part of ``gray`` is a page lying on a darker background.

    The largest bright region (Otsu) is taken with its convex hull: a page is a large, solid
    region (the text holes in it are a minority of its hull), while the bright parts of light
    text on dark are strokes, and a light frame or scanner strip left around such a page hulls
    the dark page with it. Checked on the 209 SROIE receipts: none of their negatives has such
    a region (at most 4% of the frame at 96% bright, or the whole frame at 28%), and every
    seeded phone photo of them (``regions.synth.compose_photo``) that the bright-minority test
    took for inverted has one (at least 6% of the frame at 66% bright).
    """
    _, bright = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    count, labels, stats, _ = label_components(bright)
    if count < 2:
        return False
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    hull = cv2.convexHull(cv2.findNonZero((labels == largest).view(np.uint8)))
    region = np.zeros_like(bright)
    cv2.fillConvexPoly(region, hull, 255)
    area = cv2.countNonZero(region)
    inside = cv2.countNonZero(cv2.bitwise_and(region, bright))
    return area >= _PAGE_AREA * gray.size and inside >= _PAGE_FILL * area


def invert(image: np.ndarray) -> np.ndarray:
    """The photographic negative (``255 - image``), a new array.

    Examples
    --------
    >>> int(invert(np.zeros((2, 2), np.uint8))[0, 0])
    255
    """
    check_image(image)
    return cv2.bitwise_not(image)
