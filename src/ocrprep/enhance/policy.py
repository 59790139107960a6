"""The automatic policy: measure, pick the operations an image needs, apply, and keep only a gain.

A clean scan gets no operation. Each operation is chosen from a measurement (the quality report's
defects where one is given, and ocrprep's own cheap estimates), applied in a fixed order
(inversion, orientation, skew, borders, illumination, contrast, noise, size), and the result is
re-assessed: it is kept only when it assesses at least as well as the input.

Two contrast paths. A shadowed page keeps its colour: the background is divided out and the ink
stretched with a mild gamma (a stronger one, ``Thresholds.faint_gamma``, for faint print). An
evenly lit faint or dim page has lost ink, not light: it is recovered in grey (``_recover_ink``).
A dim page is deblocked first and stretched linearly; a faint page is smoothed lightly (against
the posterisation of a stretch of a few dozen grey levels) and stretched with
``Thresholds.faint_ink_gamma``, linearly when its print is smaller than
``Thresholds.bold_text_height`` (a gamma closes the counters of small print). A page rebuilt this
way is enlarged when its text is under ``Thresholds.rebuilt_text_height`` pixels (Tesseract reads
such pages far better at that size). ``Thresholds(faint_path="colour")`` sends evenly lit faint
pages down the shadow path instead; ``bench/faint_check.py`` compares the paths on receipts outside the bench's set.

Engine profiles. The engines want different things: Tesseract reads small print best enlarged to
about 22 px and a dim JPEG page best despeckled; RapidOCR reads both as well at native size and
undespeckled, and small print a little better not enlarged at all. ``Thresholds.for_engine(name)``
gives the thresholds for the engine that will read the image (``generic``, the default, suits
both); ``ocrprep ocr --engine`` uses it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ocrprep.enhance._image import Views, as_gray, check_image, like_input, like_layout, resize_to, working_layout
from ocrprep.enhance.contrast import estimate_levels, invert, is_inverted, stretch_contrast
from ocrprep.enhance.denoise import deblock, denoise, despeckle, estimate_noise, smooth_artifacts
from ocrprep.enhance.geometry import estimate_borders, estimate_text_height, remove_borders, upscale
from ocrprep.enhance.illumination import estimate_background, normalize_illumination, unevenness
from ocrprep.enhance.orientation import measure_orientation
from ocrprep.enhance.skew import MIN_CONFIDENCE, NOISE_FLOOR, deskew, measure_skew
from ocrprep.errors import MalformedRequest
from ocrprep.quality.report import DEFECTS, QualityReport

__all__ = ["PROFILES", "EnhanceResult", "Operation", "Thresholds", "auto_enhance", "measure"]

Mode = Literal["auto", "always", "off"]
Assessor = Callable[[np.ndarray], QualityReport]


@dataclass(frozen=True)
class Operation:
    """One applied operation and its parameters, e.g. ``Operation("deskew", {"angle": -7.4})``."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        p = self.params
        if self.name == "deskew":
            return f"deskew {p['angle']:+.2f}° (confidence {p['confidence']:.2f})"
        if self.name == "orientation":
            return f"orientation {p['degrees']} (confidence {p['confidence']:.2f})"
        if not p:
            return self.name
        return self.name + " " + ", ".join(f"{k}={_fmt(v)}" for k, v in p.items())

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": {k: _fmt_json(v) for k, v in self.params.items()}}


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _fmt_json(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


@dataclass(frozen=True)
class EnhanceResult:
    """What :func:`auto_enhance` did.

    Attributes
    ----------
    image : ndarray
        The enhanced image (the input itself when nothing was kept).
    operations : tuple of Operation
        The operations applied to ``image``, in order; empty when unchanged.
    before, after : QualityReport
        Assessments of the input and of ``image``.
    changed : bool
        True when ``image`` differs from the input.
    discarded : tuple of Operation
        Operations that were tried but dropped because the result did not assess better.
    measurements : dict
        The estimates the choices were made from.
    """

    image: np.ndarray
    operations: tuple[Operation, ...]
    before: QualityReport
    after: QualityReport
    changed: bool
    discarded: tuple[Operation, ...] = ()
    measurements: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "operations": [op.to_dict() for op in self.operations],
            "discarded": [op.to_dict() for op in self.discarded],
            "before": self.before.to_dict(),
            "after": self.after.to_dict(),
            "measurements": {k: round(float(v), 4) for k, v in self.measurements.items()},
        }


