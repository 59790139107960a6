"""Fit a quadrilateral to a paper region and move its sides onto the image's edges.

:func:`fit_quad` turns the outline of the paper region (at the working size) into four sides:
several fits (the longest straight runs of the outline, the hull with its short sides dropped,
the largest inscribed quad, the minimum-area rectangle), each side re-fitted as a robust line,
the one that best matches the region wins. :func:`refine_quad` then moves each side onto the
sharp edge it belongs to in the full-size image, to sub-pixel accuracy.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["fit_quad", "order_quad", "refine_quad"]

REFINE_SIDE = 1600
SHARP = 6.0  # grey levels per pixel: a paper edge, not a soft shadow


def _max_area_quad(hull: np.ndarray) -> np.ndarray | None:
    """The four hull vertices enclosing the largest area (an approximation kept cheap)."""
    n = len(hull)
    if n < 4:
        return None
    if n > 24:  # simplify first: keep the shape, drop near-collinear vertices
        eps = 0.005 * cv2.arcLength(hull.reshape(-1, 1, 2), True)
        while True:
            approx = cv2.approxPolyDP(hull.reshape(-1, 1, 2), eps, True).reshape(-1, 2)
            if len(approx) <= 24 or eps > 1e6:
                break
            eps *= 1.5
        hull = approx if len(approx) >= 4 else hull[:: max(1, n // 24)]
        n = len(hull)
    # All (i, k) diagonals at once: for each, the farthest vertex on either side.
    idx = np.arange(n)
    i, k = np.meshgrid(idx, idx, indexing="ij")
    valid = (k >= i + 2) & (k - i <= n - 2)
    p = hull[i][..., None, :]  # (n, n, 1, 2)
    d = (hull[k] - hull[i])[..., None, :]
    rel = hull[None, None, :, :] - p  # (n, n, n, 2)
    cross = np.abs(d[..., 0] * rel[..., 1] - d[..., 1] * rel[..., 0])
    between = (idx[None, None, :] > i[..., None]) & (idx[None, None, :] < k[..., None])
    outside = (idx[None, None, :] > k[..., None]) | (idx[None, None, :] < i[..., None])
    left = np.where(between, cross, -1.0)
    right = np.where(outside, cross, -1.0)
    j, l = left.argmax(axis=2), right.argmax(axis=2)
    area = np.where(valid, 0.5 * (left.max(axis=2) + right.max(axis=2)), -1.0)
    bi, bk = np.unravel_index(int(area.argmax()), area.shape)
    if area[bi, bk] <= 0:
        return None
    return np.array([hull[bi], hull[j[bi, bk]], hull[bk], hull[l[bi, bk]]], np.float32)


def _line_from_points(points: np.ndarray) -> np.ndarray:
    vx, vy, x0, y0 = cv2.fitLine(points.reshape(-1, 1, 2), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    return np.array([vx, vy, x0, y0], np.float64)


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    # Point on a: p + t*u; on b: q + s*v.
    u, p, v, q = a[:2], a[2:], b[:2], b[2:]
    den = u[0] * v[1] - u[1] * v[0]
    if abs(den) < 1e-6:
        return None
    t = ((q[0] - p[0]) * v[1] - (q[1] - p[1]) * v[0]) / den
    return p + t * u


def _lines_to_quad(lines: list[np.ndarray]) -> np.ndarray | None:
    corners = []
    for i in range(4):
        point = _intersect(lines[i - 1], lines[i])
        if point is None:
            return None
        corners.append(point)
    return np.array(corners, np.float32)


def _polygon_to_quad(poly: np.ndarray) -> np.ndarray | None:
    """Reduce a convex polygon to four sides by dropping its shortest side, repeatedly.

    Dropping a side extends its two neighbours to their intersection, which restores a corner
    that a shadow, a finger or a fold cut off.
    """
    pts = [p.astype(np.float64) for p in poly]
    while len(pts) > 4:
        n = len(pts)
        lengths = [float(np.hypot(*(pts[(i + 1) % n] - pts[i]))) for i in range(n)]
        order = np.argsort(lengths)
        for i in order:
            i = int(i)
            a0, a1 = pts[i - 1], pts[i]  # the side before
            b0, b1 = pts[(i + 1) % n], pts[(i + 2) % n]  # the side after
            line_a = np.array([*(a1 - a0), *a0])
            line_b = np.array([*(b1 - b0), *b0])
            point = _intersect(line_a, line_b)
            if point is None:
                continue
            # The new corner must lie beyond both sides (extension, not reversal).
            if np.dot(point - a0, a1 - a0) < 0 or np.dot(point - b1, b0 - b1) < 0:
                continue
            if i + 1 < n:
                pts = pts[:i] + [point] + pts[i + 2 :]
            else:  # the dropped side joins the last and first vertices
                pts = [point] + pts[1 : n - 1]
            break
        else:
            return None
    return np.array(pts, np.float32)


def _quad_from_lines(contour: np.ndarray, area: float) -> np.ndarray | None:
    """The four longest straight runs of the outline, merged when collinear, as a quad.

    Clutter touching the paper adds short or curved runs to the outline; the paper's sides stay
    the longest straight ones, even when a blob splits a side in two.
    """
    perimeter = cv2.arcLength(contour.reshape(-1, 1, 2), True)
    poly = cv2.approxPolyDP(contour.reshape(-1, 1, 2), 0.008 * perimeter, True).reshape(-1, 2).astype(np.float64)
    n = len(poly)
    if n < 4:
        return None
    size = np.sqrt(area)
    groups: list[list[float]] = []  # [theta, rho, weight]
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        d = b - a
        length = float(np.hypot(*d))
        if length < 0.08 * size:
            continue
        theta = float(np.arctan2(d[0], -d[1]))  # direction of the normal, in (-pi, pi]
        rho = float(a[0] * np.cos(theta) + a[1] * np.sin(theta))
        for g in groups:
            dt = (theta - g[0] + np.pi) % (2 * np.pi) - np.pi
            if abs(dt) < np.radians(6) and abs(rho - g[1]) < 0.03 * size:
                w = g[2] + length
                g[0] = g[0] + dt * length / w
                g[1] = (g[1] * g[2] + rho * length) / w
                g[2] = w
                break
        else:
            groups.append([theta, rho, length])
    if len(groups) < 4:
        return None
    best = sorted(groups, key=lambda g: -g[2])[:4]
    best.sort(key=lambda g: g[0])
    lines = []
    for theta, rho, _ in best:
        normal = np.array([np.cos(theta), np.sin(theta)])
        lines.append(np.array([-normal[1], normal[0], *(rho * normal)]))
    quad = _lines_to_quad(lines)
    if quad is None or not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        return None
    ratio = cv2.contourArea(quad.reshape(-1, 1, 2)) / max(area, 1.0)
    if not 0.85 <= ratio <= 1.35:
        return None
    return order_quad(quad)


def _refit_sides(corners: np.ndarray, contour: np.ndarray) -> np.ndarray | None:
    """Each side of ``corners`` re-fitted as a robust line through the contour points near it."""
    corners = order_quad(corners)
    size = float(np.sqrt(max(1.0, cv2.contourArea(corners.reshape(-1, 1, 2)))))
    lines = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        if length < 1:
            return None
        u = d / length
        rel = contour - a
        along = rel @ u
        across = rel[:, 0] * u[1] - rel[:, 1] * u[0]
        near = (np.abs(across) < max(2.0, 0.02 * size)) & (along > 0.05 * length) & (along < 0.95 * length)
        pts = contour[near] if near.sum() >= 5 else np.array([a, b], np.float32)
        lines.append(_line_from_points(pts))
    # Line i runs from corner i to i+1; corner i is lines[i-1] x lines[i].
    quad = _lines_to_quad(lines)
    if quad is None or not cv2.isContourConvex(quad.reshape(-1, 1, 2).astype(np.float32)):
        return corners
    if np.abs(quad - corners).max() > 0.2 * size:
        return corners
    return quad


def _mask_iou(quad: np.ndarray, region: np.ndarray) -> float:
    drawn = np.zeros_like(region)
    cv2.fillPoly(drawn, [np.round(quad * 4).astype(np.int32)], 1, shift=2)
    inter = int(np.count_nonzero(drawn & region))
    union = int(np.count_nonzero(drawn | region))
    return inter / union if union else 0.0


def fit_quad(hull: np.ndarray, contour: np.ndarray, region: np.ndarray) -> tuple[np.ndarray | None, float]:
    """The quad that best matches the paper region among several fits.

    Candidates: the four longest straight runs of the outline (robust to clutter touching the
    paper), the hull reduced by dropping short sides (restores cut corners), the largest quad
    inscribed in the hull, and the minimum-area rectangle; each has its sides re-fitted robustly.
    The one with the highest IoU with the region wins.
    """
    area = cv2.contourArea(contour.reshape(-1, 1, 2))
    candidates = [_quad_from_lines(contour, area)]
    perimeter = cv2.arcLength(hull.reshape(-1, 1, 2), True)
    poly = cv2.approxPolyDP(hull.reshape(-1, 1, 2), 0.01 * perimeter, True).reshape(-1, 2)
    if len(poly) >= 4:
        candidates.append(_polygon_to_quad(poly))
    candidates.append(_max_area_quad(hull))
    candidates.append(cv2.boxPoints(cv2.minAreaRect(contour.reshape(-1, 1, 2))).astype(np.float32))
    best, best_score = None, -1.0
    for corners in candidates:
        if corners is None:
            continue
        for quad in (_refit_sides(corners, contour), order_quad(corners)):
            if quad is None:
                continue
            score = _mask_iou(quad, region)
            if score > best_score:
                best, best_score = quad, score
    return best, best_score


def _ransac_line(points: np.ndarray, profile: np.ndarray, tol: float, seed: int = 0) -> tuple[np.ndarray | None, int]:
    """The line through most ``points`` (each from one profile), counting one inlier per profile."""
    if len(points) < 2:
        return None, 0
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, len(points), (120, 2))
    pairs = pairs[profile[pairs[:, 0]] != profile[pairs[:, 1]]]
    if len(pairs) == 0:
        return None, 0
    p, q = points[pairs[:, 0]], points[pairs[:, 1]]
    d = q - p
    norm = np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-6)
    dist = np.abs((points[None, :, 0] - p[:, None, 0]) * d[:, None, 1]
                  - (points[None, :, 1] - p[:, None, 1]) * d[:, None, 0]) / norm[:, None]
    inliers = dist < tol  # (hypotheses, points)
    # One vote per profile: count distinct profiles among the inliers of each hypothesis.
    n_prof = int(profile.max()) + 1
    votes = np.zeros((len(pairs), n_prof), bool)
    rows, cols = np.nonzero(inliers)
    votes[rows, profile[cols]] = True
    counts = votes.sum(axis=1)
    best = int(counts.argmax())
    if counts[best] < 2:
        return None, 0
    return _line_from_points(points[inliers[best]].astype(np.float32)), int(counts[best])


def refine_quad(gray: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, float]:
    """Move each side onto the image edge it belongs to; returns (quad, edge support 0..1).

    ``gray`` is the full-size image as uint8 luminance (H, W) and ``quad`` is in its pixels; the
    caller converts once for all the quads it refines.

    Each side is sampled by 48 profiles across it, straight from the full-size grey image. When
    most profiles see a sharp edge near the side, the side is re-fitted through those edge points
    (sub-pixel accuracy). When they do not (a side that a shadow or low contrast pulled inside the
    paper), a wider search outwards looks for a straight run of sharp edge points by RANSAC and
    moves the side there.
    """
    scale = min(1.0, REFINE_SIDE / max(gray.shape[:2]))
    q = quad * scale
    centre = q.mean(axis=0)
    size = float(np.sqrt(max(1.0, cv2.contourArea(q.reshape(-1, 1, 2)))))
    near = max(4.0, 0.02 * size)
    far = max(near, 0.25 * size)
    offsets = np.arange(-near, far + 0.5, 1.0, dtype=np.float32)
    inner = np.abs(offsets) <= near
    n_prof = 48
    ts = np.linspace(0.08, 0.92, n_prof, dtype=np.float32)
    lines, supported = [], 0
    for i in range(4):
        a, b = q[i], q[(i + 1) % 4]
        d = b - a
        length = float(np.hypot(*d))
        u = d / max(length, 1e-6)
        normal = np.array([u[1], -u[0]], np.float32)
        if np.dot((a + b) / 2 - centre, normal) < 0:
            normal = -normal  # pointing outwards
        base = a[None, :] + ts[:, None] * d[None, :]
        pts = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]
        prof = cv2.remap(gray, (pts[..., 0] / scale).astype(np.float32), (pts[..., 1] / scale).astype(np.float32),
                         cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        prof = cv2.GaussianBlur(prof.astype(np.float32), (0, 0), sigmaX=1.0, sigmaY=0.7)
        strength = np.abs(np.gradient(prof, axis=1))
        near_strength = np.where(inner[None, :], strength, 0.0)
        best = near_strength.argmax(axis=1)
        peak = near_strength[np.arange(n_prof), best]
        good = peak >= max(SHARP, 0.35 * float(np.median(peak)))
        line = None
        if good.mean() < 0.6:
            # Wide search: the two strongest sharp edge points per profile, RANSAC for a line.
            top = np.argsort(-strength, axis=1)[:, :3]
            cand_prof = np.repeat(np.arange(n_prof), 3)
            cand_off = top.ravel()
            ok = strength[cand_prof, cand_off] >= SHARP
            points = base[cand_prof[ok]] + offsets[cand_off[ok]][:, None] * normal[None, :]
            fitted, count = _ransac_line(points, cand_prof[ok], tol=1.5, seed=i)
            if fitted is not None and count >= 0.6 * n_prof and count > good.sum() + 8:
                line = fitted
                supported += count
        if line is None:
            supported += int(good.sum())
            if good.sum() >= 8:
                chosen = base[good] + offsets[best[good]][:, None] * normal[None, :]
                line = _line_from_points(chosen.astype(np.float32))
            else:
                line = np.array([u[0], u[1], a[0], a[1]], np.float64)
        lines.append(line)
    refined = _lines_to_quad(lines)
    support = supported / (4 * n_prof)
    if refined is None or not cv2.isContourConvex(refined.reshape(-1, 1, 2)) or np.abs(refined - q).max() > far + near:
        return quad, support
    return refined / scale, support


def order_quad(quad: np.ndarray) -> np.ndarray:
    """The four points ordered TL, TR, BR, BL (clockwise on screen, starting top-left).

    Examples
    --------
    >>> order_quad(np.array([[10, 10], [0, 0], [10, 0], [0, 10]], np.float32)).tolist()
    [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]
    """
    pts = np.asarray(quad, np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen (y down), from the left
    start = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -start, axis=0)
