"""Seeded synthetic phone photos of documents, for tests and the regions benchmark.

:func:`compose_photo` places a document (a flat scan) in a photo the way a phone camera sees it:
a pinhole camera with its principal point at the image centre looks at the document plane from a
random tilt and roll, so the projected corners obey real perspective (the aspect ratio a flattening
step estimates is recoverable). The background is generated (wood, fabric, value noise, granite,
plain colours close to paper, a table edge), with clutter shapes, a soft drop shadow, a lighting
gradient, a soft shadow across the scene, a colour cast, sensor noise and a slight blur.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from ocrprep.regions.flatten import longest_sides

__all__ = ["BACKGROUNDS", "compose_photo", "make_background", "project_document"]

Rng = np.random.Generator


def _value_noise(rng: Rng, shape: tuple[int, int], cells: int, octaves: int = 3) -> np.ndarray:
    """Smooth multi-octave noise in [0, 1], float32, ``shape`` (rows, cols)."""
    h, w = shape
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for octave in range(octaves):
        n = cells * 2**octave
        grid = rng.random((max(2, round(n * h / max(h, w))) + 1, max(2, round(n * w / max(h, w))) + 1))
        out += amp * cv2.resize(grid.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    out /= total
    return np.clip((out - out.min()) / max(1e-6, float(np.ptp(out))), 0, 1)


def _blend(t: np.ndarray, dark: np.ndarray, light: np.ndarray) -> np.ndarray:
    return dark[None, None, :] * (1 - t[..., None]) + light[None, None, :] * t[..., None]


def _wood(rng: Rng, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    warp = _value_noise(rng, shape, 3) * rng.uniform(20, 80)
    freq = rng.uniform(0.03, 0.12)
    grain = 0.5 + 0.5 * np.sin(freq * (u + warp))
    fine = _value_noise(rng, shape, 60, 2)
    t = np.clip(0.75 * grain**1.5 + 0.25 * fine, 0, 1)
    base = rng.uniform([60, 30, 10], [200, 140, 80]).astype(np.float32)
    dark = base * rng.uniform(0.45, 0.7)
    return _blend(t, dark, base)


def _fabric(rng: Rng, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = rng.uniform(3, 9)
    angle = rng.uniform(0, np.pi)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    weave = 0.5 + 0.25 * (np.sin(2 * np.pi * u / period) + np.sin(2 * np.pi * v / period))
    t = np.clip(0.6 * weave + 0.4 * _value_noise(rng, shape, 8), 0, 1)
    colour = rng.uniform(20, 235, 3).astype(np.float32)
    return _blend(t, colour * 0.7, np.minimum(255, colour * 1.1))


def _noise(rng: Rng, shape: tuple[int, int]) -> np.ndarray:
    t = _value_noise(rng, shape, int(rng.integers(3, 30)), 4)
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    return _blend(t, a.astype(np.float32), b.astype(np.float32))


def _granite(rng: Rng, shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    base = rng.uniform(60, 230, 3).astype(np.float32)
    out = np.broadcast_to(base, (h, w, 3)).copy()
    speckle = rng.random((h, w)) < rng.uniform(0.05, 0.25)
    out[speckle] *= rng.uniform(0.3, 0.7)
    return cv2.GaussianBlur(out, (0, 0), 0.8)


def _plain(rng: Rng, shape: tuple[int, int]) -> np.ndarray:
    # Often close to paper: light grey, beige, white desks (the low-contrast case).
    if rng.random() < 0.6:
        base = rng.uniform(170, 235, 3).astype(np.float32)
        base = base.mean() + (base - base.mean()) * 0.4
    else:
        base = rng.uniform(20, 230, 3).astype(np.float32)
    t = _value_noise(rng, shape, 2)
    return _blend(t, base * 0.92, base)


#: Background generators by name; each takes (rng, (rows, cols)) and returns float32 RGB.
BACKGROUNDS: dict[str, Callable[[Rng, tuple[int, int]], np.ndarray]] = {
    "wood": _wood,
    "fabric": _fabric,
    "noise": _noise,
    "granite": _granite,
    "plain": _plain,
}


def make_background(shape: tuple[int, int], seed: int, kind: str | None = None) -> np.ndarray:
    """A generated background, uint8 RGB ``(rows, cols, 3)``, with clutter and maybe a table edge.

    Examples
    --------
    >>> make_background((60, 80), seed=1, kind="wood").shape
    (60, 80, 3)
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    # Textures are generated at half size (cheap) and upsampled.
    small = (max(8, h // 2), max(8, w // 2))
    name = kind or str(rng.choice(list(BACKGROUNDS)))
    out = BACKGROUNDS[name](rng, small)
    if kind is None and rng.random() < 0.35:  # a table edge: a second surface beyond a line
        other = BACKGROUNDS[str(rng.choice(list(BACKGROUNDS)))](rng, small)
        yy, xx = np.mgrid[0 : small[0], 0 : small[1]].astype(np.float32)
        angle = rng.uniform(0, 2 * np.pi)
        offset = rng.uniform(0.1, 0.3) * max(small)
        side = (xx - small[1] / 2) * np.cos(angle) + (yy - small[0] / 2) * np.sin(angle)
        edge = np.clip((side - (max(small) / 2 - offset)) / 2.0, 0, 1)[..., None]
        out = out * (1 - edge) + other * edge
    out = cv2.resize(np.clip(out, 0, 255).astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    for _ in range(int(rng.integers(0, 6))):  # clutter: pens, coins, cards
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        size = int(rng.uniform(0.03, 0.15) * min(h, w))
        shape_kind = rng.integers(0, 3)
        if shape_kind == 0:
            cv2.circle(out, (cx, cy), size, colour, -1, cv2.LINE_AA)
        elif shape_kind == 1:
            rect = ((cx, cy), (size * rng.uniform(0.5, 2.5), size * rng.uniform(0.3, 1.5)), rng.uniform(0, 180))
            cv2.fillPoly(out, [cv2.boxPoints(rect).astype(np.int32)], colour, cv2.LINE_AA)
        else:
            end = (int(cx + rng.uniform(-3, 3) * size), int(cy + rng.uniform(-3, 3) * size))
            cv2.line(out, (cx, cy), end, colour, max(2, size // 6), cv2.LINE_AA)
    return np.clip(out, 0, 255).astype(np.uint8)


def project_document(
    size: tuple[int, int],
    shape: tuple[int, int],
    seed: int,
    *,
    fill: tuple[float, float] = (0.35, 0.8),
    max_tilt: float = 30.0,
    max_roll: float = 25.0,
    margin: float = 0.02,
) -> tuple[np.ndarray, float]:
    """Where a pinhole camera sees a document of ``size`` (rows, cols): its quad and focal length.

    The camera's principal point is the photo centre; the document plane is tilted by up to
    ``max_tilt`` degrees about two axes and rolled by up to ``max_roll`` degrees; its projected
    height is ``fill`` of the photo's. Draws are repeated until the quad lies inside the photo
    with ``margin`` of its shorter side to spare.

    Returns
    -------
    quad : ndarray, shape (4, 2), float32
        TL, TR, BR, BL of the document in photo pixels (x, y).
    focal : float
        The focal length in pixels.
    """
    rng = np.random.default_rng(seed)
    doc_h, doc_w = size
    h, w = shape
    corners = np.array(
        [[-doc_w / 2, -doc_h / 2, 0], [doc_w / 2, -doc_h / 2, 0], [doc_w / 2, doc_h / 2, 0], [-doc_w / 2, doc_h / 2, 0]],
        np.float64,
    )
    pad = margin * min(h, w)
    for _ in range(200):
        focal = rng.uniform(0.7, 1.4) * max(h, w)
        ax, ay = np.radians(rng.uniform(-max_tilt, max_tilt, 2))
        roll = np.radians(rng.uniform(-max_roll, max_roll))
        rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
        ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
        rz = np.array([[np.cos(roll), -np.sin(roll), 0], [np.sin(roll), np.cos(roll), 0], [0, 0, 1]])
        rotated = corners @ (rz @ ry @ rx).T
        scale = min(rng.uniform(*fill) * h / doc_h, rng.uniform(*fill) * w / doc_w * 1.6)
        depth = focal / scale
        shift = rng.uniform(-0.25, 0.25, 2) * np.array([w, h]) / scale
        points = rotated + np.array([shift[0], shift[1], depth])
        quad = focal * points[:, :2] / points[:, 2:3] + np.array([w / 2, h / 2])
        if np.all(points[:, 2] > 0) and quad[:, 0].min() > pad and quad[:, 1].min() > pad and \
                quad[:, 0].max() < w - pad and quad[:, 1].max() < h - pad:
            return quad.astype(np.float32), float(focal)
    raise ValueError(f"cannot place a {size} document in a {shape} photo; lower fill")


def _shrink_to(document: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """``document`` area-averaged down to the largest scale its sides have in ``quad`` (or as is)."""
    dh, dw = document.shape[:2]
    width, height = longest_sides(quad)
    scale = max(width / dw, height / dh)
    if scale >= 1.0:
        return document
    size = (max(1, round(dw * scale)), max(1, round(dh * scale)))
    return cv2.resize(document, size, interpolation=cv2.INTER_AREA)


def compose_photo(
    document: np.ndarray,
    seed: int,
    *,
    shape: tuple[int, int] = (1600, 1200),
    background: str | None = None,
    fill: tuple[float, float] = (0.35, 0.8),
    max_tilt: float = 30.0,
    max_roll: float = 25.0,
    antialias: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded phone photo of ``document`` and the document's true quad in it.

    Parameters
    ----------
    document : ndarray, shape (H, W, 3), uint8
        The flat document (RGB).
    seed : int
        Everything random derives from it: the same seed gives the same photo.
    shape : tuple of int
        The photo's (rows, cols); the default is about 2 megapixels.
    background : str, optional
        A name from :data:`BACKGROUNDS`; random (with a possible table edge) by default.
    fill, max_tilt, max_roll
        Passed to :func:`project_document`.
    antialias : bool
        Area-average a document that the photo shrinks before warping it, as a camera's pixels
        do (default). False reproduces the compositions made before this was fixed, where a
        large scan shrunk several times came out aliased (text broken into dots).

    Returns
    -------
    photo : ndarray, shape (rows, cols, 3), uint8
    quad : ndarray, shape (4, 2), float32
        TL, TR, BR, BL of the document in photo pixels.

    Examples
    --------
    >>> doc = np.full((300, 200, 3), 240, np.uint8)
    >>> photo, quad = compose_photo(doc, seed=0, shape=(240, 180))
    >>> photo.shape, quad.shape
    ((240, 180, 3), (4, 2))
    """
    rng = np.random.default_rng(seed)
    h, w = shape
    quad, _ = project_document(
        document.shape[:2], shape, int(rng.integers(2**31)), fill=fill, max_tilt=max_tilt, max_roll=max_roll
    )
    photo = make_background(shape, int(rng.integers(2**31)), background).astype(np.float32)
    if antialias:
        # A camera integrates the light over each pixel; warpPerspective samples points (it
        # treats INTER_AREA as bilinear), which aliases a document shrunk several times. Shrink
        # it first by area averaging to the largest scale it has in the photo (no random draw).
        document = _shrink_to(document, quad)
    dh, dw = document.shape[:2]
    src = np.array([[0, 0], [dw, 0], [dw, dh], [0, dh]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, quad)
    warped = cv2.warpPerspective(document, matrix, (w, h), flags=cv2.INTER_LINEAR)
    alpha = np.zeros((h, w), np.float32)
    cv2.fillPoly(alpha, [np.round(quad * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    # A soft drop shadow under the paper.
    offset = rng.uniform(-0.01, 0.01, 2) * min(h, w)
    shadow = cv2.GaussianBlur(
        cv2.warpAffine(alpha, np.float32([[1, 0, offset[0]], [0, 1, offset[1]]]), (w, h)), (0, 0), 0.01 * min(h, w) + 1
    )
    photo *= 1 - rng.uniform(0.1, 0.4) * shadow[..., None]
    photo = photo * (1 - alpha[..., None]) + warped.astype(np.float32) * alpha[..., None]
    # Lighting: a linear gradient, sometimes a vignette, a soft shadow across the scene.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - w / 2) * np.cos(angle) + (yy - h / 2) * np.sin(angle)) / max(h, w)
    light = 1.0 + rng.uniform(0.1, 0.5) * ramp
    if rng.random() < 0.5:
        light *= 1 - rng.uniform(0.1, 0.35) * (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2) * 2
    if rng.random() < 0.5:
        blob = np.zeros((h, w), np.float32)
        centre = rng.uniform(0, 1, 2) * np.array([w, h])
        axes = rng.uniform(0.15, 0.5, 2) * np.array([w, h])
        cv2.ellipse(blob, (centre.astype(int).tolist(), axes.astype(int).tolist(), rng.uniform(0, 180)), 1.0, -1)
        blob = cv2.GaussianBlur(blob, (0, 0), 0.08 * min(h, w))
        light *= 1 - rng.uniform(0.15, 0.45) * blob
    cast = rng.uniform(0.88, 1.05, 3).astype(np.float32)
    photo = photo * light[..., None] * cast[None, None, :] * rng.uniform(0.8, 1.05)
    photo = cv2.GaussianBlur(photo, (0, 0), rng.uniform(0.4, 1.1))
    photo += rng.normal(0, rng.uniform(1.5, 6), photo.shape).astype(np.float32)
    return np.clip(photo, 0, 255).astype(np.uint8), quad