@dataclass(frozen=True)
class Thresholds:
    """Where the automatic policy draws its lines (defaults tuned on SROIE receipts).

    ``ink_gamma``, ``deblock_share`` and ``rebuilt_text_height`` belong to the grey ink recovery
    of dim pages; they were chosen by OCR F1 (RapidOCR and Tesseract) on 12 receipts kept apart
    from those of ``bench/bench_enhance.py``. ``faint_path`` says which path an evenly lit faint
    page (paper not dim) takes: ``"grey"`` (the ink recovery, the default: smoothed by
    ``ink_smooth``, stretched with ``faint_ink_gamma``) or ``"colour"`` (the shadow path's
    illumination and ``faint_gamma`` stretch); dim pages always go grey. ``bold_text_height``:
    faint print smaller than this (pixels) is stretched linearly on the grey path. The faint
    settings were chosen by OCR F1 of both engines on 18 receipts outside the bench's set
    (sorted indices i with i % 23 in {11, 17}), bench kind ``very faint``: RapidOCR / Tesseract
    recovery 0.48 / 0.38 against 0.51 / -0.17 (colour path) and 0.41 / 0.25 (grey, linear). On
    20 further receipts (``bench/faint_check.py --ids 188-207``) the linear grey path read
    better; pooled over the 38 the three paths are within 0.005 F1 for both engines
    (``bench/results/faint_check.txt``). The default is kept for its guard on small print and its
    speed (one channel).

    ``despeckle_dim`` / ``despeckle_faint``: the size (3 or 5; 0 = off) of a median filter applied
    last to dim / faint pages rebuilt in grey. ``profile`` names the set (``for_engine``); the
    engine profiles (:data:`PROFILES`) were chosen by ``bench/engine_check.py`` on receipts
    outside the bench's OCR set.
    """

    skew_degrees: float = 1.0
    orientation_confidence: float = 0.8
    unevenness: float = 0.3
    min_contrast: float = 75.0
    min_paper: float = 170.0
    noise_sigma: float = 6.0
    smooth_gain: float = 2.5
    gamma: float = 1.5
    faint_gamma: float = 2.0
    ink_gamma: float = 1.0
    deblock_share: float = 0.2
    min_text_height: float = 9.0
    target_text_height: float = 18.0
    rebuilt_text_height: float = 18.0
    max_upscale: float = 2.0
    max_pixels: int = 40_000_000
    border_fraction: float = 0.01
    faint_path: Literal["grey", "colour"] = "grey"
    faint_ink_gamma: float = 1.5
    ink_smooth: float = 0.8
    bold_text_height: float = 12.0
    despeckle_dim: int = 0
    despeckle_faint: int = 0
    profile: str = "generic"

    def __post_init__(self) -> None:
        if self.faint_path not in ("grey", "colour"):
            raise MalformedRequest(f"unknown faint_path {self.faint_path!r}; use grey or colour")

    @classmethod
    def for_engine(cls, name: str | None) -> Thresholds:
        """The thresholds tailored to the OCR engine that will read the image.

        ``"generic"`` (or None) gives the defaults; ``"tesseract"`` and ``"rapidocr"`` give
        :data:`PROFILES`' settings over them.

        Raises
        ------
        MalformedRequest
            For an unknown name.

        Examples
        --------
        >>> Thresholds.for_engine("generic") == Thresholds()
        True
        """
        key = (name or "generic").strip().lower()
        if key not in PROFILES:
            raise MalformedRequest(f"unknown enhance profile {name!r}; use {', '.join(PROFILES)}")
        return cls(**PROFILES[key], profile=key)


