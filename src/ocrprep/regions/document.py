"""Find the document in a photo: its four corners, or None with the reason.

The method, in order (see :func:`locate_document`):

1. Work on a copy about 320 px on its longer side, in CIE Lab.
2. Seed the paper from text: dark thin strokes (a morphological black-hat) that are dense in a
   window mark where the document is; the paper's colour is learnt from the non-ink pixels there
   (k-means, two clusters, so a shadow across the paper is covered).
3. Learn the background's colours from a band along the image border (k-means, four clusters),
   dropping clusters that match the paper (a document touching the border).
4. Label each pixel paper or background by its nearer model (a two-class nearest-mean rule with
   the luminance down-weighted, smoothed), keep the component connected to the text seed, fill its
   holes and take its convex hull.
5. Fit a quadrilateral: four sides from the hull (the four-vertex polygon of largest area), each
   side re-fitted as a robust line (Huber) through the contour points near it, then intersected.
6. Refine each side at up to 1600 px along the image gradient: profiles across the side give the
   strongest edge on each, a robust line through them is the side.
7. Choose among the quads of the colour tolerances, and lines near their sides, by the evidence
   along each side (:mod:`ocrprep.regions.quads`): a sharp colour edge the whole way, paper just
   inside and not just outside, and all the dense text kept. A shadow that cut the paper short or
   a blob that made it too big loses to the quad on the paper's real edges.

A flat scan (no background band that differs from the paper, or a quad covering almost all the
image) returns the full frame; an image without text or paper returns None with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocrprep.quality.text import to_gray
from ocrprep.regions.quadfit import fit_quad, order_quad, refine_quad
from ocrprep.regions.quads import search_quads

__all__ = ["DocumentResult", "find_document", "locate_document", "order_quad", "quad_iou"]

WORK_SIDE = 320
LENIENT_LEVELS = (0.0, 10.0, 40.0)  # colour tolerances for growing paper into shadow


@dataclass(frozen=True)
class DocumentResult:
    """Where the document is, and how it was decided.

    Attributes
    ----------
    quad : ndarray of shape (4, 2), float32, or None
        TL, TR, BR, BL corners in input pixels (x, y); None when no document is visible.
    reason : str
        Plain words: ``"document found"``, ``"flat scan: ..."`` or why none was found.
    full_frame : bool
        True when the quad is the image frame (a flat scan).
    confidence : float
        0..1: the mean of how well the quad fits the paper region (IoU) and the share of its
        outline on a sharp image edge (1.0 for a flat scan).
    """

    quad: np.ndarray | None
    reason: str
    full_frame: bool = False
    confidence: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "quad": None if self.quad is None else np.round(self.quad, 2).tolist(),
            "reason": self.reason,
            "full_frame": self.full_frame,
            "confidence": round(self.confidence, 4),
        }


def find_document(image: np.ndarray) -> np.ndarray | None:
    """The document's four corners in ``image``, or None when no document is visible.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3) RGB or (H, W), uint8

    Returns
    -------
    ndarray of shape (4, 2), float32, or None
        TL, TR, BR, BL in pixel (x, y); the full frame for a flat scan. Use
        :func:`locate_document` for the reason when it is None.

    Notes
    -----
    Works on reduced copies (about 320 px to segment, up to 1600 px to refine); the input is
    never changed.

    Examples
    --------
    >>> page = np.full((400, 300, 3), 235, np.uint8)
    >>> page[50:350:12, 40:260] = 20  # lines of "text" on a flat scan
    >>> find_document(page).tolist()
    [[0.0, 0.0], [300.0, 0.0], [300.0, 400.0], [0.0, 400.0]]
    """
    return locate_document(image).quad


def _full_frame(shape: tuple[int, ...]) -> np.ndarray:
    h, w = shape[:2]
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(to_gray(image), cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_RGBA2RGB)
    return image


def _resize(image: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _kmeans(samples: np.ndarray, k: int) -> np.ndarray:
    samples = np.ascontiguousarray(samples, np.float32)
    k = max(1, min(k, len(samples)))
    if len(samples) > 4000:
        samples = samples[:: len(samples) // 4000 + 1]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0)
    cv2.setRNGSeed(0)
    _, _, centres = cv2.kmeans(samples, k, None, criteria, 1, cv2.KMEANS_PP_CENTERS)
    return centres


def _nearest(features: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Distance from each pixel's feature vector to the nearest centre, (H, W) float32."""
    channels = [np.ascontiguousarray(features[..., k], np.float32) for k in range(features.shape[-1])]
    best = np.full(features.shape[:-1], np.inf, np.float32)
    for centre in np.asarray(centres, np.float32):
        # One centre at a time over contiguous channel planes (a min across a short last axis is slow).
        d2 = sum((ch - float(c)) ** 2 for ch, c in zip(channels, centre, strict=True))
        np.minimum(best, d2, out=best)
    return np.sqrt(best)


