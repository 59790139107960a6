"""Raw, cheap document-imaging measurements behind the quality report.

:func:`measure` returns plain numbers (a ``dict[str, float]``): the quality limits turn them into
defect scores, and the trainable classifier reuses them as features. Everything runs on a
grayscale working copy whose longer side is at most :data:`WORK_SIDE` pixels, so the cost does not
grow with the input; sizes that matter in original pixels (glyph height) are scaled back with
``source_size``.

Measurements (units in brackets):

``glyph_height``  median height of character-like components, in original pixels
``glyph_count``   number of such components
``ink_fraction``  share of the text area covered by ink (0..1)
``sharpness``     text-edge sharpness: peak gradient over edge contrast, for the blurriest
                  edge direction (0..0.5; a perfect step edge is 0.5, Gaussian blur sigma gives
                  about 0.4 / sigma)
``blur_sigma``    the equivalent Gaussian blur in glyph heights (1 / (2.5 * sharpness) / height)
``noise``         noise standard deviation from the MAD of a Laplacian-like residual (grey levels)
``noise_ratio``   noise over ink contrast
``paper``         paper brightness where the text is, 10th percentile of the local background
``contrast``      ink contrast relative to the paper (0..1)
``glare``         radius of the largest bright ink-free hole inside the text, in glyph heights
``occluded``      share of the text area under a smooth, non-paper object (0..1)
``text_cut``      character-like components sliced by the worst frame side
``margin``        smallest distance from the text to a frame side, in glyph heights
``skew``          dominant text-line angle, degrees counter-clockwise (-45..45)
``vertical``      share of text lines running vertically (0..1; 90/270 rotation)
``upside_down``   share of baseline marks (periods, commas) found at the top of lines (0..1)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ocrprep.quality.text import to_gray

__all__ = ["MEASURES", "WORK_SIDE", "measure"]

#: Longer side, in pixels, of the working copy the measurements use.
WORK_SIDE = 800

#: The names :func:`measure` returns, in a stable order (feature order for classifiers).
MEASURES: tuple[str, ...] = (
    "glyph_height",
    "glyph_count",
    "ink_fraction",
    "sharpness",
    "blur_sigma",
    "noise",
    "noise_ratio",
    "paper",
    "contrast",
    "glare",
    "occluded",
    "text_cut",
    "margin",
    "skew",
    "vertical",
    "upside_down",
)

_EMPTY_TEXT = 12  # fewer glyphs than this: no text to judge
_SHARP_PIXELS = 60_000  # pixels of text examined for edge sharpness


def measure(image: np.ndarray, *, source_size: tuple[int, int] | None = None) -> dict[str, float]:
    """Measure the properties of a document image that decide whether OCR can read it.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, 3)`` uint8 image (RGB); never modified.
    source_size : tuple of int, optional
        ``(height, width)`` of the original when ``image`` was decoded at reduced size; glyph
        height is reported in original pixels.

    Returns
    -------
    dict of str to float
        Every name of :data:`MEASURES` (see the module docstring for units).

    Examples
    --------
    >>> m = measure(np.full((300, 200, 3), 250, np.uint8))
    >>> m["glyph_count"], m["paper"]
    (0.0, 250.0)
    """
    gray = to_gray(image)
    h0, w0 = gray.shape
    factor = min(1.0, WORK_SIDE / max(h0, w0))
    work = gray if factor >= 1.0 else cv2.resize(
        gray, (max(1, round(w0 * factor)), max(1, round(h0 * factor))), interpolation=cv2.INTER_AREA
    )
    to_source = 1.0 / factor
    if source_size is not None:
        to_source *= max(source_size) / max(h0, w0)
    colour = image if image.ndim == 3 and image.shape[2] >= 3 else None
    return _Measurer(work, colour, to_source).run()


class _Measurer:
    """One measurement pass; holds the intermediate maps so each is computed once."""

    def __init__(self, work: np.ndarray, colour: np.ndarray | None, to_source: float) -> None:
        self.work = work
        self.colour = colour
        self.to_source = to_source
        self.h, self.w = work.shape
        self.out: dict[str, float] = dict.fromkeys(MEASURES, 0.0)

    def run(self) -> dict[str, float]:
        work = self.work
        step = max(1, int(math.sqrt(work.size / 40_000)))
        sample = work[::step, ::step].reshape(-1)
        self.paper_global = _quantile(sample, 0.9)
        self._ink()
        self._noise()
        self.out["glyph_count"] = float(self.boxes.shape[0])
        if self.boxes.shape[0] < _EMPTY_TEXT:
            self.out["paper"] = self.paper_global
            self.out["sharpness"] = 0.5
            self.out["margin"] = 10.0
            return self.out
        self.out["glyph_height"] = self.hc * self.to_source
        self._text_area()
        self._sharpness()
        self._grid()
        self._levels()
        self._cutoff()
        self._lines()
        self._upside_down()
        return self.out

    # -- ink and glyphs ------------------------------------------------------------------

    def _ink(self) -> None:
        work = self.work
        block = max(15, (min(self.h, self.w) // 16) | 1)
        mean = cv2.blur(work, (block, block), borderType=cv2.BORDER_REPLICATE)
        # the offset grows with the local level, so faint text on bright paper still counts
        offset = np.maximum(cv2.convertScaleAbs(mean, alpha=1 / 16.0), 8)
        self.ink = cv2.subtract(mean, work) > offset
        ink_u8 = self.ink.view(np.uint8)
        _, _, stats, _ = cv2.connectedComponentsWithStats(ink_u8, connectivity=8)
        self.stats = stats[1:]
        s = self.stats
        w, h, area = s[:, 2], s[:, 3], s[:, 4]
        keep = (
            (h >= 3) & (h <= max(4, self.h // 8)) & (w <= 4 * h + 2) & (w <= self.w // 4 + 2)
            & (area >= 0.08 * w * h) & (area <= 0.95 * w * h + 1)
        )
        self.boxes = s[keep, :4]
        if self.boxes.shape[0]:
            hts = self.boxes[:, 3]
            # characters broken into pieces (dot-matrix, faded print) pull the median down:
            # judge the size by the upper part of the distribution
            self.hc = float(max(3.0, np.percentile(hts, 70)))
        else:
            self.hc = 0.0

    def _noise(self) -> None:
        # Immerkaer: the 3x3 kernel cancels smooth images; MAD of the residual is robust to edges
        kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
        resid = np.abs(cv2.filter2D(self.work, cv2.CV_16S, kernel)[1:-1:3, 1:-1:2]).reshape(-1)
        mid = resid.size // 2
        self.out["noise"] = 1.4826 * float(np.partition(resid, mid)[mid]) / 6.0

    def _text_area(self) -> None:
        boxes = self.boxes
        x0, y0 = boxes[:, 0], boxes[:, 1]
        x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
        top, bottom = np.percentile(y0, 1), np.percentile(y1, 99)
        left, right = np.percentile(x0, 1), np.percentile(x1, 99)
        self.area = (int(top), int(math.ceil(bottom)), int(left), int(math.ceil(right)))
        t, b, lft, r = self.area
        region = self.ink[t:b, lft:r]
        self.out["ink_fraction"] = float(region.mean()) if region.size else 0.0

    # -- sharpness ---------------------------------------------------------------------------

    def _sharpness(self) -> None:
        t, b, lft, r = self.area
        pad = int(self.hc)
        t, lft = max(0, t - pad), max(0, lft - pad)
        b, r = min(self.h, b + pad), min(self.w, r + pad)
        # a central block of the text is enough to judge focus and motion (keeps the cost flat)
        rows = max(int(4 * self.hc), _SHARP_PIXELS // max(1, r - lft))
        if b - t > rows:
            mid = (t + b) // 2
            t, b = mid - rows // 2, mid - rows // 2 + rows
        region = self.work[t:b, lft:r]
        gx = cv2.Sobel(region, cv2.CV_32F, 1, 0, ksize=3, scale=0.125)
        gy = cv2.Sobel(region, cv2.CV_32F, 0, 1, ksize=3, scale=0.125)
        mag = cv2.magnitude(gx, gy)
        k = max(5, int(round(self.hc)) | 1)
        spread = cv2.morphologyEx(region, cv2.MORPH_GRADIENT, np.ones((k, k), np.uint8))
        peak = mag >= cv2.dilate(mag, np.ones((3, 3), np.uint8))
        top_spread = float(spread.max())
        strong = peak & (spread >= max(20.0, 0.5 * top_spread)) & (mag >= 0.05 * spread)
        if int(np.count_nonzero(strong)) < 50:
            self.out["sharpness"] = 0.0
            self.out["blur_sigma"] = 1.0
            return
        ratio = mag[strong] / spread[strong]
        # the blurriest of four edge directions (motion blur smears one direction only)
        bins = np.minimum(3, (np.abs(np.arctan2(gy[strong], gx[strong])) * (4 / math.pi)).astype(np.int32))
        values = [_quantile(ratio[bins == i], 0.6) for i in range(4) if np.count_nonzero(bins == i) >= 20]
        sharp = min(values) if values else _quantile(ratio, 0.6)
        self.out["sharpness"] = sharp
        self.out["blur_sigma"] = 1.0 / (2.5 * max(sharp, 1e-3)) / self.hc

    # -- coarse grid: paper, holes, objects ----------------------------------------------

    def _grid(self) -> None:
        cell = max(3, int(round(self.hc / 2)))
        self.cell = cell
        gh, gw = max(1, self.h // cell), max(1, self.w // cell)
        self.grid_shape = (gh, gw)
        ch, cw = gh * cell, gw * cell
        self.g_mean = cv2.resize(self.work[:ch, :cw], (gw, gh), interpolation=cv2.INTER_AREA).astype(np.float32)
        self.g_ink = cv2.resize(self.ink[:ch, :cw].view(np.uint8) * np.uint8(255), (gw, gh),
                                interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        # texture: the local range of the grid means (an object is smooth, text and paper grain are not)
        mx = cv2.dilate(self.g_mean, np.ones((3, 3), np.uint8))
        mn = cv2.erode(self.g_mean, np.ones((3, 3), np.uint8))
        self.g_range = mx - mn
        if self.colour is not None:
            col = self.colour[:, :, :3]
            fy, fx = col.shape[0] / self.h, col.shape[1] / self.w
            col = col[: int(ch * fy), : int(cw * fx)]
            small = cv2.resize(col, (gw, gh), interpolation=cv2.INTER_AREA).astype(np.int16)
            self.g_chroma = (small.max(axis=2) - small.min(axis=2)).astype(np.float32)
        else:
            self.g_chroma = np.zeros((gh, gw), np.float32)
        t, b, lft, r = self.area
        inside = np.zeros((gh, gw), bool)
        inside[t // cell : max(t // cell + 1, b // cell), lft // cell : max(lft // cell + 1, r // cell)] = True
        self.inside = inside
        has_ink = cv2.dilate((self.g_ink > 0.02).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
        self.has_ink = has_ink
        smooth = self.g_range < max(8.0, 3.0 * self.out["noise"] + 4.0)
        empty = ~has_ink & smooth
        paper = self.paper_global
        self.foreign = empty & ((self.g_mean < paper - 40.0) | (self.g_chroma > 45.0))
        self._occlusion()
        bright = empty & ~self.foreign & (self.g_mean >= paper - 12.0)
        self._glare(bright)

    def _occlusion(self) -> None:
        foreign = (self.foreign & self.inside).view(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(foreign, connectivity=4)
        inside_cells = max(1, int(self.inside.sum()))
        ink_cells = self.g_ink > 0.02
        span = max(2, int(round(2.5 * self.hc / self.cell)))
        best = 0.0
        for i in np.flatnonzero(stats[1:, 4] >= 0.02 * inside_cells) + 1:
            x, y, w, h, a = (int(v) for v in stats[i])
            sides = (
                int(ink_cells[max(0, y - span) : y, x : x + w].any())
                + int(ink_cells[y + h : y + h + span, x : x + w].any())
                + int(ink_cells[y : y + h, max(0, x - span) : x].any())
                + int(ink_cells[y : y + h, x + w : x + w + span].any())
            )
            # an object over the text has text on three sides of it (two when it is large)
            if sides >= 3 or (sides == 2 and a >= 0.08 * inside_cells):
                best = max(best, a / inside_cells)
        self.out["occluded"] = float(best)

    def _glare(self, bright: np.ndarray) -> None:
        free = (bright & self.inside).view(np.uint8)
        if not free.any():
            return
        dist = cv2.distanceTransform(np.pad(free, 1), cv2.DIST_L2, 3)
        self.out["glare"] = float(dist.max()) * self.cell / self.hc

    # -- grey levels -----------------------------------------------------------------------

    def _levels(self) -> None:
        bg = cv2.dilate(self.g_mean, np.ones((5, 5), np.uint8))
        blocked = cv2.dilate(self.foreign.view(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        usable = self.inside & ~blocked
        values = bg[usable] if usable.any() else bg.reshape(-1)
        self.out["paper"] = float(np.percentile(values, 10))
        # ink depth below the local paper, at the darkest quarter of the ink cells
        ink_cells = (self.g_ink > 0.15) & usable
        if ink_cells.any():
            # a cell mixes ink and paper: undo the mix with the ink share of the cell
            share = np.maximum(self.g_ink[ink_cells], 0.15)
            ink_level = bg[ink_cells] - (bg[ink_cells] - self.g_mean[ink_cells]) / share
            depth = (bg[ink_cells] - ink_level) / np.maximum(bg[ink_cells], 1.0)
            self.out["contrast"] = float(np.clip(np.percentile(depth, 75), 0.0, 1.0))
        self.out["noise_ratio"] = self.out["noise"] / max(8.0, self.out["contrast"] * self.paper_global)

    # -- frame edges -----------------------------------------------------------------------

    def _cutoff(self) -> None:
        s = self.stats
        hc = self.hc
        # sliced glyphs are shorter than whole ones: count ink pieces of glyph size on each side
        ok = ((s[:, 3] >= 0.3 * hc) | (s[:, 2] >= 0.3 * hc)) & (s[:, 3] <= 3 * hc) & (s[:, 2] <= 3 * hc)
        c = s[ok]
        counts = [
            int((c[:, 1] == 0).sum()),
            int((c[:, 1] + c[:, 3] >= self.h).sum()),
            int((c[:, 0] == 0).sum()),
            int((c[:, 0] + c[:, 2] >= self.w).sum()),
        ]
        self.out["text_cut"] = float(max(counts))
        t, b, lft, r = self.area
        margins = [t, self.h - b, lft, self.w - r]
        self.out["margin"] = max(0.0, float(min(margins))) / hc

    # -- text lines: skew, rotation --------------------------------------------------------

    def _lines(self) -> None:
        words = cv2.morphologyEx((self.g_ink > 0.08).view(np.uint8), cv2.MORPH_CLOSE, np.ones((2, 2), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(words, connectivity=8)
        if n <= 1:
            return
        ys, xs = np.nonzero(labels)
        lab = labels[ys, xs]
        cnt = np.maximum(np.bincount(lab, minlength=n), 1).astype(np.float64)
        mx = np.bincount(lab, xs, n) / cnt
        my = np.bincount(lab, ys, n) / cnt
        dx = xs - mx[lab]
        dy = ys - my[lab]
        mu20 = np.bincount(lab, dx * dx, n) / cnt + 1 / 12
        mu02 = np.bincount(lab, dy * dy, n) / cnt + 1 / 12
        mu11 = np.bincount(lab, dx * dy, n) / cnt
        common = np.sqrt(4 * mu11**2 + (mu20 - mu02) ** 2)
        l1 = (mu20 + mu02 + common) / 2
        l2 = np.maximum((mu20 + mu02 - common) / 2, 1e-6)
        elong = np.sqrt(l1 / l2)
        length = 4 * np.sqrt(l1) * self.cell
        ok = (elong >= 3.0) & (length >= 3 * self.hc)
        ok[0] = False
        if ok.sum() < 3:
            return
        theta = 0.5 * np.degrees(np.arctan2(2 * mu11[ok], mu20[ok] - mu02[ok]))  # image y down
        weight = length[ok]
        vertical = np.abs(theta) > 45
        self.out["vertical"] = float(weight[vertical].sum() / weight.sum())
        if self.out["vertical"] > 0.5:
            angles = np.where(theta[vertical] > 0, 90 - theta[vertical], -90 - theta[vertical])
            self.out["skew"] = _weighted_median(angles, weight[vertical])
        else:
            self.out["skew"] = _weighted_median(-theta[~vertical], weight[~vertical])

    def _upside_down(self) -> None:
        boxes = self.boxes
        hc = self.hc
        h = boxes[:, 3]
        full = boxes[(h >= 0.75 * hc) & (h <= 1.5 * hc)]
        if self.out["vertical"] > 0.5 or abs(self.out["skew"]) > 10 or full.shape[0] < 10:
            return
        # small round marks: periods, commas, i-dots
        s = self.stats
        mark = (s[:, 3] <= 0.35 * hc) & (s[:, 2] <= 0.45 * hc) & (s[:, 4] >= 2)
        mark &= (s[:, 2] <= 2.5 * s[:, 3]) & (s[:, 3] <= 2.5 * s[:, 2])
        marks = s[mark]
        if marks.shape[0] < 5:
            return
        marks = marks[:: max(1, marks.shape[0] // 150)]
        mcx = marks[:, 0] + marks[:, 2] / 2
        mcy = marks[:, 1] + marks[:, 3] / 2
        fx0 = full[:, 0].astype(np.float32)
        fx1 = fx0 + full[:, 2]
        fy0 = full[:, 1].astype(np.float32)
        fy1 = fy0 + full[:, 3]
        # a neighbour: a whole glyph beside the mark whose rows contain it
        gap = np.maximum(fx0[None, :] - mcx[:, None], mcx[:, None] - fx1[None, :])
        pair = (gap < 0.8 * hc) & (mcy[:, None] >= fy0[None, :] - 0.1 * hc) & (mcy[:, None] <= fy1[None, :] + 0.1 * hc)
        has = pair.any(axis=1)
        if has.sum() < 5:
            return
        # position of the mark within its nearest neighbour's height: 0 top, 1 bottom
        nearest = np.argmin(np.where(pair, gap, np.inf), axis=1)[has]
        pos = (mcy[has] - fy0[nearest]) / np.maximum(1.0, fy1[nearest] - fy0[nearest])
        top = int((pos < 0.3).sum())
        bottom = int((pos > 0.7).sum())
        if top + bottom >= 5:
            self.out["upside_down"] = top / (top + bottom)


def _quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile (nearest rank) of a 1-D array, by partition (cheaper than percentile)."""
    k = min(values.size - 1, max(0, int(q * (values.size - 1))))
    return float(np.partition(values, k)[k])


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2)])
