"""Seeded, labelled degradations of good document images.

Each kind imitates one way a capture goes wrong (blur, noise, darkness, glare, a thumb over the
text, a cut-off edge, ...). Strength is a ``severity``: ``"mild"`` (still readable, borderline),
``"severe"`` (OCR fails), or a float 0..1. Sizes scale with the glyph height measured in the image,
so a 450-pixel receipt and a 600-dpi page get comparable damage.

``degrade_with_params`` also returns the parameters actually used (the true skew angle, the
rotation, the blur sigma ...), for benchmarks and training labels. :func:`synthesize` turns a folder
of good images into a labelled data set (``good/``, ``bad/`` and ``manifest.jsonl``) for
``ocrprep synth``.

Examples
--------
>>> import numpy as np
>>> page = np.full((120, 90, 3), 235, np.uint8); page[20:100:12, 10:80] = 30
>>> out, params = degrade_with_params(page, "skew", "severe", seed=1)
>>> out.dtype, out.shape[2], abs(params["angle"]) > 10
(dtype('uint8'), 3, True)
>>> bool((page == 235).any()) and degrade(page, "blur", seed=1).shape == page.shape
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from ocrprep.errors import MalformedRequest
from ocrprep.quality.text import find_glyphs, ink_mask, paper_level, to_gray

__all__ = [
    "EXPECTED_DEFECTS",
    "KINDS",
    "SEVERITIES",
    "SynthItem",
    "degrade",
    "degrade_with_params",
    "item_seed",
    "severity_value",
    "synthesize",
]

#: Named severities and the strength each stands for.
SEVERITIES: dict[str, float] = {"mild": 0.4, "severe": 0.9}

#: Which defects of the quality report a kind of degradation should raise (any of them is right).
EXPECTED_DEFECTS: dict[str, tuple[str, ...]] = {
    "blur": ("blurry",),
    "motion_blur": ("blurry",),
    "noise": ("noisy",),
    "dark": ("dark",),
    "faint": ("faint",),
    "glare": ("glare",),
    "occlusion": ("occluded",),
    "cutoff": ("text_cutoff", "document_cutoff"),
    "tiny_text": ("text_too_small",),
    "skew": ("skewed",),
    "rotate": ("rotated",),
    "shadow": ("dark", "faint"),
    "jpeg": ("blurry", "noisy"),
    "dim_jpeg": ("dark", "blurry", "noisy"),
    "blank": ("blank",),
}


def severity_value(severity: float | str) -> float:
    """The strength 0..1 of a severity name or number.

    Examples
    --------
    >>> severity_value("severe"), severity_value(0.25)
    (0.9, 0.25)
    """
    if isinstance(severity, str):
        if severity not in SEVERITIES:
            raise MalformedRequest(
                f"unknown severity {severity!r}; use one of {', '.join(SEVERITIES)} or a number 0..1"
            )
        return SEVERITIES[severity]
    value = float(severity)
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise MalformedRequest(f"severity must be between 0 and 1, got {severity!r}")
    return value


def degrade(
    image: np.ndarray, kind: str, severity: float | str = "severe", seed: int = 0, **params: Any
) -> np.ndarray:
    """A degraded copy of ``image`` (see :func:`degrade_with_params`).

    Examples
    --------
    >>> img = np.full((60, 40), 240, np.uint8)
    >>> bool(degrade(img, "dark", seed=0).mean() < img.mean())
    True
    """
    return degrade_with_params(image, kind, severity, seed, **params)[0]


def degrade_with_params(
    image: np.ndarray, kind: str, severity: float | str = "severe", seed: int = 0, **params: Any
) -> tuple[np.ndarray, dict[str, Any]]:
    """Apply one kind of degradation, and say exactly what was applied.

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W)`` or ``(H, W, 3)`` uint8 image; never modified.
    kind : str
        One of :data:`KINDS`.
    severity : float or str
        ``"mild"``, ``"severe"`` or a strength 0..1.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same output.
    **params
        Overrides of the drawn parameters, for example ``angle=7.5`` for ``skew`` or
        ``degrees=180`` for ``rotate``.

    Returns
    -------
    image : numpy.ndarray
        uint8, same number of channels; the shape changes for ``skew``, ``rotate``, ``cutoff``,
        ``tiny_text``.
    params : dict
        ``kind``, ``severity`` (0..1) and the kind's parameters (JSON-ready numbers).

    Raises
    ------
    MalformedRequest
        Unknown kind or severity, unknown parameter, or not a uint8 image.
    """
    fn = _KIND_FUNCS.get(kind)
    if fn is None:
        raise MalformedRequest(f"unknown degradation {kind!r}; known: {', '.join(KINDS)}")
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise MalformedRequest("degrade needs a uint8 (H, W) or (H, W, 3) image")
    if image.ndim == 3 and image.shape[2] not in (1, 3):
        raise MalformedRequest("degrade needs 1 or 3 channels")
    s = severity_value(severity)
    rng = np.random.default_rng(seed)
    squeeze = image.ndim == 3 and image.shape[2] == 1
    src = image[:, :, 0] if squeeze else image
    out, used = fn(src, s, rng, dict(params))
    if squeeze:
        out = out[:, :, None]
    return np.ascontiguousarray(out, dtype=np.uint8), {"kind": kind, "severity": s, **used}


# ---------------------------------------------------------------------------------------------
# helpers


def _text_scale(image: np.ndarray) -> float:
    """Glyph height in pixels, measured as ``ocrprep.quality`` measures it, at least 6."""
    boxes, height = _text_boxes(image)
    return max(6.0, height or 0.012 * max(image.shape[:2]))


def _paper_colour(image: np.ndarray) -> np.ndarray:
    """The paper colour (per channel) as float array of the image's channels."""
    if image.ndim == 2:
        return np.array([paper_level(image)])
    step = max(1, int(np.sqrt(image.shape[0] * image.shape[1] / 250_000)))
    sample = image[::step, ::step].reshape(-1, image.shape[2]).astype(np.float32)
    lum = sample.mean(axis=1)
    bright = sample[lum >= np.percentile(lum, 80)]
    return np.median(bright, axis=0)


