"""ocrprep.quality.measure: cheap, finite measurements, each moving the right way."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocrprep.degrade import degrade
from ocrprep.quality import MEASURES, measure
from ocrprep.quality.limits import step_score


def test_every_measure_is_present_and_finite(receipt_images: dict[str, np.ndarray]) -> None:
    for image in receipt_images.values():
        m = measure(image)
        assert list(m) == list(MEASURES)
        assert all(math.isfinite(v) for v in m.values())


@pytest.mark.parametrize(
    ("kind", "name", "direction"),
    [
        ("blur", "sharpness", -1),
        ("noise", "noise_ratio", +1),
        ("dark", "paper", -1),
        ("faint", "contrast", -1),
        ("glare", "glare", +1),
        ("occlusion", "occluded", +1),
        ("tiny_text", "glyph_height", -1),
    ],
)
def test_measure_moves_with_its_degradation(
    kind: str, name: str, direction: int, receipt_images: dict[str, np.ndarray]
) -> None:
    for stem in ("003", "075"):
        clean = measure(receipt_images[stem])[name]
        mild = measure(degrade(receipt_images[stem], kind, "mild", seed=4))[name]
        severe = measure(degrade(receipt_images[stem], kind, "severe", seed=4))[name]
        assert direction * (severe - clean) > 0, (stem, clean, mild, severe)
        assert direction * (severe - mild) >= 0 or kind in ("glare", "occlusion"), (stem, clean, mild, severe)


def test_noise_estimate_tracks_added_noise() -> None:
    rng = np.random.default_rng(0)
    page = np.full((600, 400), 180, np.uint8)
    page[50:550:20, 30:370] = 40
    for sigma in (5.0, 12.0):
        noisy = np.clip(page + rng.normal(0, sigma, page.shape), 0, 255).astype(np.uint8)
        assert measure(noisy)["noise"] == pytest.approx(sigma, rel=0.25)


def test_step_score_is_half_at_the_limit_and_monotone() -> None:
    values = np.linspace(0.01, 2.0, 50)
    higher_better = [step_score(v, 1.0, at_least=True) for v in values]
    lower_better = [step_score(v, 1.0, at_least=False) for v in values]
    assert all(a >= b for a, b in zip(higher_better, higher_better[1:], strict=False))
    assert all(a <= b for a, b in zip(lower_better, lower_better[1:], strict=False))
    assert step_score(1.0, 1.0, at_least=True) == 0.5 == step_score(1.0, 1.0, at_least=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    height=st.integers(1, 120),
    width=st.integers(1, 120),
    colour=st.booleans(),
    level=st.integers(0, 255),
    spread=st.integers(0, 120),
)
def test_measure_never_fails_on_odd_images(seed: int, height: int, width: int, colour: bool, level: int, spread: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (height, width, 3) if colour else (height, width)
    image = np.clip(rng.normal(level, spread + 1e-3, size=shape), 0, 255).astype(np.uint8)
    m = measure(image)
    assert list(m) == list(MEASURES)
    assert all(math.isfinite(v) for v in m.values())


@pytest.mark.parametrize("stem", ["003", "009"])
def test_sharpness_holds_steady_when_the_page_turns_a_little(stem: str, receipt_images: dict[str, np.ndarray]) -> None:
    # a few degrees of tilt (and levelling it again) must not move a clean receipt across the
    # blur limit: the edge sharpness is judged along each direction, not in fixed bins
    from ocrprep.degrade import degrade_with_params

    image = receipt_images[stem]
    clean = measure(image)["sharpness"]
    for angle in (-4.0, 3.0):
        tilted, _ = degrade_with_params(image, "skew", angle=angle)
        assert measure(tilted)["sharpness"] == pytest.approx(clean, rel=0.1), angle


def test_a_half_turn_gives_the_same_glare_and_paper(receipt_images: dict[str, np.ndarray]) -> None:
    image = receipt_images["075"]
    upright, turned = measure(image), measure(np.ascontiguousarray(image[::-1, ::-1]))
    for name in ("glare", "paper", "contrast", "occluded"):
        assert turned[name] == pytest.approx(upright[name], abs=1e-6), name


def test_a_frame_grazing_the_next_line_is_not_a_cut_through_it(receipt_images: dict[str, np.ndarray]) -> None:
    # a tight crop that keeps only the tips of a line cuts nothing a reader needs; a cut through
    # the middle of the same line does
    from ocrprep.quality.text import find_glyphs, ink_mask, to_gray

    image = receipt_images["042"]
    glyphs = find_glyphs(ink_mask(to_gray(image)))
    boxes = glyphs.boxes[glyphs.boxes[:, 3] >= 0.8 * glyphs.height]
    tops = boxes[:, 1]
    # the line with the most characters in the lower half of the receipt
    lower = tops[tops > image.shape[0] // 2]
    line_top = int(np.bincount(lower // 4).argmax() * 4)
    line = boxes[np.abs(boxes[:, 1] - line_top) <= 4]
    top, height = int(np.median(line[:, 1])), int(np.median(line[:, 3]))
    grazed = measure(image[: top + max(1, height // 6)])
    cut = measure(image[: top + height // 2])
    assert grazed["text_cut"] < cut["text_cut"]
    assert grazed["text_cut"] <= 3
