"""Skew: accuracy on real receipts turned by known angles, the sign convention, the guards."""

from __future__ import annotations

import numpy as np
import pytest

from _pages import receipt, text_page
from ocrprep.degrade import degrade
from ocrprep.enhance import deskew, estimate_skew, measure_skew, rotate


@pytest.mark.parametrize(("stem", "angle"), [("000", 17.5), ("030", -23.0), ("075", 11.2),
                                             ("150", -4.3), ("132", 28.0), ("009", -12.7)])
def test_estimate_skew_recovers_known_angles_on_real_receipts(stem: str, angle: float) -> None:
    # The scans are not perfectly level themselves: compare with the reading of the original.
    image = receipt(stem)
    turned = degrade(image, "skew", seed=0, angle=angle)
    assert estimate_skew(turned) == pytest.approx(angle + estimate_skew(image), abs=0.25)


@pytest.mark.parametrize("angle", [-40.0, -9.0, 0.0, 2.5, 33.0])
def test_estimate_skew_is_accurate_on_a_level_synthetic_page(angle: float) -> None:
    page = text_page(seed=3)
    assert estimate_skew(rotate(page, angle)) == pytest.approx(angle, abs=0.2)


def test_sign_convention_counter_clockwise_is_positive_and_clockwise_rotation_levels() -> None:
    # Dashed lines drawn rising to the right by 6 degrees: on screen, a counter-clockwise tilt.
    page = np.full((500, 400, 3), 250, np.uint8)
    slope = np.tan(np.radians(6.0))
    for y0 in range(80, 480, 22):
        for x in range(10, 390, 9):
            y = int(round(y0 - x * slope))
            page[max(0, y - 3) : y + 3, x : x + 6] = 20
    angle = estimate_skew(page)
    assert angle == pytest.approx(6.0, abs=0.2)
    assert estimate_skew(rotate(page, 4.0)) == pytest.approx(10.0, abs=0.2)  # rotate: CCW too
    assert abs(estimate_skew(rotate(page, -angle))) < 0.15  # turning clockwise levels them


def test_deskew_levels_the_lines() -> None:
    turned = degrade(receipt("042"), "skew", seed=0, angle=-14.0)
    before = estimate_skew(turned)
    assert abs(estimate_skew(deskew(turned))) < abs(before) / 20


def test_deskew_is_a_no_op_below_the_noise_floor() -> None:
    page = text_page(seed=5)
    out = deskew(page, 0.1)
    assert out.shape == page.shape
    assert np.array_equal(out, page)
    assert out is not page


def test_deskew_does_nothing_without_confidence() -> None:
    blank = np.full((300, 200, 3), 240, np.uint8)
    estimate = measure_skew(blank)
    assert estimate.confidence == 0.0
    assert np.array_equal(deskew(blank), blank)


def test_confidence_separates_text_from_noise() -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (400, 300, 3), dtype=np.uint8)
    assert measure_skew(text_page(seed=6)).confidence > measure_skew(noise).confidence


def test_estimate_skew_range_and_input_untouched() -> None:
    page = text_page(seed=7)
    copy = page.copy()
    angle = estimate_skew(page)
    assert -45.0 <= angle <= 45.0
    assert np.array_equal(page, copy)


def _edge_energy(image: np.ndarray) -> float:
    gray = image[:, :, 0].astype(np.float64)
    return float((np.diff(gray, axis=0) ** 2).mean() + (np.diff(gray, axis=1) ** 2).mean())


def test_deskew_of_a_large_page_stays_as_sharp_as_bicubic() -> None:
    # Above 2000 pixels rotate() resamples bilinearly after a mild sharpening (faster); the text
    # must keep bicubic's edge contrast, not plain bilinear's softer strokes.
    page = text_page(seed=8, size=(2200, 600), lines=60)
    auto = rotate(page, -12.5)
    cubic = rotate(page, -12.5, interpolation="cubic")
    linear = rotate(page, -12.5, interpolation="linear")
    assert auto.shape == cubic.shape
    assert _edge_energy(auto) > _edge_energy(linear) * 1.05
    assert _edge_energy(auto) == pytest.approx(_edge_energy(cubic), rel=0.1)
    assert np.abs(auto.astype(np.int16) - cubic).mean() < 2.0
    assert abs(estimate_skew(auto) + 12.5) < 0.1


def test_rotate_rejects_an_unknown_interpolation() -> None:
    with pytest.raises(ValueError, match="interpolation"):
        rotate(text_page(seed=1), 3.0, interpolation="lanczos")  # type: ignore[arg-type]