def _text_boxes(image: np.ndarray) -> tuple[np.ndarray, float]:
    """Glyph boxes ``(N, 4)`` as x, y, w, h in image pixels, and the glyph height."""
    gray = to_gray(image)
    factor = min(1.0, 800 / max(gray.shape))
    if factor < 1.0:
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    glyphs = find_glyphs(ink_mask(gray))
    return glyphs.boxes.astype(np.float64) / factor, glyphs.height / factor


def _ink_point(image: np.ndarray, rng: np.random.Generator) -> tuple[int, int]:
    """A seeded (row, col) at the centre of a glyph in the middle part of the text."""
    h, w = image.shape[:2]
    boxes, _ = _text_boxes(image)
    if boxes.shape[0] == 0:
        return h // 2, w // 2
    rows = boxes[:, 1] + boxes[:, 3] / 2
    cols = boxes[:, 0] + boxes[:, 2] / 2
    r0, r1 = np.percentile(rows, [20, 80])
    c0, c1 = np.percentile(cols, [20, 80])
    inner = (rows >= r0) & (rows <= r1) & (cols >= c0) & (cols <= c1)
    if inner.any():
        rows, cols = rows[inner], cols[inner]
    i = int(rng.integers(rows.size))
    return int(rows[i]), int(cols[i])


