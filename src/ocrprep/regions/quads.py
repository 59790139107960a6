"""Choose the document's quadrilateral among candidates by the image evidence along its sides.

The paper region that :mod:`ocrprep.regions.document` grows by colour gives hypothesis quads; a
shadow across the paper can cut one short, a blob of similar colour touching the paper can make
one too big. :func:`search_quads` tries, for each side of each hypothesis, the side itself and the
long straight edges of the image (Hough lines on the edges outside the text) of a similar
direction, and scores every combination of four sides (all at once, vectorised) by

* **edge support**: along each side, the colour difference between just outside and just inside
  (a paper edge is sharp and runs the whole side; a soft shadow or a texture does not);
* **text kept**: the share of the ink seed (dense text) that lies outside the quad is a penalty,
  a quad that cuts text is wrong whatever its edges;
* **size**: a little bonus for the larger quad, so the outer edge of a dark scanner border wins
  over the inner one.

All coordinates here are those of the reduced working image.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

__all__ = ["hough_lines", "search_quads", "side_contrast"]

SAMPLES = 24  # points per side
OFFSET = 1.5  # px either side of the edge, in the working image
PER_SIDE = 5  # candidate lines per side (including the side itself)


def hough_lines(edges: np.ndarray, max_lines: int = 40) -> np.ndarray:
    """Distinct straight lines of an edge map as (theta, rho) rows, strongest first.

    Examples
    --------
    >>> e = np.zeros((60, 60), np.uint8); e[30, 5:55] = 255
    >>> theta, rho = hough_lines(e)[0]
    >>> round(float(rho)), round(float(np.degrees(theta)))
    (30, 90)
    """
    h, w = edges.shape
    threshold = max(12, round(0.12 * min(h, w)))
    found = cv2.HoughLines(edges, 1, np.pi / 180, threshold)
    if found is None:
        return np.zeros((0, 2), np.float64)
    kept: list[tuple[float, float]] = []
    for rho, theta in found[:, 0, :]:
        if rho < 0:  # one convention: rho >= 0, theta in [0, 2 pi)
            rho, theta = -rho, theta + np.pi
        duplicate = False
        for t, r in kept:
            dt = abs((theta - t + np.pi) % (2 * np.pi) - np.pi)
            if dt < np.radians(4) and abs(rho - r) < 4:
                duplicate = True
                break
        if not duplicate:
            kept.append((float(theta), float(rho)))
            if len(kept) >= max_lines:
                break
    return np.array(kept, np.float64).reshape(-1, 2)


def _side_lines(quad: np.ndarray) -> np.ndarray:
    """The four sides of a TL,TR,BR,BL quad as (theta, rho) with the normal pointing outwards."""
    out = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        d = b - a
        n = np.array([d[1], -d[0]]) / max(np.hypot(*d), 1e-9)  # outward for a clockwise quad
        out.append((np.arctan2(n[1], n[0]), float(n @ a)))
    return np.array(out, np.float64)


def _normalise(theta: float, rho: float, toward: float) -> tuple[float, float]:
    """(theta, rho) of the same line with the normal within 90 degrees of ``toward``."""
    if np.cos(theta - toward) < 0:
        return theta + np.pi, -rho
    return theta, rho


def side_contrast(features: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Colour difference across segments from ``a`` to ``b`` (outside minus inside), per sample.

    ``a`` and ``b`` are (..., 2) arrays of segment ends (a clockwise quad's side, so the outward
    normal is the direction turned left); the result has shape (..., SAMPLES).
    """
    h, w = features.shape[:2]
    d = b - a
    length = np.maximum(np.hypot(d[..., 0], d[..., 1]), 1e-9)
    n = np.stack([d[..., 1], -d[..., 0]], axis=-1) / length[..., None]
    ts = np.linspace(0.06, 0.94, SAMPLES)
    pts = a[..., None, :] + ts[:, None] * d[..., None, :]  # (..., S, 2)
    outside = pts + OFFSET * n[..., None, :]
    inside = pts - OFFSET * n[..., None, :]

    def sample(p: np.ndarray) -> np.ndarray:
        x = np.clip(np.rint(p[..., 0]), 0, w - 1).astype(np.intp)
        y = np.clip(np.rint(p[..., 1]), 0, h - 1).astype(np.intp)
        return features[y, x]

    diff = sample(outside) - sample(inside)
    return np.sqrt((diff * diff).sum(axis=-1))


