"""Bag-of-words F1 and the SROIE transcript reader."""

from __future__ import annotations

from pathlib import Path

import pytest

from _paths import RECEIPTS
from ocrprep.ocr import bag_of_words_f1, read_box_transcripts


def test_f1_is_order_and_case_independent_and_counts_repeats() -> None:
    assert bag_of_words_f1("b a", "A B") == 1.0
    assert bag_of_words_f1("a a b", "a b") == pytest.approx(0.8)
    assert bag_of_words_f1("", "") == 1.0
    assert bag_of_words_f1("x", "") == 0.0
    assert bag_of_words_f1("x y", "z") == 0.0


def test_transcripts_keep_commas_inside_the_text(tmp_path: Path) -> None:
    csv = tmp_path / "box.csv"
    csv.write_text("1,2,3,4,5,6,7,8,NO.53 55,57 & 59, JALAN\n1,2,3,4,5,6,7,8,TOTAL\n\n")
    assert read_box_transcripts(csv) == "NO.53 55,57 & 59, JALAN\nTOTAL"


def test_bundled_transcripts_read() -> None:
    text = read_box_transcripts(RECEIPTS / "000.csv")
    assert "TAN WOON YANN" in text
    assert bag_of_words_f1(text, text) == 1.0
