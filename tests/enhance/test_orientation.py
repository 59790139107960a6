"""Orientation: quarter turns of real, narrow receipts, the convention, and the fix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _pages import STEMS, receipt
from ocrprep.degrade import degrade
from ocrprep.enhance import detect_orientation, fix_orientation, measure_orientation
from ocrprep.enhance import orientation
from ocrprep.imageio._pixels import percentile_u8 as _percentiles  # the histogram percentile the crops use


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


@settings(max_examples=50, deadline=None)
@given(values=st.lists(st.integers(0, 255), min_size=1, max_size=300),
       q=st.floats(0.0, 100.0))
def test_histogram_percentiles_match_numpy(values: list[int], q: float) -> None:
    crop = np.array(values, dtype=np.uint8)
    assert _percentiles(crop, np.array([q]))[0] == pytest.approx(np.percentile(crop, q), abs=1e-9)


@pytest.mark.parametrize(("first", "rest", "seen", "total"), [
    ([2.9, 2.9], [-2.9, -2.9, -2.9, -2.9], 2, 5.8),   # two near-certain crops agree: decided
    ([2.9, -1.0], [-2.9, -2.9, -2.9, -2.9], 6, -9.7),  # they disagree: the rest are read too
    ([2.0, 2.0], [1.0, 1.0, 1.0, 1.0], 6, 8.0),        # not sure enough: the rest are read too
])
def test_up_down_reads_more_crops_only_when_the_first_two_are_not_decisive(
    monkeypatch: pytest.MonkeyPatch, first: list[float], rest: list[float], seen: int, total: float
) -> None:
    odds = {2: np.array(first), 4: np.array(rest)}
    monkeypatch.setattr(orientation, "_crop_log_odds", lambda gray, matrices: odds[len(matrices)])
    found, count = orientation._upright_log_odds(np.zeros((4, 4), np.uint8), [np.eye(2, 3)] * 6)
    assert count == seen
    assert found == pytest.approx(total)
