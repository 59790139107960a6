"""Calibrated limits that turn measurements into defect scores, and the words for the reasons.

A defect score is a smooth step around its limit: ``1 / (1 + (value / limit) ** k)`` for a
measurement that must stay *at least* the limit (higher is better), and ``1 / (1 + (limit / value)
** k)`` for one that must stay *at most* the limit. Exactly at the limit the score is 0.5; twice
as far on the good side it falls to ``1 / (1 + 2 ** k)``.

The defaults were calibrated on the even-numbered half of ``../shared/data/sroie`` (clean receipts
plus the seeded degradations of :mod:`ocrprep.degrade` at mild and severe strength, all passed
through JPEG and the reduced decode ``assess`` uses): each limit sits between the worst clean
receipts and the bulk of the severe cases of its defect (for sharpness, noise and contrast the
geometric mean of the worst even-numbered clean receipt and the 10th percentile of the severe
cases), leaning towards accepting clean receipts. ``bench/bench_quality.py`` reports the
odd-numbered half apart, as held-out figures. The cut-off limits stay lenient: tightly cropped
receipts (torn edges, a price touching the frame) are common and readable.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from ocrprep.quality.report import DEFECTS

__all__ = ["QualityLimits", "step_score"]


@dataclass(frozen=True)
class QualityLimits:
    """The limit of every measurement the quality report judges (see :mod:`ocrprep.quality.measures`).

    Attributes
    ----------
    min_sharpness : float
        ``blurry``: text-edge sharpness (peak derivative along a direction over the local
        contrast, for the blurriest of four directions) at the working resolution; clean
        receipts measure 0.22-0.41, a Gaussian blur of sigma px about ``0.4 / sigma``, a motion
        smear of L px about ``1 / L``.
    max_noise_ratio : float
        ``noisy``: noise standard deviation over the ink contrast.
    min_paper : float
        ``dark``: paper brightness (0-255) where the text is, 10th percentile of the local
        background, so a cast shadow over part of the text counts.
    min_contrast : float
        ``faint``: ink depth below the paper, relative to the paper (0..1).
    max_glare : float
        ``glare``: radius of the largest bright, ink-free hole inside the text, in glyph heights.
    min_glyph_height : float
        ``text_too_small``: character height in original pixels.
    max_cut_span : float
        ``document_cutoff``: share of a frame side's text extent along which characters are
        sliced (the page continues beyond the frame).
    max_text_cut : float
        ``text_cutoff``: character-sized ink pieces sliced by one frame side that keep at least
        0.3 of a character inside the frame (a tight crop grazing the tips of the next line does
        not count).
    max_occluded : float
        ``occluded``: share of the text area under one smooth, non-paper object.
    max_skew : float
        ``skewed``: absolute text-line angle in degrees.
    max_vertical : float
        ``rotated``: evidence for vertical text lines over evidence for horizontal ones (projection
        profile sharpness ratio; a 90 or 270 degree turn gives about 2-4).
    max_upside_down : float
        ``rotated``: how much straighter the glyph top line is than the baseline (0 upright;
        a 180 degree turn of Latin print gives about 0.1-0.7).
    min_glyphs : float
        ``blank``: number of character-like components.
    steepness : float
        The exponent ``k`` of the score step.
    blocking : tuple of str
        Defects that make an image unacceptable when their score reaches 0.5.
    """

    min_sharpness: float = 0.19
    max_noise_ratio: float = 0.045
    min_paper: float = 130.0
    min_contrast: float = 0.188
    max_glare: float = 5.3
    min_glyph_height: float = 8.0
    max_cut_span: float = 0.7
    max_text_cut: float = 10.0
    max_occluded: float = 0.05
    max_skew: float = 6.0
    max_vertical: float = 1.1
    max_upside_down: float = 0.5
    min_glyphs: float = 20.0
    steepness: float = 4.0
    blocking: tuple[str, ...] = DEFECTS

    def replace(self, **changes: float | tuple[str, ...]) -> QualityLimits:
        """A copy with some limits changed (unknown names raise ``TypeError``).

        Examples
        --------
        >>> QualityLimits().replace(max_skew=10.0).max_skew
        10.0
        """
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown limit(s): {', '.join(sorted(unknown))}")
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data.update(changes)
        return QualityLimits(**data)  # type: ignore[arg-type]


def step_score(value: float, limit: float, *, at_least: bool, steepness: float = 4.0) -> float:
    """Score 0..1 of a measurement against its limit: 0.5 at the limit, towards 1 as it gets worse.

    Examples
    --------
    >>> step_score(0.45, 0.45, at_least=True)
    0.5
    >>> step_score(0.1, 0.45, at_least=True) > 0.9, step_score(12.0, 6.0, at_least=False) > 0.9
    (True, True)
    """
    value = max(float(value), 1e-9)
    limit = max(float(limit), 1e-9)
    ratio = limit / value if at_least else value / limit
    # ratio > 1 is on the bad side; the step is symmetric in log(ratio)
    try:
        return 1.0 / (1.0 + ratio ** (-steepness))
    except OverflowError:
        return 1.0 if ratio > 1 else 0.0
