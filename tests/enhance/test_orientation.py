"""Orientation: quarter turns of real, narrow receipts, the convention, and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from _pages import STEMS, receipt
from ocrprep.degrade import degrade
from ocrprep.enhance import detect_orientation, fix_orientation, measure_orientation


@pytest.mark.parametrize("stem", STEMS)
def test_detect_orientation_on_receipts_turned_by_quarter_turns(stem: str) -> None:
    image = receipt(stem)
    for degrees in (0, 90, 180, 270):
        turned = np.ascontiguousarray(np.rot90(image, degrees // 90))  # counter-clockwise
        found, confidence = detect_orientation(turned)
        assert found == degrees, f"{stem} turned {degrees}: found {found}"
        assert 0.0 <= confidence <= 1.0
        assert np.array_equal(np.rot90(turned, -found // 90), image)


def test_degrade_rotate_is_undone_by_fix_orientation() -> None:
    image = receipt("075")
    turned = degrade(image, "rotate", seed=0, degrees=270)
    assert np.array_equal(fix_orientation(turned), image)


def test_orientation_with_skew_still_reads_the_quarter_turn() -> None:
    skewed = degrade(receipt("030"), "skew", seed=0, angle=25.0)
    turned = np.ascontiguousarray(np.rot90(skewed, 1))
    estimate = measure_orientation(turned)
    assert estimate.degrees == 90
    assert estimate.line_angle == pytest.approx(115.0, abs=2.0)


def test_no_text_means_no_confidence() -> None:
    assert detect_orientation(np.full((300, 120, 3), 235, np.uint8)) == (0, 0.0)


def test_fix_orientation_with_explicit_degrees_and_input_untouched() -> None:
    image = receipt("000")
    copy = image.copy()
    out = fix_orientation(np.rot90(image, 2), 180)
    assert np.array_equal(out, image)
    assert np.array_equal(image, copy)
    with pytest.raises(ValueError, match="multiple of 90"):
        fix_orientation(image, 45)
