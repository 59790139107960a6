"""The quality report: what ``assess`` measured, which defects it found, and why it decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFECTS", "Label", "QualityReport"]

#: Every defect the report scores, each 0 (absent) .. 1 (certain and severe).
DEFECTS: tuple[str, ...] = (
    "blurry",
    "noisy",
    "dark",
    "faint",
    "glare",
    "text_too_small",
    "document_cutoff",
    "text_cutoff",
    "occluded",
    "skewed",
    "rotated",
    "blank",
)


@dataclass(frozen=True)
class Label:
    """A model's label for an image, with its confidence in percent (0-100)."""

    name: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"Name": self.name, "Confidence": round(float(self.confidence), 3)}


@dataclass(frozen=True)
class QualityReport:
    """Whether an image is good enough for OCR, and why not.

    Attributes
    ----------
    acceptable : bool
        True when OCR is expected to succeed.
    score : float
        0..1, how likely OCR is to succeed.
    defects : dict[str, float]
        Each name of :data:`DEFECTS` scored 0..1; 0.5 is the limit above which it counts.
    reasons : tuple[str, ...]
        Plain words, worst first, each with the measured value and the limit, for example
        ``"blurry: edge sharpness 0.21, needs at least 0.45"``. Empty when acceptable.
    measurements : dict[str, float]
        The raw measured values behind the defects, for logging and tuning.
    labels : tuple[Label, ...]
        A trained model's labels, best first, when a model took part.
    model : str or None
        The model that took part, as ``project:version``.
    """

    acceptable: bool
    score: float
    defects: dict[str, float]
    reasons: tuple[str, ...] = ()
    measurements: dict[str, float] = field(default_factory=dict)
    labels: tuple[Label, ...] = ()
    model: str | None = None

    @property
    def top_defect(self) -> str | None:
        """The worst defect above its limit, or None."""
        worst = max(self.defects.items(), key=lambda kv: kv[1], default=None)
        return worst[0] if worst and worst[1] >= 0.5 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "acceptable": self.acceptable,
            "score": round(float(self.score), 4),
            "defects": {k: round(float(v), 4) for k, v in self.defects.items()},
            "reasons": list(self.reasons),
            "measurements": {k: round(float(v), 5) for k, v in self.measurements.items()},
            "labels": [label.to_dict() for label in self.labels],
            "model": self.model,
        }
