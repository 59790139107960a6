"""Raw, cheap document-imaging measurements behind the quality report.

:func:`measure` returns plain numbers (a ``dict[str, float]``): the quality limits turn them into
defect scores, and the trainable classifier reuses them as features. Everything runs on a
grayscale working copy whose longer side is at most :data:`WORK_SIDE` pixels, so the cost does not
grow with the input; sizes that matter in original pixels (glyph height) are scaled back with
``source_size``. Only the luminance is used, so an RGB image and its grayscale decode
(``decode_image(..., as_gray=True)``, which skips the JPEG's chroma) measure the same.

Measurements (units in brackets):

``glyph_height``  median height of character-like components, in original pixels
``glyph_count``   number of such components (when the usual ink threshold finds almost none,
                  faint print found a few grey levels above the noise, standing in text lines)
``ink_fraction``  share of the text area covered by ink (0..1)
``sharpness``     text-edge sharpness: the derivative along a direction where it peaks along
                  that direction, over the local contrast, for the blurriest of x, y and the two
                  diagonals (0..0.5; clean receipts 0.22-0.41; Gaussian blur sigma gives about
                  0.4 / sigma, a motion smear of L pixels about 1 / L)
``blur_sigma``    the equivalent Gaussian blur in glyph heights (1 / (2.5 * sharpness) / height)
``noise``         noise standard deviation from the MAD of a Laplacian-like residual (grey levels)
``noise_ratio``   noise over ink contrast
``paper``         paper brightness where the text is, 10th percentile of the local background
``contrast``      ink contrast relative to the paper (0..1)
``glare``         radius of the largest bright hole inside the text without even faint ink, in
                  glyph heights
``occluded``      share of the text area under a smooth, non-paper object (0..1)
``text_cut``      character-like components sliced by the worst frame side, keeping at least 0.3
                  of a character inside the frame
``margin``        smallest distance from the text to a frame side, in glyph heights
``cut_span``      share of a frame side's text extent along which characters are sliced, times
                  ``min(1, sliced / 8)`` (0..1; 0 in heavy noise, where pieces cannot be told apart)
``lines``         strength of the text-line structure (projection-profile sharpness; 1 = none)
``skew``          dominant text-line angle, degrees counter-clockwise (-45..45)
``vertical``      line evidence across the page over line evidence along it (projection-profile
                  sharpness ratio; a 90/270 turn gives about 2-4)
``upside_down``   how much straighter the glyph top line is than the baseline (0 upright; a half
                  turn of Latin print gives about 0.1-0.7)
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ocrprep.quality.text import components, glyph_filter, glyph_height, ink_depth, partition_percentile, to_gray

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
    "cut_span",
    "lines",
    "skew",
    "vertical",
    "upside_down",
)

_EMPTY_TEXT = 12  # fewer glyphs than this: no text to judge
_SHARP_PIXELS = 60_000  # pixels of text examined for edge sharpness
_SHARP_QUANTILE = 0.8  # of the edge peaks of one direction: its sharp edges, not its curves
_MAX_NOISE_FOR_CUTS = 0.05  # noise/contrast above which sliced characters cannot be told from specks
_MIN_LINES = 3.3  # line-profile strength below which no line angle is reported
_AXIS_ALIGNED = 2.0  # degrees of text-line tilt within which the text box has no empty corners
_MANY_PARTS = 80  # character-sized parts enough for a line profile of their own
_LINE_PARTS = 1000  # at most this many parts go into the line profiles (an even sample)
_FEW_GLYPHS = 40  # fewer characters than this at the usual ink threshold: look for faint print
_FAINT_DEPTH = 10  # grey levels: faint print reaches this deep below the paper, grain does not
# grey levels below the paper of a smooth, ink-free area that is an object over the page (a hand,
# a sticky note: luminance only, so a yellow note on white paper, about 30 levels darker, counts;
# a shadow fades in and is told apart by its soft outline, see _occlusion)
_OBJECT_DEPTH = 15.0
_OUTLINE_CELLS = 8  # grid cells of an object's outline off the text needed to judge its sharpness
_CUT_DEPTH = 0.3  # share of a glyph a sliced piece keeps inside the frame (cuts through text keep 0.3-0.7)


def measure(image: np.ndarray, *, source_size: tuple[int, int] | None = None) -> dict[str, float]:
    """Measure the properties of a document image that decide whether OCR can read it.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` grayscale or ``(H, W, 3)`` RGB uint8 image (only its luminance is used);
        never modified.
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
    return _Measurer(work, to_source).run()


class _Measurer:
    """One measurement pass; holds the intermediate maps so each is computed once."""

    def __init__(self, work: np.ndarray, to_source: float) -> None:
        self.work = work
        self.to_source = to_source
        self.h, self.w = work.shape
        self.out: dict[str, float] = dict.fromkeys(MEASURES, 0.0)

    def run(self) -> dict[str, float]:
        work = self.work
        step = max(1, int(math.sqrt(work.size / 40_000)))
        sample = work[::step, ::step].reshape(-1)
        self.paper_global = float(_count_quantile(sample, 0.9))
        self._noise()
        self._ink()
        self.out["glyph_count"] = float(self.boxes.shape[0])
        if self.boxes.shape[0] < _EMPTY_TEXT:
            self.out["paper"] = self.paper_global
            self.out["sharpness"] = 0.5
            self.out["margin"] = 10.0
            return self.out
        self.out["glyph_height"] = self.hc * self.to_source
        self._text_area()
        self._sharpness()
        self._lines()
        self._grid()
        self._levels()
        if self.out["noise_ratio"] <= _MAX_NOISE_FOR_CUTS:
            self._cutoff()
        return self.out

    # -- ink and glyphs ------------------------------------------------------------------

    def _ink(self) -> None:
        # masks are uint8 0/255 (OpenCV's convention: no conversion before resizing or labelling)
        depth, offset = ink_depth(self.work)
        self.ink = cv2.compare(depth, offset, cv2.CMP_GT)
        # faint print: a few grey levels above the noise (the usual threshold grows with the paper)
        faint_level = min(255, int(3.0 * self.out["noise"] + 3.0))
        self.faint_ink = cv2.threshold(depth, faint_level, 255, cv2.THRESH_BINARY)[1]
        self.stats = components(self.ink)[1]
        self.boxes = self.stats[glyph_filter(self.stats, (self.h, self.w)), :4]
        if self.boxes.shape[0] < _FEW_GLYPHS:
            # nearly nothing at the usual threshold: very faint print rather than a blank page?
            # Taken when the faint mask finds many more characters, standing in text lines.
            stats = components(self.faint_ink)[1]
            boxes = stats[glyph_filter(stats, (self.h, self.w)), :4]
            # print is a few times deeper than the threshold; grain and uneven paper are not
            deep = _count_quantile(depth[depth > faint_level], 0.9) >= _FAINT_DEPTH
            if deep and boxes.shape[0] >= max(_FEW_GLYPHS, 3 * self.boxes.shape[0]) and _has_lines(boxes):
                self.ink, self.stats, self.boxes = self.faint_ink, stats, boxes
        self.hc = max(3.0, glyph_height(self.boxes[:, 3])) if self.boxes.shape[0] else 0.0

    def _noise(self) -> None:
        # Immerkaer: the 3x3 kernel cancels smooth images; MAD of the residual is robust to edges
        # (separable: [1, -2, 1] down the rows, then across), taken only at every third row and
        # second column: the sample the median needs, without filtering the whole image
        work = self.work
        h, w = work.shape
        if h < 3 or w < 3:
            return
        rows = [work[i : h - 2 + i : 3].astype(np.int16) for i in range(3)]
        v = rows[0] - 2 * rows[1] + rows[2]
        resid = np.abs(v[:, 0 : w - 2 : 2] - 2 * v[:, 1 : w - 1 : 2] + v[:, 2:w:2]).reshape(-1)
        # the median by counting (the residuals are small integers): much cheaper than a partition
        self.out["noise"] = 1.4826 * float(_count_quantile(resid, 0.5)) / 6.0

    def _text_area(self) -> None:
        boxes = self.boxes
        x0, y0 = boxes[:, 0], boxes[:, 1]
        x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
        top, bottom = partition_percentile(y0, 1), partition_percentile(y1, 99)
        left, right = partition_percentile(x0, 1), partition_percentile(x1, 99)
        self.area = (int(top), int(math.ceil(bottom)), int(left), int(math.ceil(right)))
        t, b, lft, r = self.area
        region = self.ink[t:b, lft:r]
        self.out["ink_fraction"] = cv2.countNonZero(region) / region.size if region.size else 0.0

    # -- sharpness ---------------------------------------------------------------------------

    def _sharpness(self) -> None:
        """Edge sharpness of the blurriest of four directions (x, y and the two diagonals).

        In each direction ``d`` the derivative ``g_d`` is taken along ``d`` and kept where it
        peaks along ``d`` (one-dimensional non-maximum suppression), at text edges of strong
        local contrast; its ratio to the local contrast is about ``0.4 / sigma`` for an edge
        blurred by a Gaussian of ``sigma`` pixels, and ``1 / L`` across a motion smear of
        ``L`` pixels. Judging each direction along itself keeps the measure steady when the page
        turns a little (edges move between directions gradually, their sharpness along each
        direction does not jump), and a smear in one direction leaves no sharp peaks along it,
        whatever the edges across it do.
        """
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
        if min(region.shape) < 3:
            self.out["sharpness"] = 0.5
            return
        # Sobel in integers (8 times the derivative); the diagonals as sums, sqrt(2) too large
        gx = cv2.Sobel(region, cv2.CV_16S, 1, 0, ksize=3)
        gy = cv2.Sobel(region, cv2.CV_16S, 0, 1, ksize=3)
        k = max(5, int(round(self.hc)) | 1)
        spread = cv2.morphologyEx(region, cv2.MORPH_GRADIENT, np.ones((k, k), np.uint8))
        h, w = region.shape
        # candidates: interior pixels at text edges of strong local contrast
        edges = spread[1:-1, 1:-1] >= max(20, int(math.ceil(0.5 * int(spread.max()))))
        flat_spread = spread.reshape(-1)
        values = []
        for g, (dy, dx), scale in (
            (gx, (0, 1), 1 / 8), (gy, (1, 0), 1 / 8), (cv2.add(gx, gy), (1, 1), 1 / (8 * math.sqrt(2))),
            (cv2.subtract(gx, gy), (1, -1), 1 / (8 * math.sqrt(2))),
        ):
            a = np.abs(g)
            centre = a[1:-1, 1:-1]
            peak = (centre >= a[1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx])
            peak &= centre >= a[1 - dy : h - 1 - dy, 1 - dx : w - 1 - dx]
            peak &= edges
            # every second peak is plenty for a quantile (and halves the cost of what follows)
            at = np.flatnonzero(peak)[::2]
            at += (at // (w - 2)) * 2 + w + 1  # interior index -> index in the region
            ratio = a.reshape(-1)[at] * np.float32(scale) / flat_spread[at]
            ratio = ratio[ratio >= 0.05]
            if ratio.size >= 20:
                values.append(_quantile(ratio, _SHARP_QUANTILE))
        if not values:  # too few text edges to judge focus
            self.out["sharpness"] = 0.5
            return
        sharp = min(values)
        self.out["sharpness"] = sharp
        self.out["blur_sigma"] = 1.0 / (2.5 * max(sharp, 1e-3)) / self.hc

    # -- coarse grid: paper, holes, objects ----------------------------------------------

    def _grid(self) -> None:
        cell = max(3, int(round(self.hc / 2)))
        self.cell = cell
        gh, gw = max(1, self.h // cell), max(1, self.w // cell)
        self.grid_shape = (gh, gw)
        ch, cw = gh * cell, gw * cell
        # the grid centred on the frame, so a page turned half way round falls on the same cells
        oy, ox = (self.h - ch) // 2, (self.w - cw) // 2
        rows, cols = slice(oy, oy + ch), slice(ox, ox + cw)
        self.g_mean = cv2.resize(self.work[rows, cols], (gw, gh), interpolation=cv2.INTER_AREA).astype(np.float32)
        self.g_ink = cv2.resize(self.ink[rows, cols], (gw, gh),
                                interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        # texture: the local range of the grid means (an object is smooth, text and paper grain are not)
        mx = cv2.dilate(self.g_mean, np.ones((3, 3), np.uint8))
        mn = cv2.erode(self.g_mean, np.ones((3, 3), np.uint8))
        self.g_range = mx - mn
        t, b, lft, r = self.area
        inside = np.zeros((gh, gw), bool)
        # every cell the text box touches (rounded outwards on both sides alike)
        top, left = (t - oy) // cell, (lft - ox) // cell
        inside[max(0, top) : max(top + 1, -(-(b - oy) // cell)), max(0, left) : max(left + 1, -(-(r - ox) // cell))] = True
        self.inside = inside
        has_ink = cv2.dilate((self.g_ink > 0.02).view(np.uint8), np.ones((3, 3), np.uint8)) > 0
        self.has_ink = has_ink
        smooth = self.g_range < max(8.0, 3.0 * self.out["noise"] + 4.0)
        empty = ~has_ink & smooth
        paper = self.paper_global
        self.foreign = empty & (self.g_mean < paper - _OBJECT_DEPTH)
        self._occlusion()
        # faint print that the usual threshold misses is no hole either (glare leaves no ink at all)
        g_faint = cv2.resize(self.faint_ink[rows, cols], (gw, gh),
                             interpolation=cv2.INTER_AREA) > 5
        bright = empty & ~self.foreign & ~g_faint & (self.g_mean >= paper - 12.0)
        self._glare(bright)

    def _occlusion(self) -> None:
        foreign = self.foreign.view(np.uint8)
        labels, stats = components(foreign, 4)
        n = stats.shape[0] + 1
        if n <= 1:
            return
        inside_cells = max(1, int(self.inside.sum()))
        ink_cells = self.g_ink > 0.02
        span = max(2, int(round(2.5 * self.hc / self.cell)))
        # an object is thick: it hides several lines at once (shadowed gaps between lines are thin)
        depth = cv2.distanceTransform(np.pad(foreign, 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
        thick = 1.5 * self.hc / self.cell
        over = np.bincount(labels[self.inside], minlength=n)
        best = 0.0
        for i in np.flatnonzero(over[1:] >= 0.02 * inside_cells) + 1:
            x, y, w, h, _ = (int(v) for v in stats[i - 1])
            y0, x0, y1, x1 = max(0, y - 1), max(0, x - 1), y + h + 1, x + w + 1
            comp = labels[y0:y1, x0:x1] == i
            if float(depth[y0:y1, x0:x1][comp].max()) < thick:
                continue
            # an object has a sharp outline; a shadow fades in over many cells
            ring = (cv2.dilate(comp.view(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~comp
            ring &= ~self.has_ink[y0:y1, x0:x1]
            step = self.g_range[y0:y1, x0:x1] >= 12.0
            # (judged only where enough of the outline borders paper: an object amid the text is
            # outlined by ink cells, which say nothing about a fade)
            if int(np.count_nonzero(ring)) >= _OUTLINE_CELLS and float(np.mean(step[ring])) < 0.3:
                continue
            sides = (
                int(ink_cells[max(0, y - span) : y, x : x + w].any())
                + int(ink_cells[y + h : y + h + span, x : x + w].any())
                + int(ink_cells[y : y + h, max(0, x - span) : x].any())
                + int(ink_cells[y : y + h, x + w : x + w + span].any())
            )
            # an object over the text has text on three sides of it (two when it is large)
            share = float(over[i]) / inside_cells
            if sides >= 3 or (sides == 2 and share >= 0.08):
                best = max(best, share)
        self.out["occluded"] = float(best)

    def _glare(self, bright: np.ndarray) -> None:
        # a hole in the text: bright, ink-free cells with text on both sides (above and below,
        # or left and right); its size is the radius of the largest disc that fits in it
        ink = (self.g_ink > 0.02) & self.inside
        left = np.maximum.accumulate(ink, axis=1)
        right = np.maximum.accumulate(ink[:, ::-1], axis=1)[:, ::-1]
        up = np.maximum.accumulate(ink, axis=0)
        down = np.maximum.accumulate(ink[::-1], axis=0)[::-1]
        enclosed = (left & right) | (up & down)
        if abs(self.out["skew"]) <= _AXIS_ALIGNED and self.out["vertical"] < 1.0:
            # upright text: a spot across a corner of the text is bounded on two adjacent sides
            # (a tilted page has empty corners in its text box, so only there)
            enclosed |= (left | right) & (up | down)
        free = (bright & self.inside & enclosed).view(np.uint8)
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
        self.out["paper"] = partition_percentile(values, 10)
        # ink depth below the local paper, at the darkest quarter of the ink cells
        ink_cells = (self.g_ink > 0.15) & usable
        if ink_cells.any():
            # a cell mixes ink and paper: undo the mix with the ink share of the cell
            share = np.maximum(self.g_ink[ink_cells], 0.15)
            ink_level = bg[ink_cells] - (bg[ink_cells] - self.g_mean[ink_cells]) / share
            depth = (bg[ink_cells] - ink_level) / np.maximum(bg[ink_cells], 1.0)
            self.out["contrast"] = float(np.clip(partition_percentile(depth, 75), 0.0, 1.0))
        self.out["noise_ratio"] = self.out["noise"] / max(8.0, self.out["contrast"] * self.paper_global)

    # -- frame edges -----------------------------------------------------------------------

    def _cutoff(self) -> None:
        s = self.stats
        hc = self.hc
        # sliced characters: glyph-sized, stroke-like (not solid) pieces touching a frame side
        # over a short stretch (scanner borders and paper edges touch along long runs)
        w, h, area = s[:, 2], s[:, 3], s[:, 4]
        glyphs = s[glyph_filter(s, (self.h, self.w))]
        stroke = float(np.median(glyphs[:, 4] / np.maximum(glyphs[:, 2], glyphs[:, 3])))
        ok = (np.maximum(w, h) >= 0.35 * hc) & (np.minimum(w, h) >= max(2.0, 0.15 * hc))
        ok &= (h <= 1.6 * hc) & (w <= 2.0 * hc)
        # not solid, unless a sliver of one stroke (a character sliced along its stem)
        sliver = np.minimum(w, h) <= 2.0 * stroke + 1.0
        ok &= ((area <= 0.75 * w * h) | sliver) & (area >= 0.1 * w * h)
        # as thin as the print: torn paper teeth and dark scanner borders are chunkier
        ok &= area / np.maximum(np.maximum(w, h), 1) <= 2.0 * stroke + 0.5
        c = s[ok]
        ink = self.ink
        t, b, lft, r = self.area
        best_count, best_span = 0, 0.0
        # a character cut through reaches well into the frame: at least _CUT_DEPTH of a glyph
        # height (top, bottom) or width (left, right). The frame of a tight crop grazes the tips
        # of the line beyond it (a fifth of their height), a cut through the text does not.
        across = _CUT_DEPTH * hc
        along = _CUT_DEPTH * float(np.median(glyphs[:, 2]))
        sides = (
            (c[:, 1] == 0, ink[0, :], c[:, 0], c[:, 2], c[:, 3] >= across, max(1, r - lft)),
            (c[:, 1] + c[:, 3] >= self.h, ink[-1, :], c[:, 0], c[:, 2], c[:, 3] >= across, max(1, r - lft)),
            (c[:, 0] == 0, ink[:, 0], c[:, 1], c[:, 3], c[:, 2] >= along, max(1, b - t)),
            (c[:, 0] + c[:, 2] >= self.w, ink[:, -1], c[:, 1], c[:, 3], c[:, 2] >= along, max(1, b - t)),
        )
        for touch, edge, pos, size, deep, extent in sides:
            idx = np.flatnonzero(touch & deep)
            if idx.size == 0:
                continue
            contact = np.array([np.count_nonzero(edge[pos[i] : pos[i] + size[i]]) for i in idx])
            keep = (contact >= 1) & (contact <= 0.9 * hc)
            count = int(keep.sum())
            if count == 0:
                continue
            starts, ends = pos[idx][keep], (pos[idx] + size[idx])[keep]
            # the stretch of the side along which characters are sliced, discounted when only a
            # few are (a stray character at the edge of a tight crop is not a cut-off page)
            span = float(ends.max() - starts.min()) / extent * min(1.0, count / 8.0) if count >= 3 else 0.0
            if count > best_count:
                best_count = count
            best_span = max(best_span, min(1.0, span))
        self.out["text_cut"] = float(best_count)
        self.out["cut_span"] = best_span
        margins = [t, self.h - b, lft, self.w - r]
        self.out["margin"] = max(0.0, float(min(margins))) / hc

    # -- text lines: skew, rotation --------------------------------------------------------

    def _lines(self) -> None:
        """Line angle by projection profiles of glyph baselines; orientation by baseline vs top line.

        Glyph bottoms projected across the text lines pile up in narrow peaks at the right angle
        (the sum of squared bin counts is largest). Upright Latin print has a straighter baseline
        than top line (x-height and capital letters, periods and commas on the baseline), so
        comparing the two profiles tells upright from upside down.
        """
        s = self.stats
        hc = self.hc
        h = s[:, 3]
        parts = s[(h >= 0.15 * hc) & (h <= 1.6 * hc) & (s[:, 2] <= 3 * hc)]
        if parts.shape[0] < _EMPTY_TEXT:
            return
        if parts.shape[0] > _LINE_PARTS:
            parts = parts[:: int(math.ceil(parts.shape[0] / _LINE_PARTS))]
        all_cx = parts[:, 0] + parts[:, 2] / 2.0
        all_bottom = (parts[:, 1] + parts[:, 3]).astype(np.float64)
        top = parts[:, 1].astype(np.float64)
        cx, bottom, cy = all_cx, all_bottom, (all_bottom + top) / 2.0
        bin_width = max(1.0, hc / 4.0)
        coarse = np.arange(-90.0, 90.0, 2.0)
        # the angle from character-sized parts: specks (halftone backgrounds, grain) and broken
        # strokes line up along the pixel grid and the diagonals as well as along the text
        # (only when they are many: a profile of a few points is sharp by chance, as in noise)
        big = parts[:, 3] >= 0.5 * hc
        if int(np.count_nonzero(big)) >= max(_MANY_PARTS, parts.shape[0] // 3):
            cx, bottom, cy = cx[big], bottom[big], cy[big]
        scores = _profile_scores(cx, cy, coarse, bin_width)
        best = float(coarse[int(np.argmax(scores))])
        horizontal = np.abs(coarse) <= 44
        s_h, s_v = float(scores[horizontal].max()), float(scores[~horizontal].max())
        self.out["lines"] = max(s_h, s_v)
        if self.out["lines"] < _MIN_LINES:  # no line structure (noise, specks): no angle to report
            return
        self.out["vertical"] = s_v / max(s_h, 1e-9)
        fine = best + np.arange(-2.0, 2.01, 0.25)
        angle = float(fine[int(np.argmax(_profile_scores(cx, bottom, fine, bin_width)))])
        angle = (angle + 90.0) % 180.0 - 90.0
        if abs(angle) > 45:  # the tilt of vertical lines from the nearest quarter turn
            angle = angle - 90.0 if angle > 0 else angle + 90.0
        self.out["skew"] = angle
        if s_h >= s_v and abs(angle) <= 10:
            at = np.array([angle])
            sb = float(_profile_scores(all_cx, all_bottom, at, bin_width / 2, pair=False)[0])
            st = float(_profile_scores(all_cx, top, at, bin_width / 2, pair=False)[0])
            # 0 when the baseline is the straighter line (upright), growing when the top line is
            self.out["upside_down"] = max(0.0, 10.0 * (st / max(sb + st, 1e-9) - 0.5))


def _profile_scores(
    x: np.ndarray, y: np.ndarray, angles: np.ndarray, bin_width: float, *, pair: bool = True
) -> np.ndarray:
    """Sharpness (sum of squared bin counts) of the projection of points across each angle."""
    rad = np.radians(angles)[:, None]
    proj = y[None, :].astype(np.float32) * np.cos(rad).astype(np.float32)
    proj += x[None, :].astype(np.float32) * np.sin(rad).astype(np.float32)
    proj -= proj.min(axis=1, keepdims=True)
    proj *= np.float32(1.0 / bin_width)
    bins = proj.astype(np.int64)  # non-negative: truncation is the floor
    nb = int(bins.max()) + 1
    flat = bins + np.arange(angles.size)[:, None] * nb
    counts = np.bincount(flat.ravel(), minlength=angles.size * nb).reshape(angles.size, nb)
    counts = counts.astype(np.float64)
    if pair:  # add the neighbouring bin so a line split across two bins still counts as one peak
        counts = counts[:, :-1] + counts[:, 1:] if nb > 1 else counts
    # relative to points spread evenly over the projected range (1.0 = no structure)
    used = bins.max(axis=1) + 1.0
    return (counts**2).sum(axis=1) / max(1, x.size) ** 2 * used / (2.0 if pair else 1.0)


def _has_lines(boxes: np.ndarray) -> bool:
    """Do glyph boxes ``(N, 4)`` stand in text lines near the page axes?

    A sharp projection profile (over 5 times an even spread) within 20 degrees of horizontal or
    vertical; the blobs of uneven paper and grain line up only weakly, at any angle.
    """
    hc = max(3.0, glyph_height(boxes[:, 3]))
    cx = boxes[:, 0] + boxes[:, 2] / 2.0
    bottom = (boxes[:, 1] + boxes[:, 3]).astype(np.float64)
    angles = np.concatenate([np.arange(-20.0, 21.0, 2.0), np.arange(70.0, 111.0, 2.0)])
    return float(_profile_scores(cx, bottom, angles, max(1.0, hc / 4.0)).max()) >= 5.0


def _count_quantile(values: np.ndarray, q: float) -> int:
    """The ``q`` quantile (nearest rank) of small non-negative integers, by counting (0 when empty)."""
    if values.size == 0:
        return 0
    cum = np.cumsum(np.bincount(values.reshape(-1)))
    return int(np.searchsorted(cum, min(values.size - 1, int(q * (values.size - 1))) + 1))


def _quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile (nearest rank) of a 1-D array, by partition (cheaper than percentile)."""
    k = min(values.size - 1, max(0, int(q * (values.size - 1))))
    return float(np.partition(values, k)[k])


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2)])