def _ink_bbox(image: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the text block (2 / 98 percentiles of the glyphs)."""
    h, w = image.shape[:2]
    boxes, _ = _text_boxes(image)
    if boxes.shape[0] < 10:
        return 0, h, 0, w
    t = np.percentile(boxes[:, 1], 2)
    b = np.percentile(boxes[:, 1] + boxes[:, 3], 98)
    left = np.percentile(boxes[:, 0], 2)
    r = np.percentile(boxes[:, 0] + boxes[:, 2], 98)
    return int(t), int(min(h, math.ceil(b))), int(left), int(min(w, math.ceil(r)))


def _through_text(image: np.ndarray, axis: int, position: int, lo: int, hi: int) -> int:
    """The row (axis 0) or column (axis 1) nearest ``position`` that crosses the most glyphs."""
    boxes, height = _text_boxes(image)
    if boxes.shape[0] == 0:
        return position
    start = boxes[:, 1] if axis == 0 else boxes[:, 0]
    size = boxes[:, 3] if axis == 0 else boxes[:, 2]
    window = max(2.0, 2.0 * height)
    candidates = np.arange(max(lo, int(position - window)), min(hi, int(position + window)) + 1)
    if candidates.size == 0:
        return position
    # glyphs whose middle band (not just an edge) the line would cross
    inner0 = start + 0.3 * size
    inner1 = start + 0.7 * size
    crossed = ((candidates[:, None] >= inner0[None, :]) & (candidates[:, None] <= inner1[None, :])).sum(axis=1)
    return int(candidates[int(np.argmax(crossed))])


def _scaled(
    image: np.ndarray, spread: float, blur: Callable[[np.ndarray, float], np.ndarray]
) -> np.ndarray:
    """Apply a wide blur at reduced size (a factor keeping ``spread`` near 3 px), then enlarge.

    Blurring removes the detail the reduction loses, so the result matches a full-size blur
    closely at a fraction of the cost on 600-dpi pages.
    """
    f = max(1, int(spread // 3))
    if f == 1:
        return blur(image, 1.0)
    h, w = image.shape[:2]
    small = cv2.resize(image, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    fx = w / small.shape[1]
    return cv2.resize(blur(small, fx), (w, h), interpolation=cv2.INTER_CUBIC)


def _normal(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Gaussian noise of standard deviation ``sigma`` as float32."""
    noise = rng.standard_normal(size=shape, dtype=np.float32)
    noise *= np.float32(sigma)
    return noise


def _add(image: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``image + values`` rounded and saturated to uint8."""
    if values.shape != image.shape:
        values = np.ascontiguousarray(np.broadcast_to(values, image.shape))
    return cv2.add(image.astype(np.float32), values.astype(np.float32, copy=False), dtype=cv2.CV_8U)


def _clip(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def _blend(image: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``image * (1 - alpha) + colour * alpha`` with a per-pixel alpha ``(H, W)``."""
    img = image.astype(np.float32)
    a = alpha[:, :, None] if image.ndim == 3 else alpha
    col = colour.reshape((1, 1, -1)) if image.ndim == 3 else float(colour.reshape(-1)[0])
    return _clip(img * (1.0 - a) + col * a)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    code = cv2.COLOR_RGB2BGR if image.ndim == 3 else None
    src = cv2.cvtColor(image, code) if code is not None else image
    ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes uint8
        raise MalformedRequest("JPEG encoding failed")
    flag = cv2.IMREAD_COLOR if image.ndim == 3 else cv2.IMREAD_GRAYSCALE
    out = cv2.imdecode(buf, flag)
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB) if image.ndim == 3 else out


def _take(params: dict[str, Any], name: str, default: Any) -> Any:
    return params.pop(name) if name in params else default


def _done(params: dict[str, Any], kind: str) -> None:
    if params:
        raise MalformedRequest(f"unknown parameter(s) for {kind}: {', '.join(sorted(params))}")


Result = tuple[np.ndarray, dict[str, Any]]
KindFunc = Callable[[np.ndarray, float, np.random.Generator, dict[str, Any]], Result]


# ---------------------------------------------------------------------------------------------
# kinds


def _blur(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    sigma = float(_take(p, "sigma", _text_scale(image) * (0.06 + 0.32 * s)))
    _done(p, "blur")
    out = _scaled(image, sigma, lambda small, f: cv2.GaussianBlur(small, (0, 0), sigmaX=max(0.1, sigma / f)))
    return out, {"sigma": round(sigma, 3)}


def _motion_blur(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    length = float(_take(p, "length", _text_scale(image) * (0.25 + 1.1 * s)))
    angle = float(_take(p, "angle", rng.uniform(0, 180)))
    _done(p, "motion_blur")

    def smear(small: np.ndarray, f: float) -> np.ndarray:
        span = length / f
        size = max(3, int(math.ceil(span)) | 1)
        kernel = np.zeros((size, size), np.float32)
        c = size // 2
        dx, dy = math.cos(math.radians(angle)), -math.sin(math.radians(angle))
        p0 = (round(c - dx * span / 2), round(c - dy * span / 2))
        p1 = (round(c + dx * span / 2), round(c + dy * span / 2))
        cv2.line(kernel, p0, p1, 1.0, thickness=1, lineType=cv2.LINE_AA)
        kernel /= kernel.sum()
        return cv2.filter2D(small, -1, kernel, borderType=cv2.BORDER_REPLICATE)

    out = _scaled(image, length / 4, smear)
    return out, {"length": round(length, 3), "angle": round(angle, 3)}


def _noise(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    sigma = float(_take(p, "sigma", 8.0 + 75.0 * s))
    _done(p, "noise")
    h, w = image.shape[:2]
    noise = _normal(rng, (h, w), sigma)
    if image.ndim == 3:
        # colour noise is coarser than luminance noise in camera images: half resolution
        chroma = _normal(rng, ((h + 1) // 2, (w + 1) // 2, 3), sigma * 0.35)
        chroma = cv2.resize(chroma, (w, h), interpolation=cv2.INTER_NEAREST)
        noise = cv2.merge([noise, noise, noise]) + chroma
    return _add(image, noise), {"sigma": round(sigma, 3)}


def _dark(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    gain = float(_take(p, "gain", 1.0 - 0.82 * s))
    gamma = float(_take(p, "gamma", 1.0 + 0.6 * s))
    sensor = float(_take(p, "sensor_noise", 1.0 + 3.0 * s))
    _done(p, "dark")
    lut = _clip(255.0 * (np.arange(256, dtype=np.float64) / 255.0) ** gamma * gain)
    grain = _normal(rng, image.shape[:2], sensor)
    out = _add(cv2.LUT(image, lut), grain[:, :, None] if image.ndim == 3 else grain)
    return out, {"gain": round(gain, 4), "gamma": round(gamma, 4), "sensor_noise": sensor}


def _faint(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    contrast = float(_take(p, "contrast", 1.0 - 0.88 * s))
    lift = float(_take(p, "lift", 12.0 * s))
    _done(p, "faint")
    paper = _paper_colour(image)
    levels = np.arange(256, dtype=np.float64)[:, None]
    lut = _clip(paper[None, :] - (paper[None, :] - levels) * contrast + lift)  # (256, channels)
    if image.ndim == 2:
        out = cv2.LUT(image, lut[:, 0].copy())
    else:
        out = cv2.merge([cv2.LUT(np.ascontiguousarray(image[:, :, c]), lut[:, c].copy()) for c in range(3)])
    return out, {"contrast": round(contrast, 4), "lift": round(lift, 3)}


def _glare(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    t, b, left, r = _ink_bbox(image)
    extent = math.sqrt(max(1, (b - t) * (r - left)))
    radius = float(_take(p, "radius", extent * (0.08 + 0.22 * s)))
    cy, cx = _ink_point(image, rng)
    cy, cx = int(_take(p, "row", cy)), int(_take(p, "col", cx))
    aspect = float(_take(p, "aspect", rng.uniform(0.6, 1.0)))
    _done(p, "glare")
    h, w = image.shape[:2]
    # saturated core up to d = 1, a soft halo to d = 2; only the window around it changes
    y0, y1 = max(0, int(cy - 2 * radius * aspect)), min(h, int(cy + 2 * radius * aspect) + 1)
    x0, x1 = max(0, int(cx - 2 * radius)), min(w, int(cx + 2 * radius) + 1)
    yy, xx = np.ogrid[y0:y1, x0:x1]
    d2 = ((yy - cy) / (radius * aspect)) ** 2 + ((xx - cx) / radius) ** 2
    alpha = np.clip(1.0 - (np.sqrt(d2).astype(np.float32) - 1.0), 0.0, 1.0) ** 1.5
    colour = np.full(image.shape[2] if image.ndim == 3 else 1, 255.0)
    out = image.copy()
    out[y0:y1, x0:x1] = _blend(image[y0:y1, x0:x1], colour, alpha)
    params = {"radius": round(radius, 2), "row": cy, "col": cx, "aspect": round(aspect, 3)}
    return out, params


def _occlusion(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    t, b, left, r = _ink_bbox(image)
    h, w = image.shape[:2]
    fraction = float(_take(p, "fraction", 0.06 + 0.3 * s))
    shape = str(_take(p, "shape", rng.choice(["hand", "note"])))
    cy, cx = _ink_point(image, rng)
    cy, cx = int(_take(p, "row", cy)), int(_take(p, "col", cx))
    _done(p, "occlusion")
    area = fraction * (b - t) * (r - left)
    mask = np.zeros((h, w), np.uint8)
    if shape == "note":
        side_w = math.sqrt(area * rng.uniform(0.8, 1.25))
        side_h = area / side_w
        rect = ((float(cx), float(cy)), (side_w, side_h), float(rng.uniform(-20, 20)))
        cv2.fillPoly(mask, [cv2.boxPoints(rect).astype(np.int32)], 255)
        colour = np.array([250.0, 225.0, 90.0]) * rng.uniform(0.85, 1.0)
    else:
        # palm (ellipse) entering from the nearest side, plus a thumb
        ax = math.sqrt(area / math.pi * 1.4)
        ay = area / (math.pi * ax)
        cv2.ellipse(mask, (cx, cy), (int(ax), int(ay)), float(rng.uniform(-30, 30)), 0, 360, 255, -1)
        side = -1 if cx < w / 2 else 1
        x_edge = 0 if side < 0 else w - 1
        cv2.rectangle(mask, (min(cx, x_edge), int(cy - ay * 0.6)), (max(cx, x_edge), int(cy + ay * 0.6)), 255, -1)
        colour = np.array([224.0, 172.0, 140.0]) * rng.uniform(0.7, 1.0)
    covered = float(mask[t:b, left:r].mean() / 255.0) if b > t and r > left else 0.0
    ys, xs = np.nonzero(mask[::4, ::4])
    out = image.copy()
    if ys.size:
        y0, y1 = max(0, ys.min() * 4 - 8), min(h, ys.max() * 4 + 12)
        x0, x1 = max(0, xs.min() * 4 - 8), min(w, xs.max() * 4 + 12)
        soft = cv2.GaussianBlur(mask[y0:y1, x0:x1].astype(np.float32) / 255.0, (0, 0), sigmaX=1.5)
        shading = np.linspace(0.85, 1.05, w, dtype=np.float32)[None, x0:x1]
        shade = soft * shading
        base = colour.reshape(1, 1, 3).astype(np.float32) * shade[:, :, None]
        win = image[y0:y1, x0:x1].astype(np.float32)
        if image.ndim == 2:
            out[y0:y1, x0:x1] = _clip(win * (1 - soft) + base.mean(axis=2))
        else:
            out[y0:y1, x0:x1] = _clip(win * (1 - soft[:, :, None]) + base)
    params = {"shape": shape, "row": cy, "col": cx, "fraction": round(fraction, 4)}
    return out, {**params, "covered": round(covered, 4)}


def _cutoff(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    t, b, left, r = _ink_bbox(image)
    side = str(_take(p, "side", rng.choice(["top", "bottom", "left", "right"])))
    fraction = float(_take(p, "fraction", 0.08 + 0.32 * s))
    _done(p, "cutoff")
    h, w = image.shape[:2]
    if side == "top":
        at = _through_text(image, 0, t + int((b - t) * fraction), 1, h - 2)
        out = image[at:]
    elif side == "bottom":
        at = _through_text(image, 0, b - int((b - t) * fraction), 1, h - 2)
        out = image[:at]
    elif side == "left":
        at = _through_text(image, 1, left + int((r - left) * fraction), 1, w - 2)
        out = image[:, at:]
    elif side == "right":
        at = _through_text(image, 1, r - int((r - left) * fraction), 1, w - 2)
        out = image[:, :at]
    else:
        raise MalformedRequest(f"cutoff side must be top, bottom, left or right, got {side!r}")
    return out.copy(), {"side": side, "fraction": round(fraction, 4), "at": at}


def _tiny_text(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    height = _text_scale(image)
    target = float(_take(p, "glyph_height", 9.0 - 6.0 * s))
    _done(p, "tiny_text")
    scale = min(1.0, target / height)
    h, w = image.shape[:2]
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    out = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return out, {"scale": round(scale, 5), "glyph_height": round(height * scale, 3)}


def _rotate_about(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate counter-clockwise by ``angle`` degrees on an expanded canvas filled with paper."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(math.ceil(h * sin + w * cos)), int(math.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    fill = tuple(float(v) for v in _paper_colour(image))
    return cv2.warpAffine(
        image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill if image.ndim == 3 else fill[0],
    )


def _skew(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    sign = 1.0 if rng.random() < 0.5 else -1.0
    angle = float(_take(p, "angle", sign * (2.0 + 23.0 * s)))
    _done(p, "skew")
    return _rotate_about(image, angle), {"angle": round(angle, 4)}


def _rotate(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    degrees = int(_take(p, "degrees", int(rng.choice([90, 180, 270]))))
    _done(p, "rotate")
    if degrees % 90 != 0:
        raise MalformedRequest(f"rotate degrees must be a multiple of 90, got {degrees}")
    turns = (degrees // 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=turns)), {"degrees": turns * 90}


def _shadow(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    depth = float(_take(p, "depth", 0.2 + 0.7 * s))
    angle = float(_take(p, "angle", rng.uniform(0, 360)))
    _done(p, "shadow")
    h, w = image.shape[:2]
    # the light field is smooth: compute it on a coarse grid, then stretch it
    f = max(1, max(h, w) // 512)
    sh, sw = max(2, h // f), max(2, w // f)
    yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
    yy *= h / sh
    xx *= w / sw
    ux, uy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    proj = (xx - w / 2) * ux + (yy - h / 2) * uy
    proj /= max(1.0, float(np.abs(proj).max()))
    # a cast shadow: a soft edge across the page, plus an overall gradient
    edge = 1.0 / (1.0 + np.exp(-(proj - rng.uniform(-0.2, 0.2)) * 12.0))
    light = (1.0 - depth * (0.75 * edge + 0.25 * (proj + 1) / 2)).astype(np.float32)
    light = cv2.resize(light, (w, h), interpolation=cv2.INTER_LINEAR)
    if image.ndim == 3:
        light = cv2.merge([light, light, light])
    out = cv2.multiply(image, light, dtype=cv2.CV_8U)
    return out, {"depth": round(depth, 4), "angle": round(angle, 3)}


def _jpeg_kind(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    quality = int(_take(p, "quality", max(2, round(30 - 28 * s))))
    _done(p, "jpeg")
    small = image
    return _jpeg(small, quality), {"quality": quality}


def _dim_jpeg(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    gain = float(_take(p, "gain", 1.0 - 0.7 * s))
    quality = int(_take(p, "quality", max(3, round(35 - 30 * s))))
    _done(p, "dim_jpeg")
    dim = cv2.LUT(image, _clip(np.arange(256, dtype=np.float64) * gain))
    return _jpeg(dim, quality), {"gain": round(gain, 4), "quality": quality}


def _blank(image: np.ndarray, s: float, rng: np.random.Generator, p: dict[str, Any]) -> Result:
    grain = float(_take(p, "grain", 2.5))
    _done(p, "blank")
    h, w = image.shape[:2]
    paper = _paper_colour(image)
    low = rng.normal(0.0, 1.0, size=(max(2, h // 64), max(2, w // 64))).astype(np.float32)
    low = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC) * 3.0
    fine = _normal(rng, (h, w), grain)
    texture = low + fine
    if image.ndim == 3:
        img = paper.reshape(1, 1, -1) + texture[:, :, None]
    else:
        img = float(paper[0]) + texture
    return _clip(img), {"grain": grain, "paper": [round(float(v), 2) for v in paper]}


_KIND_FUNCS: dict[str, KindFunc] = {
    "blur": _blur,
    "motion_blur": _motion_blur,
    "noise": _noise,
    "dark": _dark,
    "faint": _faint,
    "glare": _glare,
    "occlusion": _occlusion,
    "cutoff": _cutoff,
    "tiny_text": _tiny_text,
    "skew": _skew,
    "rotate": _rotate,
    "shadow": _shadow,
    "jpeg": _jpeg_kind,
    "dim_jpeg": _dim_jpeg,
    "blank": _blank,
}

#: Every kind of degradation, in a stable order.
KINDS: tuple[str, ...] = tuple(_KIND_FUNCS)


# the data-set writer lives apart (``ocrprep.quality.synth``); ``ocrprep synth`` calls it from here
from ocrprep.quality.synth import SynthItem, item_seed, synthesize  # noqa: E402
