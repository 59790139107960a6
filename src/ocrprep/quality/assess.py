"""``assess``: measurements, limits and reasons combined into a :class:`QualityReport`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ocrprep.errors import MalformedRequest
from ocrprep.quality.limits import QualityLimits, step_score
from ocrprep.quality.measures import measure
from ocrprep.quality.report import DEFECTS, QualityReport

__all__ = ["ASSESS_MAX_SIDE", "assess", "judge"]

#: Decode inputs with ``decode_image(data, max_side=ASSESS_MAX_SIDE, as_gray=True)`` before :func:`assess`:
#: the measurements work at this resolution (larger images are reduced inside ``assess``).
ASSESS_MAX_SIDE = 800


@dataclass(frozen=True)
class _Rule:
    measurement: str
    limit: str
    at_least: bool
    words: str  # format with {v} and {lim}


_RULES: dict[str, tuple[_Rule, ...]] = {
    "blurry": (_Rule("sharpness", "min_sharpness", True, "edge sharpness {v:.2f}, needs at least {lim:.2f}"),),
    "noisy": (
        _Rule("noise_ratio", "max_noise_ratio", False,
              "noise {v:.2f} of the ink contrast, needs at most {lim:.2f}"),
    ),
    "dark": (_Rule("paper", "min_paper", True, "paper brightness {v:.0f}, needs at least {lim:.0f}"),),
    "faint": (_Rule("contrast", "min_contrast", True, "ink contrast {v:.2f}, needs at least {lim:.2f}"),),
    "glare": (
        _Rule("glare", "max_glare", False,
              "bright spot without text {v:.1f} character heights wide, needs at most {lim:.1f}"),
    ),
    "text_too_small": (
        _Rule("glyph_height", "min_glyph_height", True,
              "character height {v:.1f} px, needs at least {lim:.1f} px"),
    ),
    "document_cutoff": (
        _Rule("cut_span", "max_cut_span", False,
              "characters sliced along {v:.0%} of a frame side, needs at most {lim:.0%}"),
    ),
    "text_cutoff": (
        _Rule("text_cut", "max_text_cut", False,
              "{v:.0f} characters cut by the frame edge, needs at most {lim:.0f}"),
    ),
    "occluded": (
        _Rule("occluded", "max_occluded", False,
              "{v:.0%} of the text covered by an object, needs at most {lim:.0%}"),
    ),
    "skewed": (_Rule("abs_skew", "max_skew", False, "text tilted {v:.1f} degrees, needs at most {lim:.1f}"),),
    "rotated": (
        _Rule("vertical", "max_vertical", False,
              "text lines run vertically (vertical/horizontal line evidence {v:.2f}), "
              "needs at most {lim:.2f}"),
        _Rule("upside_down", "max_upside_down", False,
              "upside down (top line straighter than the baseline by {v:.2f}), needs at most {lim:.2f}"),
    ),
    "blank": (_Rule("glyph_count", "min_glyphs", True, "{v:.0f} characters found, needs at least {lim:.0f}"),),
}

# judged even when no text was found
_WITHOUT_TEXT = ("noisy", "dark", "blank")
# defects whose measurement a worse defect makes meaningless (the worse one is reported instead):
# glare is found as ink missing where text should be, and print too faint for the ink threshold
# leaves the same holes; skew and rotation come from text lines, and on a noisy page specks line
# up at any angle
_UNRELIABLE_ON: dict[str, tuple[str, ...]] = {"faint": ("glare",), "noisy": ("skewed", "rotated")}


def assess(
    image: np.ndarray,
    *,
    source_size: tuple[int, int] | None = None,
    limits: QualityLimits | None = None,
) -> QualityReport:
    """Is this document image good enough for OCR, and why not?

    Parameters
    ----------
    image : numpy.ndarray
        ``(H, W, 3)`` RGB or ``(H, W)`` grayscale uint8, ideally decoded with
        ``max_side=ASSESS_MAX_SIDE, as_gray=True`` (only the luminance is measured); never modified.
    source_size : tuple of int, optional
        ``(height, width)`` of the original when ``image`` was decoded at reduced size, so that
        character height is judged in original pixels.
    limits : QualityLimits, optional
        The limits; the calibrated defaults when omitted.

    Returns
    -------
    QualityReport
        ``defects`` scores every name of ``DEFECTS`` 0..1 (0.5 at its limit); ``reasons`` lists
        the defects at or above 0.5, worst first, with the measured value and the limit;
        ``score`` is ``1 -`` the worst blocking defect; ``acceptable`` is True when no blocking
        defect reaches 0.5. A blank page is reported as ``blank``, never dropped.

    Raises
    ------
    MalformedRequest
        When ``image`` is not a uint8 image array.

    Notes
    -----
    Costs a few milliseconds at ``ASSESS_MAX_SIDE``; no trained model is involved.

    Examples
    --------
    >>> report = assess(np.full((400, 300, 3), 250, np.uint8))
    >>> report.acceptable, report.top_defect
    (False, 'blank')
    >>> report.reasons[0]
    'blank: 0 characters found, needs at least 20'
    """
    _check(image)
    measurements = measure(image, source_size=source_size)
    return judge(measurements, limits)


def judge(measurements: dict[str, float], limits: QualityLimits | None = None) -> QualityReport:
    """The report for measurements already taken (see :func:`ocrprep.quality.measure`).

    Examples
    --------
    >>> from ocrprep.quality.measures import MEASURES
    >>> m = dict.fromkeys(MEASURES, 0.0) | {"glyph_count": 500, "glyph_height": 20, "sharpness": 0.05,
    ...     "paper": 240, "contrast": 0.6, "margin": 3}
    >>> judge(m).reasons[0]
    'blurry: edge sharpness 0.05, needs at least 0.19'
    """
    limits = limits or QualityLimits()
    values = dict(measurements)
    values["abs_skew"] = abs(values.get("skew", 0.0))
    has_text = values.get("glyph_count", 0.0) >= limits.min_glyphs
    defects: dict[str, float] = {}
    worded: list[tuple[float, str, str]] = []
    for name in DEFECTS:
        rules = _RULES.get(name, ())
        if not rules or (not has_text and name not in _WITHOUT_TEXT):
            defects[name] = 0.0
            continue
        best, words = 0.0, ""
        for rule in rules:
            lim = float(getattr(limits, rule.limit))
            value = float(values.get(rule.measurement, 0.0))
            score = step_score(value, lim, at_least=rule.at_least, steepness=limits.steepness)
            if score > best or not words:
                best, words = score, f"{name}: " + rule.words.format(v=value, lim=lim)
        defects[name] = round(best, 4)
        if best >= 0.5:
            worded.append((best, name, words))
    masked = {name for cause, names in _UNRELIABLE_ON.items() if defects.get(cause, 0.0) >= 0.5 for name in names}
    for name in masked:
        defects[name] = 0.0
    worded = [item for item in worded if item[1] not in masked]
    worded.sort(key=lambda item: -item[0])
    blocking = [defects[d] for d in limits.blocking if d in defects]
    worst = max(blocking, default=0.0)
    return QualityReport(
        acceptable=worst < 0.5,
        score=round(1.0 - worst, 4),
        defects=defects,
        reasons=tuple(words for _, _, words in worded),
        measurements={k: float(v) for k, v in measurements.items()},
    )


def _check(image: np.ndarray) -> None:
    ok = isinstance(image, np.ndarray) and image.dtype == np.uint8 and (
        image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))
    )
    if not ok or min(image.shape[:2]) < 1:
        raise MalformedRequest("assess needs a non-empty uint8 image of shape (H, W) or (H, W, 3)")