#: Engine profiles: the fields of :class:`Thresholds` each engine wants changed from the defaults.
#: Chosen by ``bench/engine_check.py`` on the 18 receipts i % 23 in {11, 17} (outside the bench's
#: OCR set), bench kinds and seed. Tesseract reads 6-7 px print better enlarged 3x than 2x (small
#: text recovery 0.51 -> 0.58), and a dim JPEG page better when a 3x3 median removes the specks
#: the stretch makes of its ringing and grain, after a stronger deblock (0.15 -> 0.55). RapidOCR
#: scales a page to its detector's size itself, and reads small print a little worse enlarged by
#: ocrprep (small text 0.781 -> 0.769, and 0.845 -> 0.831 on the 20 receipts 188-207): no upscale.
PROFILES: dict[str, dict[str, Any]] = {
    "generic": {},
    "tesseract": {"target_text_height": 22.0, "max_upscale": 3.0, "despeckle_dim": 3, "deblock_share": 0.4},
    "rapidocr": {"max_upscale": 1.0},
}


def measure(image: np.ndarray) -> dict[str, float]:
    """ocrprep's own cheap estimates, the inputs of the policy.

    Examples
    --------
    >>> sorted(measure(np.full((60, 80, 3), 240, np.uint8)))[:3]
    ['borders', 'contrast', 'ink']
    """
    v = Views(image)
    skew = measure_skew(v)
    orientation = measure_orientation(v)
    levels = estimate_levels(v)
    top, bottom, left, right = estimate_borders(v)
    height, width = image.shape[:2]
    small, _ = v.at(500)
    return {
        "skew": skew.angle,
        "skew_confidence": skew.confidence,
        "orientation": float(orientation.degrees),
        "orientation_confidence": orientation.confidence,
        # (a sliver of a page, a few pixels across, has a shrunk copy too thin to judge)
        "unevenness": unevenness(estimate_background(small)) if min(small.shape[:2]) >= 2 else 0.0,
        "ink": levels.ink,
        "paper": levels.paper,
        "contrast": levels.contrast,
        "noise": estimate_noise(v),
        "text_height": estimate_text_height(v),
        "inverted": float(is_inverted(v)),
        "borders": (top + bottom) / height + (left + right) / width,
    }


def _own_report(m: dict[str, float], th: Thresholds) -> QualityReport:
    """A quality report from ocrprep's own estimates (used when ``ocrprep.quality`` is absent)."""
    defects = dict.fromkeys(DEFECTS, 0.0)
    defects["skewed"] = float(np.clip(abs(m["skew"]) / (2 * th.skew_degrees), 0, 1)) * min(
        1.0, m["skew_confidence"] / MIN_CONFIDENCE
    )
    defects["rotated"] = m["orientation_confidence"] if m["orientation"] else 0.0
    defects["dark"] = float(np.clip((th.min_paper + 40 - m["paper"]) / 80, 0, 1))
    defects["faint"] = float(np.clip((th.min_contrast + 30 - m["contrast"]) / 60, 0, 1))
    defects["dark"] = max(defects["dark"], float(np.clip(m["unevenness"] / (2 * th.unevenness), 0, 1)))
    defects["noisy"] = float(np.clip((m["noise"] - th.noise_sigma / 2) / th.noise_sigma, 0, 1))
    if m["text_height"] > 0:
        small = (th.min_text_height + 3 - m["text_height"]) / 6
        defects["text_too_small"] = float(np.clip(small, 0, 1))
    defects["blank"] = 1.0 if m["text_height"] == 0 else 0.0
    worst = max(defects.values())
    reasons = tuple(f"{k}: {v:.2f}" for k, v in sorted(defects.items(), key=lambda kv: -kv[1]) if v >= 0.5)
    return QualityReport(worst < 0.5, 1.0 - worst, defects, reasons, dict(m))


def _default_assessor() -> Assessor | None:
    """``ocrprep.quality.assess`` on a copy reduced to its working size, or None when absent."""
    try:
        from ocrprep.quality import assess as quality_assess
    except ImportError:
        return None
    if not callable(quality_assess):  # a namespace package exposing the submodule only
        quality_assess = getattr(quality_assess, "assess", None)
        if not callable(quality_assess):
            return None
    try:
        from ocrprep.quality import ASSESS_MAX_SIDE as side
    except ImportError:
        side = 800

    def assess(image: np.ndarray) -> QualityReport:
        # the assessment reads the luminance only: one channel to shrink instead of three
        small, scale = resize_to(as_gray(image), int(side))
        source_size = image.shape[:2] if scale < 1.0 else None
        return quality_assess(small, source_size=source_size)  # type: ignore[no-any-return]

    return assess