def _text_map(gray: np.ndarray) -> np.ndarray:
    """Ink strokes: dark, thin marks on a brighter surround, (H, W) bool."""
    hat = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    # Text is sparse strong responses on a quiet surround; a texture responds everywhere.
    return hat > max(20.0, float(np.percentile(hat, 90)) + 15.0)


def _has_text(text: np.ndarray, min_glyphs: int = 20) -> bool:
    """True when the ink map holds at least ``min_glyphs`` small marks (characters, not clutter)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(text.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    glyphs = (areas >= 2) & (heights <= max(4, text.shape[0] // 25))
    return int(glyphs.sum()) >= min_glyphs


def locate_document(image: np.ndarray) -> DocumentResult:
    """:func:`find_document` with the reason, whether it is the full frame, and a confidence.

    Examples
    --------
    >>> locate_document(np.full((300, 400, 3), 128, np.uint8)).reason
    'no document visible: no text or paper-like region found'
    """
    rgb = _to_rgb(image)
    h, w = rgb.shape[:2]
    small, scale = _resize(rgb, WORK_SIDE)
    sh, sw = small.shape[:2]
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2Lab).astype(np.float32)
    gray = lab[..., 0].astype(np.uint8)
    text = _text_map(gray)
    # Where text is dense: the document's interior.
    win = max(9, round(0.06 * max(sh, sw)) | 1)
    density = cv2.boxFilter(text.astype(np.float32), -1, (win, win))
    if density.max() < 0.04:
        return DocumentResult(None, "no document visible: no text or paper-like region found")
    # Paper is bright and unsaturated: weight the text density by it, so textures do not seed.
    chroma = np.hypot(lab[..., 1] - 128, lab[..., 2] - 128)
    bright = cv2.blur(np.clip((lab[..., 0] - chroma) / 255.0, 0, 1), (win, win))
    cue = density * bright
    seed = cue >= 0.35 * float(cue.max())
    count, labels = cv2.connectedComponents(seed.astype(np.uint8), connectivity=8)
    if count > 2:
        seed = labels == labels.flat[int(np.argmax(cue))]
    core = cv2.erode(seed.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (win // 2, win // 2)))
    # Paper colour: non-ink pixels in the seed (its core when that is big enough), brighter part.
    features = lab * np.array([0.5, 1.0, 1.0], np.float32)
    ink = cv2.dilate(text.astype(np.uint8), None).astype(bool)
    for candidate in (core.astype(bool) & ~ink, seed & ~ink, seed & ~text):
        if candidate.sum() >= 30:
            break
    paper_px = features[candidate]
    if core.sum() >= 30:
        seed = core.astype(bool)
    if len(paper_px) < 20:
        return DocumentResult(None, "no document visible: no text or paper-like region found")
    lum = paper_px[:, 0]
    paper_px = paper_px[lum >= np.percentile(lum, 40)]
    fg = _kmeans(paper_px, 2)
    band = max(3, round(0.03 * min(sh, sw)))
    border = np.concatenate([
        features[:band].reshape(-1, 3), features[-band:].reshape(-1, 3),
        features[:, :band].reshape(-1, 3), features[:, -band:].reshape(-1, 3),
    ])
    d_fg_border = _nearest(border[None], fg)[0]
    paper_like = d_fg_border < 12.0
    if paper_like.mean() > 0.6:
        if not _has_text(text):
            return DocumentResult(None, "no document visible: a surface without text")
        return _flat_scan(h, w, "flat scan: the image border is paper")
    bg = _kmeans(border[~paper_like], 4)
    d_fg = _nearest(features, fg)
    d_bg = _nearest(features, bg)
    score = cv2.GaussianBlur(d_bg - d_fg, (0, 0), 1.2)
    # Long edges outside the text are barriers: the paper stops at its outline.
    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 20, 50) > 0
    barrier = edges & ~ink
    strict = (score > 0) & ~barrier
    strict = cv2.morphologyEx(strict.astype(np.uint8), cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    # Paper in shadow looks like the background by colour; it is reached from the lit paper
    # without crossing an edge, so lenient colour tests connected to the seed take it in. Each
    # level gives a candidate; the one whose outline sits on the sharpest edges wins.
    full_gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)  # for refining the quads at full size
    best: DocumentResult | None = None
    previous: np.ndarray | None = None
    found_quads: list[np.ndarray] = []
    for lenient in LENIENT_LEVELS:
        grown = (((strict > 0) | (score > -lenient)) & ~barrier).astype(np.uint8)
        if previous is not None and np.array_equal(grown, previous):
            continue  # the same region as the tighter level: the same answer
        previous = grown
        found = _candidate(full_gray, scale, seed, grown)
        if found.quad is None or found.full_frame:
            best = best or found
            continue
        found_quads.append(found.quad * scale)
        if best is None or best.quad is None or best.full_frame or found.confidence > best.confidence + 0.02:
            best = found
    assert best is not None  # LENIENT_LEVELS is not empty
    if found_quads:
        # The text the document must hold: dense ink in the areas joined to the seed (not a pen).
        dense = (cue >= 0.15 * float(cue.max())).astype(np.uint8)
        count, labels = cv2.connectedComponents(cv2.dilate(dense, None), connectivity=8)
        keep = np.zeros(count, bool)
        keep[np.unique(labels[seed])] = True
        keep[0] = False
        cue_text = text & keep[labels] & (dense > 0)
        paper = ((score > -LENIENT_LEVELS[1]) | ink).astype(np.float32)
        searched = _search(full_gray, scale, features, barrier, cue_text, found_quads, paper)
        if searched is not None:
            best = searched
    return best


def _candidate(gray: np.ndarray, scale: float, seed: np.ndarray, mask: np.ndarray) -> DocumentResult:
    """The document found by growing the paper from the seed within ``mask`` (one tolerance).

    ``gray`` is the full-size image (for refining the sides), ``mask`` at the working size.
    """
    h, w = gray.shape[:2]
    sh, sw = mask.shape
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count <= 1:
        return DocumentResult(None, "no document visible: no paper-like region around the text")
    overlap = np.bincount(labels[seed].ravel(), minlength=count)
    overlap[0] = 0
    best = int(np.argmax(overlap))
    if overlap[best] == 0:
        return DocumentResult(None, "no document visible: no paper-like region around the text")
    region = ((labels == best) | seed).astype(np.uint8)
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea)
    region = np.zeros_like(region)
    cv2.drawContours(region, [contour], -1, 1, -1)  # holes filled
    region = cv2.morphologyEx(region, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    contours, _ = cv2.findContours(region, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return DocumentResult(None, "no document visible: no paper-like region around the text")
    contour = max(contours, key=cv2.contourArea)
    hull = cv2.convexHull(contour)
    hull_area = cv2.contourArea(hull)
    if hull_area > 0.93 * sh * sw:
        return _flat_scan(h, w, "flat scan: the paper fills the frame")
    if hull_area < 0.02 * sh * sw:
        return DocumentResult(None, "no document visible: the paper-like region is too small")
    quad, fit = fit_quad(hull.reshape(-1, 2).astype(np.float32), contour.reshape(-1, 2).astype(np.float32), region)
    if quad is None:
        return DocumentResult(None, "no document visible: the paper-like region is not four-sided")
    quad, support = refine_quad(gray, quad / scale)
    quad = _in_frame(quad, w, h)
    # Confidence: how four-sided the paper region is, and how much of the outline is a sharp edge;
    # a region that runs along the image frame has most likely leaked into the background.
    on_frame = np.mean((contour[:, 0, 0] <= 1) | (contour[:, 0, 1] <= 1) | (contour[:, 0, 0] >= sw - 2) | (contour[:, 0, 1] >= sh - 2))
    confidence = max(0.0, 0.5 * fit + 0.5 * support - float(on_frame))
    return DocumentResult(quad, "document found", False, confidence)


def _search(gray: np.ndarray, scale: float, features: np.ndarray, barrier: np.ndarray, text: np.ndarray,
            hypotheses: list[np.ndarray], paper: np.ndarray) -> DocumentResult | None:
    """The quad chosen by :func:`ocrprep.regions.quads.search_quads`, refined at full size (``gray``)."""
    h, w = gray.shape[:2]
    smooth = cv2.GaussianBlur(features, (0, 0), 1.0)
    points = np.argwhere(text)[:, ::-1].astype(np.float64)
    quad, score = search_quads(smooth, hypotheses, barrier.astype(np.uint8) * 255, points, paper)
    if quad is None:
        return None
    for hyp in hypotheses:
        if np.abs(hyp - quad).max() < 0.5:
            quad = hyp / scale  # already refined
            break
    else:
        quad, _ = refine_quad(gray, quad / scale)
    return DocumentResult(_in_frame(quad, w, h), "document found", False, float(np.clip(score, 0.0, 1.0)))


def _in_frame(quad: np.ndarray, w: int, h: int) -> np.ndarray:
    """``quad`` ordered TL, TR, BR, BL and clipped to a ``w`` x ``h`` frame, float32."""
    quad = order_quad(quad)
    quad[:, 0] = np.clip(quad[:, 0], 0, w)
    quad[:, 1] = np.clip(quad[:, 1], 0, h)
    return quad


def _flat_scan(h: int, w: int, reason: str) -> DocumentResult:
    return DocumentResult(_full_frame((h, w)), reason, True, 1.0)


def quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two quads (convex hulls of non-convex ones).

    Examples
    --------
    >>> sq = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], np.float32)
    >>> round(quad_iou(sq, sq + [5, 0]), 3)
    0.333
    """
    # A quad that is not convex (a bad detection) is measured by its convex hull.
    pa = cv2.convexHull(np.asarray(a, np.float32).reshape(-1, 1, 2))
    pb = cv2.convexHull(np.asarray(b, np.float32).reshape(-1, 1, 2))
    inter, _ = cv2.intersectConvexConvex(pa, pb)
    union = cv2.contourArea(pa) + cv2.contourArea(pb) - inter
    return float(np.clip(inter / union, 0.0, 1.0)) if union > 0 else 0.0
