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
