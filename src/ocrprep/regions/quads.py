"""Choose the document's quadrilateral among candidates by the image evidence along its sides.

The paper region that :mod:`ocrprep.regions.document` grows by colour gives hypothesis quads; a
shadow across the paper can cut one short, a blob of similar colour touching the paper can make
one too big. :func:`search_quads` scores a quad by

* **edge support**: along each side, the colour difference across it (from the colour structure
  tensor); a paper edge is sharp and runs the whole side, a soft shadow or a texture does not;
* **text kept**: the share of the dense text outside the quad is a penalty: a quad that cuts
  text is wrong whatever its edges;
* **paper inside, not outside**: with a paper-likeness map, the share of paper in a band just
  inside each side minus the share just outside (a pen beside the paper, a line printed inside
  it or the border of a shadow are not the paper's edge);
* **size**: a little bonus for the larger quad, so the outer edge of a dark scanner border wins
  over the inner one.

A hypothesis whose every side is already sharp, paper-bounded and keeps the text is returned as
it is (most photos). Otherwise each side that is not gets options: lines swept over shifts (from
most of the way in to 1.5 sizes out) and tilts (+-8 degrees) ranked by their own edge support,
and the nearest Hough lines of the edges outside the text; every combination of four options is
scored at once (vectorised), and the search repeats around the winner.

All coordinates here are those of the reduced working image.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Evidence", "edge_field", "hough_lines", "search_quads", "side_contrast"]

SAMPLES = 24  # points per side
PER_SIDE = 5  # candidate lines per side (including the side itself)
ROUNDS = 3  # searches, each around the previous winner
BAND = 4.0  # px from a side to the paper/background bands beside it
PAPER_WEIGHT = 0.5


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


@dataclass(frozen=True)
class Evidence:
    """What the quads are scored on, flattened over the working image (row-major).

    Attributes
    ----------
    jxx, jxy, jyy : ndarray, float32
        The colour structure tensor (sums over the channels of the gradient products).
    width, height : int
        The working image's size.
    paper : ndarray, float32, or None
        1 where the pixel looks like the paper (or its ink), 0 where like the background.
    """

    jxx: np.ndarray
    jxy: np.ndarray
    jyy: np.ndarray
    width: int
    height: int
    paper: np.ndarray | None = None


def edge_field(features: np.ndarray, paper: np.ndarray | None = None) -> Evidence:
    """The colour structure tensor of ``features`` and the paper-likeness map, as :class:`Evidence`.

    The colour difference across an edge of normal ``n`` over about three pixels is
    ``sqrt(n' J n)`` with ``J`` summed over the channels' gradients (Sobel, scaled to 3 px).
    """
    h, w = features.shape[:2]
    jxx = np.zeros((h, w), np.float32)
    jxy = np.zeros((h, w), np.float32)
    jyy = np.zeros((h, w), np.float32)
    for k in range(features.shape[2]):
        channel = np.ascontiguousarray(features[..., k], np.float32)
        gx = cv2.Sobel(channel, cv2.CV_32F, 1, 0, ksize=3, scale=3.0 / 8.0)
        gy = cv2.Sobel(channel, cv2.CV_32F, 0, 1, ksize=3, scale=3.0 / 8.0)
        jxx += gx * gx
        jxy += gx * gy
        jyy += gy * gy
    flat_paper = None if paper is None else np.ascontiguousarray(paper, np.float32).ravel()
    return Evidence(jxx.ravel(), jxy.ravel(), jyy.ravel(), w, h, flat_paper)


def side_contrast(field: Evidence, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Colour difference across segments from ``a`` to ``b``, per sample point.

    ``a`` and ``b`` are (..., 2) arrays of segment ends; the result has shape (..., SAMPLES).
    """
    jxx, jxy, jyy, w, h = field.jxx, field.jxy, field.jyy, field.width, field.height
    d = b - a
    length = np.maximum(np.hypot(d[..., 0], d[..., 1]), 1e-9)
    nx, ny = d[..., 1] / length, -d[..., 0] / length
    ts = np.linspace(0.06, 0.94, SAMPLES)
    x = np.clip(np.rint(a[..., 0, None] + ts * d[..., 0, None]), 0, w - 1).astype(np.intp)
    y = np.clip(np.rint(a[..., 1, None] + ts * d[..., 1, None]), 0, h - 1).astype(np.intp)
    idx = y * w + x
    nx, ny = nx[..., None], ny[..., None]
    e2 = nx * nx * jxx.take(idx) + 2.0 * nx * ny * jxy.take(idx) + ny * ny * jyy.take(idx)
    return np.sqrt(np.maximum(e2, 0.0))


def _support(field: Evidence, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Edge support of segments from ``a`` to ``b``, 0..1 per segment (...): how sharp the
    :func:`side_contrast` along each is (4 grey levels count 0, 18 and more count 1)."""
    return np.clip((side_contrast(field, a, b) - 4.0) / 14.0, 0.0, 1.0).mean(axis=-1)


def search_quads(
    features: np.ndarray,
    hypotheses: list[np.ndarray],
    edges: np.ndarray,
    text_points: np.ndarray,
    paper: np.ndarray | None = None,
) -> tuple[np.ndarray | None, float]:
    """The best-scoring quad built from the hypotheses' sides and nearby image lines.

    When a hypothesis alone already has a sharp edge along all four sides and keeps all the
    text, it is returned without searching further (the common case, and the cheap one).

    Parameters
    ----------
    features : ndarray, shape (H, W, C), float32
        A smoothed colour image of the working size (Lab with luminance down-weighted).
    hypotheses : list of ndarray (4, 2)
        TL, TR, BR, BL quads in working pixels.
    edges : ndarray, shape (H, W), uint8
        Edges outside the text, for the image's straight lines (:func:`hough_lines`).
    text_points : ndarray, shape (P, 2)
        (x, y) of the dense-text pixels that the document must contain.
    paper : ndarray, shape (H, W), optional
        1 where a pixel looks like the paper or its ink: each side should have paper just inside
        and not just outside (a side on a pen beside the paper, or on a line printed inside it,
        does not).

    Returns
    -------
    (quad, score)
        The winner in working pixels (None when no hypothesis gives a convex quad) and its score.

    Examples
    --------
    >>> f = np.zeros((100, 80, 3), np.float32); f[20:80, 15:65] = 100
    >>> hyp = np.array([[17, 22], [62, 21], [63, 78], [16, 77]], np.float32)
    >>> quad, score = search_quads(f, [hyp], np.zeros((100, 80), np.uint8), np.array([[40, 50]]))
    >>> true = np.array([[15, 20], [65, 20], [65, 80], [15, 80]])
    >>> bool(np.abs(quad - true).max() <= 3)  # coarse: the caller refines at full size
    True
    """
    field = edge_field(features, paper)
    if len(text_points) > 300:
        text_points = text_points[:: len(text_points) // 300 + 1]
    tp = np.asarray(text_points, np.float64).reshape(-1, 2)
    unique: list[np.ndarray] = []
    for hyp in hypotheses:
        hyp = np.asarray(hyp, np.float64)
        if any(np.abs(hyp - other).max() < 1.0 for other in unique):
            continue  # the same hypothesis twice: the same answer
        if cv2.isContourConvex(hyp.reshape(-1, 1, 2).astype(np.float32)):
            unique.append(hyp)
    if not unique:
        return None, -np.inf
    alone = np.array([_side_lines(hyp) for hyp in unique])
    score, per_side, outside = _score(field, alone, np.array(unique), tp)
    k = int(np.argmax(score))
    best_quad, best_score = unique[k].astype(np.float32), float(score[k])
    if _settled(field, unique[k], per_side[k], outside[k]).all():
        return best_quad, best_score
    lines = hough_lines(edges)
    # Each round searches around the hypotheses, then around the round's winner (a side that
    # was far off in the hypothesis may only come within reach once its neighbours are right).
    for _ in range(ROUNDS):
        improved = False
        for hyp in unique:
            quad, score = _search_one(field, hyp, lines, tp)
            if quad is not None and score > best_score + 1e-6:
                best_quad, best_score, improved = quad, score, True
        if not improved:
            break
        unique = [best_quad.astype(np.float64)]
    return best_quad, best_score


def _search_one(field: Evidence, hyp: np.ndarray, lines: np.ndarray,
                tp: np.ndarray) -> tuple[np.ndarray | None, float]:
    """The best quad from the combinations of the side options of one hypothesis."""
    w, h = field.width, field.height
    options = _side_options(field, hyp, lines, tp)
    combos = np.array(list(itertools.product(*options)), np.float64)  # (N, 4, 2)
    quads = _corners(combos)  # (N, 4, 2)
    ok = np.isfinite(quads).all(axis=(1, 2))
    ok &= (quads[..., 0] > -0.02 * w).all(axis=1) & (quads[..., 0] < 1.02 * w).all(axis=1)
    ok &= (quads[..., 1] > -0.02 * h).all(axis=1) & (quads[..., 1] < 1.02 * h).all(axis=1)
    ok &= _convex_clockwise(quads)
    if not ok.any():
        return None, -np.inf
    score, _, _ = _score(field, combos[ok], quads[ok], tp)
    k = int(np.argmax(score))
    return quads[ok][k].astype(np.float32), float(score[k])


def _side_options(field: Evidence, hyp: np.ndarray,
                  lines: np.ndarray, tp: np.ndarray) -> list[list[tuple[float, float]]]:
    """For each side of ``hyp``: itself, and unless it is sharp and keeps the text, the best
    swept lines near it and the nearest Hough lines."""
    size = np.sqrt(max(cv2.contourArea(hyp.reshape(-1, 1, 2).astype(np.float32)), 1.0))
    centre = hyp.mean(axis=0)
    options = []
    sides = _side_lines(hyp)
    support = _support(field, hyp, np.roll(hyp, -1, axis=0))
    # Per side, the share of the text beyond it.
    if len(tp):
        beyond = (np.cos(sides[:, :1]) * tp[:, 0] + np.sin(sides[:, :1]) * tp[:, 1] > sides[:, 1:] + 1.0).mean(axis=1)
    else:
        beyond = np.zeros(4)
    settled = _settled(field, hyp, support, beyond)
    for i, (theta, rho) in enumerate(sides):
        mine = [(float(theta), float(rho))]
        if settled[i]:
            options.append(mine)  # a sharp side with paper only inside that keeps the text: kept
            continue
        swept = _sweep_side(field, sides, i, centre, size)
        mine += [(float(x[0]), float(x[1])) for x in swept if np.abs(x - (theta, rho)).max() > 1e-6]
        own = rho - (np.cos(theta) * centre[0] + np.sin(theta) * centre[1])
        scored = []
        for t, r in lines:
            t, r = _normalise(t, r, theta)
            dt = abs((t - theta + np.pi) % (2 * np.pi) - np.pi)
            if dt > np.radians(35):
                continue
            # Where the line passes the centre's side, relative to the hypothesis side.
            shift = r - (np.cos(t) * centre[0] + np.sin(t) * centre[1])
            if not -0.9 * own < shift - own < 0.6 * size or shift <= 0.05 * size:
                continue
            scored.append((dt + abs(shift - own) / size, t, r))
        scored.sort()
        mine += [(t, r) for _, t, r in scored[: max(1, PER_SIDE - len(mine))]]
        options.append(mine)
    return options


def _settled(field: Evidence, quad: np.ndarray, support: np.ndarray, text_out: float | np.ndarray) -> np.ndarray:
    """Per side of ``quad``: sharp, keeping the text (``text_out``: share outside, overall or per
    side), and (with a paper map) paper on its inside only."""
    ok = (support >= 0.75) & (text_out <= 0.003)
    if field.paper is not None:
        inside, beyond = _bands(field.paper, field.width, field.height, quad, np.roll(quad, -1, axis=0))
        ok &= inside - beyond >= 0.5
    return ok


def _score(field: Evidence, combos: np.ndarray, quads: np.ndarray,
           tp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score, edge support per side (N, 4), share of text outside) of quads given by their lines."""
    w, h = field.width, field.height
    a, b = quads, np.roll(quads, -1, axis=1)
    per_side = _support(field, a, b)  # (N, 4)
    edge = 0.5 * per_side.mean(axis=1) + 0.5 * per_side.min(axis=1)
    # Share of the text outside: a point is outside when beyond any of the four lines.
    if len(tp):
        nx, ny = np.cos(combos[..., 0]), np.sin(combos[..., 0])  # (N, 4)
        dist = nx[..., None] * tp[None, None, :, 0] + ny[..., None] * tp[None, None, :, 1] - combos[..., 1][..., None]
        outside = (dist > 1.0).any(axis=1).mean(axis=1)
    else:
        outside = np.zeros(len(quads))
    area = 0.5 * np.abs((a[..., 0] * b[..., 1] - b[..., 0] * a[..., 1]).sum(axis=1)) / float(h * w)
    score = edge - 2.0 * outside + 0.1 * np.sqrt(area)
    if field.paper is not None:
        inside, beyond = _bands(field.paper, w, h, a, b)
        score = score + PAPER_WEIGHT * (inside - beyond).mean(axis=1)
    return score, per_side, outside


def _bands(paper: np.ndarray, w: int, h: int, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of paper-like samples in a band just inside and just outside each side, (..., 4) each."""
    d = b - a
    length = np.maximum(np.hypot(d[..., 0], d[..., 1]), 1e-9)
    nx, ny = (d[..., 1] / length)[..., None], (-d[..., 0] / length)[..., None]
    ts = np.linspace(0.1, 0.9, 12)
    px, py = a[..., 0, None] + ts * d[..., 0, None], a[..., 1, None] + ts * d[..., 1, None]
    out = []
    for sign in (-BAND, BAND):
        x = np.clip(np.rint(px + sign * nx), 0, w - 1).astype(np.intp)
        y = np.clip(np.rint(py + sign * ny), 0, h - 1).astype(np.intp)
        out.append(paper.take(y * w + x).mean(axis=-1))
    return out[0], out[1]


def _sweep_side(field: Evidence, sides: np.ndarray, i: int, centre: np.ndarray, size: float,
                keep: int = 3) -> np.ndarray:
    """The ``keep`` best lines near side ``i`` (tilted and shifted), by the contrast across them.

    Each candidate runs between its crossings with the two neighbouring sides; the shifts run from
    most of the way in towards the centre to 1.5 times the quad's size outwards, two pixels apart,
    each tilted by up to 8 degrees either way.
    """
    theta, rho = sides[i]
    n0 = np.array([np.cos(theta), np.sin(theta)])
    own = rho - n0 @ centre
    shifts = np.arange(-0.9 * own, 1.5 * size, 2.0)
    tilts = np.radians(np.arange(-8.0, 8.1, 4.0))
    if len(shifts) == 0:
        return np.zeros((0, 2))
    # The side's middle (its foot from the centre) moved along the normal, then tilted about it.
    mid = centre + own * n0
    t = theta + tilts[:, None] + 0.0 * shifts[None, :]
    px = mid[0] + (shifts * n0[0])[None, :]
    py = mid[1] + (shifts * n0[1])[None, :]
    r = np.cos(t) * px + np.sin(t) * py
    cand = np.stack([t, r], axis=-1).reshape(-1, 2)  # (K, 2)
    before, after = sides[i - 1], sides[(i + 1) % 4]
    a = _corners(np.stack([np.broadcast_to(before, cand.shape), cand], axis=1))[:, 1]
    b = _corners(np.stack([cand, np.broadcast_to(after, cand.shape)], axis=1))[:, 1]
    good = np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if not good.any():
        return np.zeros((0, 2))
    cand, a, b = cand[good], a[good], b[good]
    score = _support(field, a, b)
    offset = cand[:, 1] - (np.cos(cand[:, 0]) * centre[0] + np.sin(cand[:, 0]) * centre[1])
    chosen: list[np.ndarray] = []
    for k in np.argsort(-score):
        if len(chosen) >= keep or score[k] < 0.15:
            break
        if all(abs(offset[k] - (c[1] - np.cos(c[0]) * centre[0] - np.sin(c[0]) * centre[1])) > 3.0 for c in chosen):
            chosen.append(cand[k])
    return np.array(chosen, np.float64).reshape(-1, 2)


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
