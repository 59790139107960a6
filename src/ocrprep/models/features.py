"""Fast image features for the trainable classifiers.

Every feature is computed on a *working image*: the grey image shrunk (never enlarged) so its
longer side is at most :data:`WORK_SIDE` pixels. The features therefore do not depend on whether
the caller decoded the file at full size or at reduced size (``process`` hands the model its
800-pixel assessment preview), as long as that size is at least :data:`WORK_SIDE` on the longer
side.

Feature set ``quality-v1`` (about 150 numbers, a few milliseconds per receipt):

- size: working height and width, aspect ratio;
- colour: saturation, colour casts;
- intensity: percentiles, spread, clipped shares, histogram entropy;
- sharpness at three scales: gradient magnitude statistics, Laplacian energy, their ratios across
  scales, normalised by the contrast (blur lowers fine-scale energy relative to coarse);
- direction: gradient energy along rows vs columns, structure-tensor coherence, the share of
  gradient energy near 0/90 degrees and the dominant angle (motion blur, skew, rotation);
- noise: Immerkaer's estimate overall and in flat regions;
- text: ink share, connected-component count and sizes (tiny text), a 4x4 ink-density grid, ink in
  the border strips (cut-off), row-profile contrast (skew);
- illumination: a 6x6 grid of paper brightness and local contrast (shadow, glare, occlusion).

Feature set ``quality-v2`` (the default) adds the quality report's raw measurements
(:func:`ocrprep.quality.measures.measure`: glyph height, edge sharpness, noise, glare, occlusion,
cut text, skew, ...), about 10 ms more. A model records the hash of the code behind its features;
retrain (``make model``) when ``features.py`` or ``quality/measures.py`` changes.

Feature set ``layout-v1`` adds an 8x8 text-probability map from the text detector shipped in the
``rapidocr`` wheel (run with onnxruntime, offline) for document-type models.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import cv2
import numpy as np

from ocrprep.errors import MalformedRequest

__all__ = [
    "FEATURE_SETS",
    "MIN_SIDE",
    "WORK_SIDE",
    "extract_features",
    "feature_names",
    "working_gray",
]

#: Images thinner than this (pixels, either side) have no features: nothing on them can be read.
MIN_SIDE = 8

#: The longer side of the working image, in pixels.
WORK_SIDE = 768

_SCALES = (1, 2, 4)
_GRID = 4
_LIGHT_GRID = 6


def working_gray(image: np.ndarray) -> np.ndarray:
    """The grey working image: uint8 (H, W), longer side at most :data:`WORK_SIDE`.

    Parameters
    ----------
    image : ndarray
        uint8, (H, W) grey or (H, W, 3) RGB.

    Returns
    -------
    ndarray
        uint8 (h, w); a new array.

    Examples
    --------
    >>> working_gray(np.zeros((1536, 384, 3), np.uint8)).shape
    (768, 192)
    """
    if image.ndim == 3:
        if image.shape[2] == 4:
            image = image[:, :, :3]
        gray = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    elif image.ndim == 2:
        gray = image
    else:
        raise MalformedRequest(f"expected a (H, W) or (H, W, 3) image, got shape {image.shape}")
    if gray.dtype != np.uint8:
        raise MalformedRequest(f"expected a uint8 image, got {gray.dtype}")
    height, width = gray.shape
    scale = WORK_SIDE / max(height, width)
    if scale < 1:
        while max(height, width) >= 2 * WORK_SIDE:
            gray = cv2.pyrDown(gray)
            height, width = gray.shape
        scale = WORK_SIDE / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray.copy()


class _Features:
    """Collects (name, value) pairs in a fixed order."""

    def __init__(self, measurements: dict[str, float] | None = None) -> None:
        self.names: list[str] = []
        self.values: list[float] = []
        self.measurements = measurements  # ocrprep.quality.measure(image), when already taken

    def add(self, name: str, value: float) -> None:
        self.names.append(name)
        v = float(value)
        self.values.append(v if np.isfinite(v) else 0.0)


def _quality_v1(image: np.ndarray, out: _Features) -> None:
    gray = working_gray(image)
    height, width = gray.shape
    out.add("height", height)
    out.add("width", width)
    out.add("aspect", height / max(width, 1))
    out.add("small_side", min(height, width))

    # colour (on a small copy)
    if image.ndim == 3 and image.shape[2] >= 3:
        step = max(1, min(image.shape[:2]) // 128)
        sampled = np.ascontiguousarray(image[::step, ::step, :3])
        small = cv2.resize(sampled, (64, 64), interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        sat = hsv[:, :, 1].astype(np.float32) / 255
        rgb = small.astype(np.float32) / 255
        out.add("saturation_mean", sat.mean())
        out.add("saturation_p90", np.percentile(sat, 90))
        out.add("cast_rg", (rgb[:, :, 0] - rgb[:, :, 1]).mean())
        out.add("cast_bg", (rgb[:, :, 2] - rgb[:, :, 1]).mean())
    else:
        for name in ("saturation_mean", "saturation_p90", "cast_rg", "cast_bg"):
            out.add(name, 0.0)

    # intensity
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    cdf = np.cumsum(hist) / total
    pcts = {p: float(np.searchsorted(cdf, p / 100)) for p in (1, 5, 10, 25, 50, 75, 90, 95, 99)}
    for p, v in pcts.items():
        out.add(f"intensity_p{p}", v / 255)
    levels = np.arange(256, dtype=np.float64)
    mean = float((hist * levels).sum() / total)
    out.add("intensity_mean", mean / 255)
    out.add("intensity_std", np.sqrt((hist * (levels - mean) ** 2).sum() / total) / 255)
    out.add("dark_share", cdf[63])
    out.add("bright_share", 1 - cdf[244])
    out.add("clipped_white", hist[255] / total)
    out.add("clipped_black", hist[0] / total)
    prob = hist[hist > 0] / total
    out.add("histogram_entropy", -(prob * np.log2(prob)).sum() / 8)
    contrast = max(pcts[99] - pcts[1], 1.0)
    out.add("contrast", contrast / 255)
    out.add("paper_ink_gap", (pcts[90] - pcts[10]) / 255)

    # sharpness at three scales
    level = gray.astype(np.float32)
    energies: list[float] = []
    tails: list[float] = []
    laps: list[float] = []
    mag_full = np.zeros((1, 1), np.float32)
    median_full = 0.0
    mag_half = gx_half = gy_half = mag_full
    p90_half = 0.0
    for s in _SCALES:
        if s > 1:
            level = cv2.pyrDown(level)
        gx = cv2.Sobel(level, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(level, cv2.CV_32F, 0, 1, ksize=3)
        mag = cv2.magnitude(gx, gy)
        lap = cv2.Laplacian(level, cv2.CV_32F, ksize=1)
        p50, p90, p99 = _percentiles(mag, (50, 90, 99))
        if s == 1:
            mag_full, median_full = mag, p50
        elif s == 2:
            mag_half, gx_half, gy_half, p90_half = mag, gx, gy, p90
        m_mean = cv2.mean(mag)[0] / contrast
        m_p99 = p99 / contrast
        l_var = float(cv2.meanStdDev(lap)[1][0, 0]) ** 2 / contrast**2
        out.add(f"grad_mean_s{s}", m_mean)
        out.add(f"grad_p90_s{s}", p90 / contrast)
        out.add(f"grad_p99_s{s}", m_p99)
        out.add(f"grad_p99_raw_s{s}", m_p99 * contrast / 255)
        out.add(f"lap_var_s{s}", l_var)
        out.add(f"lap_var_raw_s{s}", np.log1p(l_var * contrast**2))
        energies.append(m_mean)
        tails.append(m_p99)
        laps.append(l_var)
    for i in range(len(_SCALES) - 1):
        a, b = _SCALES[i], _SCALES[i + 1]
        out.add(f"grad_ratio_s{a}_s{b}", energies[i] / max(energies[i + 1], 1e-6))
        out.add(f"tail_ratio_s{a}_s{b}", tails[i] / max(tails[i + 1], 1e-6))
        out.add(f"lap_ratio_s{a}_s{b}", np.log((laps[i] + 1e-6) / (laps[i + 1] + 1e-6)))

    # direction (motion blur, skew), at half size
    sxx = cv2.mean(cv2.multiply(gx_half, gx_half))[0]
    syy = cv2.mean(cv2.multiply(gy_half, gy_half))[0]
    sxy = cv2.mean(cv2.multiply(gx_half, gy_half))[0]
    trace = max(sxx + syy, 1e-6)
    out.add("energy_x_share", sxx / trace)
    out.add("coherence", np.sqrt((sxx - syy) ** 2 + 4 * sxy**2) / trace)
    out.add("tensor_angle", abs(0.5 * np.degrees(np.arctan2(2 * sxy, sxx - syy))))
    strong = mag_half > p90_half
    if int(np.count_nonzero(strong)) > 10:
        angles = cv2.phase(gx_half[strong], gy_half[strong], angleInDegrees=True).ravel() % 90
        weights = mag_half[strong].ravel()
        hist90 = np.bincount(np.minimum((angles / 2).astype(np.int64), 44), weights=weights, minlength=45)
        hist90 = hist90 / max(hist90.sum(), 1e-6)
        axis = hist90[:2].sum() + hist90[-2:].sum()
        out.add("axis_aligned_share", axis)
        out.add("angle_peak_share", hist90.max())
        peak = (np.argmax(hist90) * 2 + 1) % 90
        out.add("angle_peak_offset", min(peak, 90 - peak))
        out.add("angle_entropy", -(hist90[hist90 > 0] * np.log(hist90[hist90 > 0])).sum())
    else:
        for name in ("axis_aligned_share", "angle_peak_share", "angle_peak_offset", "angle_entropy"):
            out.add(name, 0.0)

    # noise (Immerkaer 1996), overall and where the gradient is below its median
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    conv = cv2.absdiff(cv2.filter2D(gray, cv2.CV_32F, kernel), 0.0)
    sigma = np.sqrt(np.pi / 2) * cv2.mean(conv)[0] / 6
    out.add("noise_sigma", sigma / 255)
    flat = (mag_full < median_full).astype(np.uint8)
    flat_sigma = np.sqrt(np.pi / 2) * cv2.mean(conv, mask=flat)[0] / 6 if flat.any() else 0.0
    out.add("noise_sigma_flat", flat_sigma / 255)
    out.add("noise_to_contrast", flat_sigma / contrast)

    # text: ink mask and components
    block = max(15, (min(height, width) // 24) | 1)
    ink = cv2.adaptiveThreshold(gray, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)
    out.add("ink_share", ink.mean())
    half = cv2.pyrDown(gray)
    block_half = max(9, (min(half.shape) // 24) | 1)
    ink_half = cv2.adaptiveThreshold(half, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                     block_half, 12)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink_half, connectivity=8)
    comp = stats[1:]
    comp = comp[comp[:, cv2.CC_STAT_AREA] >= 2]
    area_px = half.shape[0] * half.shape[1]
    out.add("components_per_kpx", 1000 * len(comp) / area_px)
    if len(comp):
        heights = comp[:, cv2.CC_STAT_HEIGHT].astype(np.float64)
        widths = comp[:, cv2.CC_STAT_WIDTH].astype(np.float64)
        fill = comp[:, cv2.CC_STAT_AREA] / np.maximum(heights * widths, 1)
        out.add("component_height_p50", np.median(heights))
        out.add("component_height_p90", np.percentile(heights, 90))
        out.add("component_width_p50", np.median(widths))
        out.add("component_fill_p50", np.median(fill))
        out.add("component_largest_share", comp[:, cv2.CC_STAT_AREA].max() / area_px)
        out.add("component_small_share", float((heights <= 2).mean()))
    else:
        for name in ("component_height_p50", "component_height_p90", "component_width_p50",
                     "component_fill_p50", "component_largest_share", "component_small_share"):
            out.add(name, 0.0)
    cells = _grid_means(ink, _GRID)
    for i, v in enumerate(cells.ravel()):
        out.add(f"ink_grid_{i}", v)
    out.add("ink_grid_min", cells.min())
    out.add("ink_grid_max", cells.max())
    out.add("ink_grid_std", cells.std())
    out.add("ink_grid_empty", float((cells < 0.005).mean()))
    strip_h = max(2, height // 33)
    strip_w = max(2, width // 33)
    borders = [ink[:strip_h].mean(), ink[-strip_h:].mean(), ink[:, :strip_w].mean(), ink[:, -strip_w:].mean()]
    for name, v in zip(("top", "bottom", "left", "right"), borders, strict=True):
        out.add(f"border_ink_{name}", v)
    out.add("border_ink_max", max(borders))
    rows = ink.mean(axis=1)
    cols = ink.mean(axis=0)
    out.add("row_profile_cv", rows.std() / max(rows.mean(), 1e-6))
    out.add("col_profile_cv", cols.std() / max(cols.mean(), 1e-6))
    out.add("row_empty_share", float((rows < 0.002).mean()))

    # illumination and local contrast
    light = _grid_percentile(gray, _LIGHT_GRID, 90) / 255
    local = _grid_std(gray, _LIGHT_GRID) / 255
    for i, v in enumerate(light.ravel()):
        out.add(f"paper_grid_{i}", v)
    out.add("paper_min", light.min())
    out.add("paper_max", light.max())
    out.add("paper_range", light.max() - light.min())
    out.add("paper_std", light.std())
    out.add("local_std_min", local.min())
    out.add("local_std_max", local.max())
    out.add("local_std_mean", local.mean())
    out.add("flat_cells", float((local < 0.02).mean()))
    dark_cells = light < 0.35
    out.add("dark_cells", float(dark_cells.mean()))
    out.add("bright_flat_cells", float(((light > 0.97) & (local < 0.03)).mean()))


def _percentiles(values: np.ndarray, qs: tuple[float, ...], bins: int = 512) -> list[float]:
    """Percentiles of a non-negative float image from a histogram (bin-centre accuracy)."""
    top = float(values.max())
    if top <= 0:
        return [0.0 for _ in qs]
    hist = cv2.calcHist([values], [0], None, [bins], [0, top * 1.0001]).ravel()
    cdf = np.cumsum(hist) / max(hist.sum(), 1)
    width = top * 1.0001 / bins
    return [float((np.searchsorted(cdf, q / 100) + 0.5) * width) for q in qs]


def _grid_means(values: np.ndarray, n: int) -> np.ndarray:
    height, width = values.shape
    if height < n or width < n:
        return cv2.resize(values.astype(np.float32), (n, n), interpolation=cv2.INTER_LINEAR)
    h, w = height // n * n, width // n * n
    return values[:h, :w].reshape(n, h // n, n, w // n).mean(axis=(1, 3), dtype=np.float64)


def _grid_percentile(gray: np.ndarray, n: int, q: float, per_cell: int = 24) -> np.ndarray:
    side = n * per_cell
    step_y = max(1, gray.shape[0] // (2 * side))
    step_x = max(1, gray.shape[1] // (2 * side))
    small = cv2.resize(gray[::step_y, ::step_x], (side, side), interpolation=cv2.INTER_AREA)
    cells = small.reshape(n, per_cell, n, per_cell).transpose(0, 2, 1, 3).reshape(n * n, -1)
    return np.percentile(cells, q, axis=1).reshape(n, n)


def _grid_std(gray: np.ndarray, n: int) -> np.ndarray:
    values = gray[::2, ::2].astype(np.float32)
    mean = _grid_means(values, n)
    square = _grid_means(values * values, n)
    return np.sqrt(np.maximum(square - mean * mean, 0))


# -- layout features from the rapidocr text detector ---------------------------------------------

_LAYOUT_GRID = 8
_DET_SIDE = 640


def _detector() -> object:
    """The text detector shipped in the rapidocr wheel, one session per process (ocr/bundled.py)."""
    from ocrprep.ocr.bundled import TEXT_DETECTOR, onnx_session

    return onnx_session(TEXT_DETECTOR)


def _layout_v1(image: np.ndarray, out: _Features) -> None:
    _quality_v1(image, out)
    rgb = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    height, width = rgb.shape[:2]
    scale = _DET_SIDE / max(height, width)
    size = (max(32, round(width * scale / 32) * 32), max(32, round(height * scale / 32) * 32))
    resized = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    blob = ((resized / 255 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    session = _detector()
    name = session.get_inputs()[0].name  # type: ignore[attr-defined]
    prob = np.asarray(session.run(None, {name: blob})[0])[0, 0]  # type: ignore[attr-defined]
    grid = cv2.resize(prob.astype(np.float32), (_LAYOUT_GRID, _LAYOUT_GRID), interpolation=cv2.INTER_AREA)
    for i, v in enumerate(grid.ravel()):
        out.add(f"text_map_{i}", v)
    text = prob > 0.3
    out.add("text_area_share", text.mean())
    rows = text.mean(axis=1)
    cols = text.mean(axis=0)
    out.add("text_rows_share", float((rows > 0.01).mean()))
    out.add("text_cols_share", float((cols > 0.01).mean()))


def _quality_v2(image: np.ndarray, out: _Features) -> None:
    _quality_v1(image, out)
    from ocrprep.quality.measures import MEASURES, measure

    values = out.measurements if out.measurements is not None else measure(image)
    for name in MEASURES:
        value = float(values.get(name, 0.0))
        if not np.isfinite(value):
            value = -1.0 if np.isnan(value) else float(np.sign(value) * 1e6)
        out.add(f"measure_{name}", value)


#: Feature sets by name: each appends its features to a collector.
FEATURE_SETS: dict[str, Callable[[np.ndarray, _Features], None]] = {
    "quality-v1": _quality_v1,
    "quality-v2": _quality_v2,
    "layout-v1": _layout_v1,
}


def extract_features(
    image: np.ndarray,
    feature_set: str = "quality-v1",
    *,
    measurements: dict[str, float] | None = None,
) -> np.ndarray:
    """The feature vector of one image.

    Parameters
    ----------
    image : ndarray
        uint8, (H, W) grey or (H, W, 3) RGB; not modified.
    feature_set : str
        A name of :data:`FEATURE_SETS`.
    measurements : dict, optional
        ``ocrprep.quality.measure(image)`` (no ``source_size``) when the caller already took it,
        so the sets that include the quality measurements do not measure the image twice.

    Returns
    -------
    ndarray
        float32 (n,), finite; the order matches :func:`feature_names`.

    Raises
    ------
    MalformedRequest
        Unknown feature set, or an image of the wrong shape or dtype.

    Examples
    --------
    >>> page = np.full((300, 200, 3), 235, np.uint8); page[40:260:20, 20:180] = 30
    >>> features = extract_features(page)
    >>> features.dtype, features.shape == (len(feature_names()),)
    (dtype('float32'), True)
    """
    builder = FEATURE_SETS.get(feature_set)
    if builder is None:
        raise MalformedRequest(f"unknown feature set {feature_set!r}; known: {', '.join(FEATURE_SETS)}")
    if image.size == 0 or min(image.shape[:2]) < MIN_SIDE:
        raise MalformedRequest(f"image of shape {image.shape} is too small for features")
    out = _Features(measurements)
    builder(image, out)
    return np.asarray(out.values, dtype=np.float32)


@functools.cache
def feature_names(feature_set: str = "quality-v1") -> tuple[str, ...]:
    """The names of the features of ``feature_set``, in order.

    Examples
    --------
    >>> "noise_sigma" in feature_names()
    True
    """
    builder = FEATURE_SETS.get(feature_set)
    if builder is None:
        raise MalformedRequest(f"unknown feature set {feature_set!r}; known: {', '.join(FEATURE_SETS)}")
    out = _Features()
    page = np.full((64, 48, 3), 230, np.uint8)
    page[8:56:8, 6:42] = 20
    builder(page, out)
    return tuple(out.names)
