"""The OCR engine seam: one small Protocol, one result type, and a registry by name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = ["OcrEngine", "OcrLine", "OcrResult"]


@dataclass(frozen=True)
class OcrLine:
    """One recognised line of text.

    Attributes
    ----------
    text : str
    box : tuple of 4 (x, y) pairs
        The line's quad in pixels of the image OCR read: TL, TR, BR, BL.
    confidence : float
        0..1.
    """

    text: str
    box: tuple[tuple[float, float], ...]
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "box": [[round(float(x), 1), round(float(y), 1)] for x, y in self.box],
            "confidence": round(float(self.confidence), 4),
        }


@dataclass(frozen=True)
class OcrResult:
    """What an engine read: the lines in reading order, and their text joined by newlines."""

    engine: str
    lines: tuple[OcrLine, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """All lines, one per row of text."""
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "text": self.text, "lines": [ln.to_dict() for ln in self.lines]}


@runtime_checkable
class OcrEngine(Protocol):
    """An OCR engine: a name, an availability probe, and recognition of an RGB uint8 image."""

    name: str

    def is_available(self) -> bool:
        """True when the engine can run here (its package or binary is installed)."""
        ...

    def recognize(self, image: np.ndarray) -> OcrResult:
        """Read the text of an (H, W) or (H, W, 3) RGB uint8 image.

        Raises
        ------
        OcrEngineError
            When the engine is missing or fails.
        """
        ...
