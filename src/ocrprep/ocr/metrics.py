"""OCR accuracy against ground truth: bag-of-words F1, independent of reading order."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

__all__ = ["bag_of_words_f1", "read_box_transcripts"]


def _words(text: str) -> Counter[str]:
    return Counter(text.upper().split())


def bag_of_words_f1(predicted: str, truth: str) -> float:
    """F1 of the multisets of upper-cased whitespace-separated words.

    Both empty counts as a perfect match; exactly one empty as 0.

    Examples
    --------
    >>> bag_of_words_f1("Total 5.00", "TOTAL 5.00 RM")
    0.8
    """
    got, want = _words(predicted), _words(truth)
    if not got and not want:
        return 1.0
    common = sum((got & want).values())
    if common == 0:
        return 0.0
    precision = common / sum(got.values())
    recall = common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def read_box_transcripts(path: str | Path) -> str:
    """The transcripts of a SROIE ``box/NNN.csv`` (``x1,y1,...,y4,text``), one line each.

    The text may itself contain commas, so each row is split on its first eight commas only.
    """
    lines = []
    for raw in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        parts = raw.split(",", 8)
        if len(parts) == 9 and parts[8].strip():
            lines.append(parts[8].strip())
    return "\n".join(lines)