def search_quads(
    features: np.ndarray,
    hypotheses: list[np.ndarray],
    lines: np.ndarray,
    text_points: np.ndarray,
) -> tuple[np.ndarray | None, float]:
    """The best-scoring quad built from the hypotheses' sides and nearby image lines.

    Parameters
    ----------
    features : ndarray, shape (H, W, C), float32
        A smoothed colour image of the working size (Lab with luminance down-weighted).
    hypotheses : list of ndarray (4, 2)
        TL, TR, BR, BL quads in working pixels.
    lines : ndarray, shape (L, 2)
        Image lines (theta, rho) from :func:`hough_lines`.
    text_points : ndarray, shape (P, 2)
        (x, y) of the dense-text pixels that the document must contain.

    Returns
    -------
    (quad, score)
        The winner in working pixels (None when no hypothesis gives a convex quad) and its score.
    """
    h, w = features.shape[:2]
    best_quad, best_score = None, -np.inf
    if len(text_points) > 300:
        text_points = text_points[:: len(text_points) // 300 + 1]
    tp = np.asarray(text_points, np.float64).reshape(-1, 2)
    seen: list[np.ndarray] = []
    for hyp in hypotheses:
        hyp = np.asarray(hyp, np.float64)
        if any(np.abs(hyp - other).max() < 1.0 for other in seen):
            continue  # the same hypothesis twice: the same answer
        seen.append(hyp)
        if not cv2.isContourConvex(hyp.reshape(-1, 1, 2).astype(np.float32)):
            continue
        size = np.sqrt(max(cv2.contourArea(hyp.reshape(-1, 1, 2).astype(np.float32)), 1.0))
        centre = hyp.mean(axis=0)
        options = []
        for theta, rho in _side_lines(hyp):
            mine = [(theta, rho)]
            scored = []
            for t, r in lines:
                t, r = _normalise(t, r, theta)
                dt = abs((t - theta + np.pi) % (2 * np.pi) - np.pi)
                if dt > np.radians(35):
                    continue
                # Where the line passes the hypothesis side's middle, relative to it.
                shift = r - (np.cos(t) * centre[0] + np.sin(t) * centre[1])
                own = rho - (np.cos(theta) * centre[0] + np.sin(theta) * centre[1])
                if not -0.9 * own < shift - own < 0.6 * size or shift <= 0.05 * size:
                    continue
                scored.append((dt + abs(shift - own) / size, t, r))
            scored.sort()
            mine += [(t, r) for _, t, r in scored[: PER_SIDE - 1]]
            options.append(mine)
        combos = np.array(list(itertools.product(*options)), np.float64)  # (N, 4, 2)
        if len(combos) == 0:
            continue
        quads = _corners(combos)  # (N, 4, 2)
        ok = np.isfinite(quads).all(axis=(1, 2))
        ok &= (quads[..., 0] > -0.02 * w).all(axis=1) & (quads[..., 0] < 1.02 * w).all(axis=1)
        ok &= (quads[..., 1] > -0.02 * h).all(axis=1) & (quads[..., 1] < 1.02 * h).all(axis=1)
        ok &= _convex_clockwise(quads)
        if not ok.any():
            continue
        quads, combos = quads[ok], combos[ok]
        a, b = quads, np.roll(quads, -1, axis=1)
        contrast = side_contrast(features, a, b)  # (N, 4, S)
        per_side = np.clip((contrast - 4.0) / 14.0, 0.0, 1.0).mean(axis=-1)  # (N, 4)
        edge = 0.5 * per_side.mean(axis=1) + 0.5 * per_side.min(axis=1)
        # Share of the text outside: a point is outside when beyond any of the four lines.
        if len(tp):
            nx, ny = np.cos(combos[..., 0]), np.sin(combos[..., 0])  # (N, 4)
            dist = nx[..., None] * tp[None, None, :, 0] + ny[..., None] * tp[None, None, :, 1] - combos[..., 1][..., None]
            outside = (dist > 1.0).any(axis=1).mean(axis=1)
        else:
            outside = np.zeros(len(quads))
        area = 0.5 * np.abs(
            (a[..., 0] * b[..., 1] - b[..., 0] * a[..., 1]).sum(axis=1)
        ) / float(h * w)
        score = edge - 2.0 * outside + 0.1 * np.sqrt(area)
        k = int(np.argmax(score))
        if score[k] > best_score:
            best_quad, best_score = quads[k].astype(np.float32), float(score[k])
    return best_quad, best_score


def _corners(combos: np.ndarray) -> np.ndarray:
    """Corners of quads given as four (theta, rho) lines each, (N, 4, 2); corner i = line i-1 x i."""
    t1, r1 = np.roll(combos, 1, axis=1)[..., 0], np.roll(combos, 1, axis=1)[..., 1]
    t2, r2 = combos[..., 0], combos[..., 1]
    den = np.cos(t1) * np.sin(t2) - np.sin(t1) * np.cos(t2)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (r1 * np.sin(t2) - r2 * np.sin(t1)) / den
        y = (np.cos(t1) * r2 - np.cos(t2) * r1) / den
    out = np.stack([x, y], axis=-1)
    out[np.abs(den) < 1e-3] = np.nan
    return out


def _convex_clockwise(quads: np.ndarray) -> np.ndarray:
    """True where a (N, 4, 2) quad is convex and clockwise on screen (y down)."""
    a = np.roll(quads, -1, axis=1) - quads
    b = np.roll(quads, -2, axis=1) - np.roll(quads, -1, axis=1)
    cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    return (cross > 0).all(axis=1)