def _defect(report: QualityReport | None, name: str) -> float:
    return float(report.defects.get(name, 0.0)) if report is not None else 0.0


def _plan_and_apply(
    image: np.ndarray, m: dict[str, float], report: QualityReport | None, mode: Mode, th: Thresholds
) -> tuple[np.ndarray, list[Operation]]:
    always = mode == "always"
    ops: list[Operation] = []
    out = image
    if m["inverted"]:
        out = invert(out)
        ops.append(Operation("invert"))
    if 0 < m["text_height"] < th.min_text_height and m["orientation"]:
        m = {**m, **_orientation_enlarged(out, m["text_height"], th)}
    rotated = _defect(report, "rotated") >= 0.5
    need = 0.5 if (rotated or always) else th.orientation_confidence
    if m["orientation"] and m["orientation_confidence"] >= need:
        degrees = int(m["orientation"])
        out = np.ascontiguousarray(np.rot90(out, -(degrees // 90) % 4))
        ops.append(Operation("orientation", {"degrees": degrees, "confidence": m["orientation_confidence"]}))
        turned = Views(out)  # converted and shrunk once for both estimates
        skew = measure_skew(turned)
        m = {**m, "skew": skew.angle, "skew_confidence": skew.confidence,
             "text_height": estimate_text_height(turned)}
    skewed = _defect(report, "skewed") >= 0.5
    floor = NOISE_FLOOR if (skewed or always) else th.skew_degrees
    if abs(m["skew"]) >= floor and m["skew_confidence"] >= MIN_CONFIDENCE:
        out = deskew(out, m["skew"])
        ops.append(Operation("deskew", {"angle": m["skew"], "confidence": m["skew_confidence"]}))
    if m["borders"] >= th.border_fraction:
        borders = estimate_borders(out)
        if any(borders):
            out = remove_borders(out, borders)
            sides = dict(zip(("top", "bottom", "left", "right"), borders, strict=True))
            ops.append(Operation("remove_borders", sides))
    dim = m["paper"] < th.min_paper
    # ocrprep's own contrast (ink against paper in grey levels) is low on light-grey print as
    # well as on faded print, and on small print, whose thin strokes mix with the paper: a page
    # counts as faint by it only when the quality report leans that way too (calls it faint
    # outright, for print under min_text_height), or the contrast is under half the limit.
    # Rebuilt as faint, creased light-grey paper had its creases stretched into dark blotches,
    # and a small receipt (faint score 0.31) had its strokes swell into blobs that Tesseract
    # could not read (0.00 F1, against 0.18 on the page as it came).
    small_print = 0 < m["text_height"] < th.min_text_height
    agrees = _FAINT_SMALL_PRINT if small_print else _FAINT_AGREES
    low_contrast = m["contrast"] < th.min_contrast and (
        _defect(report, "faint") >= agrees or m["contrast"] < th.min_contrast / 2
    )
    dark = _defect(report, "dark") >= 0.5 or dim
    faint = _defect(report, "faint") >= 0.5 or low_contrast
    shadow = m["unevenness"] >= th.unevenness
    rebuilt = False
    if not shadow and (dim or (low_contrast and th.faint_path == "grey")):
        # evenly lit but faint or dim: the ink itself must be recovered
        out, done = _recover_ink(out, m, th)
        ops += done
        rebuilt = True
    elif always or shadow or dark or faint:
        out = normalize_illumination(out, estimate_background(out), target=255)
        ops.append(Operation("illumination", {"unevenness": m["unevenness"]}))
        levels = estimate_levels(out)
        if 255.0 / max(levels.contrast, 4.0) > th.smooth_gain:
            # a strong stretch would amplify JPEG blocks and sensor grain: smooth them first
            out = smooth_artifacts(out, 0.8)
            ops.append(Operation("smooth", {"sigma": 0.8}))
        gamma = th.faint_gamma if faint else th.gamma
        out = stretch_contrast(out, levels, gamma=gamma)
        ops.append(Operation("contrast", {"ink": levels.ink, "paper": levels.paper, "gamma": gamma}))
    if always or _defect(report, "noisy") >= 0.5 or m["noise"] >= th.noise_sigma:
        sigma = estimate_noise(out)
        out = denoise(out, sigma)
        ops.append(Operation("denoise", {"sigma": sigma}))
    small = _defect(report, "text_too_small") >= 0.5
    # Faint or dim print hides part of the glyphs from the text-height estimate: measure again.
    height = estimate_text_height(out) if rebuilt else m["text_height"]
    # rebuilt pages are enlarged to rebuilt_text_height, others to target_text_height
    below = max(th.min_text_height, th.rebuilt_text_height) if rebuilt else th.min_text_height
    goal = th.rebuilt_text_height if rebuilt else th.target_text_height
    if height > 0 and (height < below or small):
        factor = min(th.max_upscale, goal / height)
        pixels = out.shape[0] * out.shape[1]
        factor = min(factor, math.sqrt(th.max_pixels / pixels))
        if factor >= 1.25:
            out = upscale(out, factor)
            ops.append(Operation("upscale", {"factor": round(factor, 3), "text_height": height}))
    size = (th.despeckle_dim if dim else th.despeckle_faint) if rebuilt else 0
    if size:
        out = despeckle(out, size)
        ops.append(Operation("despeckle", {"size": size}))
    return out, ops


def _orientation_enlarged(image: np.ndarray, text_height: float, th: Thresholds) -> dict[str, float]:
    """The orientation read again off a copy enlarged to ``th.target_text_height`` print.

    The cues of the orientation estimate need glyphs of some size: on 6-pixel print a reading of
    180° with confidence 0.99 came from an upright receipt, which the enlarged copy read right.
    """
    factor = min(4.0, th.target_text_height / text_height)
    factor = min(factor, math.sqrt(_ORIENTATION_PIXELS / (image.shape[0] * image.shape[1])))
    if factor < 1.25:
        return {}
    found = measure_orientation(upscale(image, factor))
    return {"orientation": float(found.degrees), "orientation_confidence": found.confidence}


#: The quality report's faint score from which ocrprep's own low-contrast reading counts.
_FAINT_AGREES = 0.3
#: The same for print under ``Thresholds.min_text_height``: the report's own limit.
_FAINT_SMALL_PRINT = 0.5

#: At most this many pixels in the enlarged copy that :func:`_orientation_enlarged` reads.
_ORIENTATION_PIXELS = 8_000_000


def _faint_gamma(text_height: float, th: Thresholds) -> float:
    """``th.faint_ink_gamma``, or 1 (a linear stretch) for print under ``th.bold_text_height``.

    A gamma above 1 darkens the mid-tones, which thickens strokes: broken faint strokes join up,
    but the counters and gaps of small print (1-2 pixels wide) close, and Tesseract then reads
    blobs (F1 0.7-0.8 fell to 0.1-0.3 on such receipts).
    """
    return 1.0 if 0 < text_height < th.bold_text_height else th.faint_ink_gamma


def _recover_ink(
    image: np.ndarray, m: dict[str, float], th: Thresholds
) -> tuple[np.ndarray, list[Operation]]:
    """Faint or dim print: grey, deblocked when dim, paper evened out, ink stretched to black.

    Faded print loses its colour along with its contrast and OCR reads grey, so the ink is
    recovered in grey (the result keeps the input's channels). A dim page is stretched about
    twice, which would amplify its JPEG blocks and grain: an edge-keeping bilateral filter with a
    strength tied to the ink contrast flattens them first, and the stretch is linear (gamma 1):
    darkening the mid-tones turns dust and blocks into dark specks that make Tesseract's page
    layout give up. A faint page spans only a few dozen grey levels: a light blur restores the
    in-between levels the stretch would otherwise leave as coarse steps, and a mild gamma
    (``faint_ink_gamma``) joins broken strokes, except on small print (``_faint_gamma``).
    """
    ops = [Operation("gray")]
    work = as_gray(image)
    dim = m["paper"] < th.min_paper
    if dim:
        strength = float(np.clip(th.deblock_share * m["contrast"], 8.0, 40.0))
        work = deblock(work, strength)
        ops.append(Operation("deblock", {"strength": strength}))
    work = normalize_illumination(work, estimate_background(work), target=255)
    ops.append(Operation("illumination", {"unevenness": m["unevenness"]}))
    if not dim and th.ink_smooth > 0:
        # faint print spans a few dozen grey levels: the stretch would leave them as coarse
        # steps (posterised, ragged strokes); a light blur first gives them back their in-between
        work = smooth_artifacts(work, th.ink_smooth)
        ops.append(Operation("smooth", {"sigma": th.ink_smooth}))
    # On a dim page a black scanner strip or photo is as dark as the ink: take the ink level from
    # the strokes. A faint page's darkest pixels are its ink (the faint strokes themselves are
    # too broken up for the stroke mask to measure their level well).
    levels = estimate_levels(work, text_ink=dim)
    gamma = th.ink_gamma if dim else _faint_gamma(m["text_height"], th)
    work = stretch_contrast(work, levels, gamma=gamma)
    ops.append(Operation("contrast", {"ink": levels.ink, "paper": levels.paper, "gamma": gamma}))
    return like_input(work, image), ops


def auto_enhance(
    image: np.ndarray,
    report: QualityReport | None = None,
    *,
    mode: Mode = "auto",
    assess: Assessor | None = None,
    thresholds: Thresholds | None = None,
) -> EnhanceResult:
    """Pick and apply the operations ``image`` needs; keep the result only if it assesses better.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3), uint8
        Never modified. ``(H, W, 1)`` and RGBA are taken too: RGBA is composited over white, and
        a changed image comes back in the input's layout (alpha opaque).
    report : QualityReport, optional
        The input's assessment, when the caller has one (saves assessing it again).
    mode : {"auto", "always", "off"}
        ``auto`` chooses per image; ``always`` applies every operation whose estimate is usable
        (still guarded); ``off`` returns the input unchanged.
    assess : callable, optional
        ``image -> QualityReport``; default :func:`ocrprep.quality.assess` when installed, else
        a report built from ocrprep's own estimates.
    thresholds : Thresholds, optional

    Returns
    -------
    EnhanceResult

    Examples
    --------
    >>> page = np.full((120, 90, 3), 240, np.uint8)
    >>> auto_enhance(page, mode="off").operations
    ()
    """
    check_image(image)
    if mode not in ("auto", "always", "off"):
        raise MalformedRequest(f"unknown enhance mode {mode!r}; use auto, always or off")
    th = thresholds or Thresholds()
    judge = assess or _default_assessor()
    # one or three channels while working (a single-channel axis and alpha are put back after)
    work = working_layout(image)
    m = measure(work) if mode != "off" else {}
    if report is not None:
        before = report
    elif judge is not None:
        before = judge(work)
    else:
        before = _own_report(m, th) if m else QualityReport(True, 1.0, dict.fromkeys(DEFECTS, 0.0))
    if mode == "off":
        return EnhanceResult(image, (), before, before, False)
    out, ops = _plan_and_apply(work, m, report if report is not None else before, mode, th)
    if not ops:
        return EnhanceResult(image, (), before, before, False, measurements=m)
    after = judge(out) if judge is not None else _own_report(measure(out), th)
    if after.score + 0.01 < before.score and after.acceptable <= before.acceptable:
        # A second opinion from ocrprep's own estimates before throwing the work away: one
        # assessor can be fooled by one measurement (a tilt read off a page edge).
        second = judge is not None and _own_report(measure(out), th).score > _own_report(m, th).score + 0.01
        if not second:
            return EnhanceResult(image, (), before, before, False, tuple(ops), m)
    return EnhanceResult(like_layout(out, image), tuple(ops), before, after, True, measurements=m)
