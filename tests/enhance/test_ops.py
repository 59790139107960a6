"""The contract of every operation (dtype, shape, no mutation) and what each one achieves."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _pages import STEMS, receipt, text_page
from ocrprep.degrade import degrade, degrade_with_params
from ocrprep.enhance import (
    Levels,
    binarize,
    denoise,
    despeckle,
    estimate_background,
    estimate_borders,
    estimate_levels,
    estimate_noise,
    estimate_text_height,
    invert,
    is_inverted,
    normalize_illumination,
    remove_borders,
    rotate,
    stretch_contrast,
    threshold_otsu,
    threshold_sauvola,
    unevenness,
    upscale,
)
from ocrprep.enhance._image import like_input
from ocrprep.enhance.denoise import deblock, smooth_artifacts
from ocrprep.errors import MalformedRequest
from ocrprep.regions.synth import compose_photo

SAME_SHAPE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "normalize_illumination": normalize_illumination,
    "stretch_contrast": stretch_contrast,
    "stretch_contrast_gamma": lambda im: stretch_contrast(im, gamma=2.0),
    "invert": invert,
    "denoise": denoise,
    "smooth_artifacts": smooth_artifacts,
    "deblock": deblock,
    "binarize_otsu": lambda im: binarize(im, "otsu"),
    "binarize_sauvola": lambda im: binarize(im, "sauvola"),
}
OTHER_SHAPE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "rotate": lambda im: rotate(im, 7.0),
    "upscale": lambda im: upscale(im, 1.5),
    "remove_borders": remove_borders,
}


@pytest.mark.parametrize("name", sorted({**SAME_SHAPE, **OTHER_SHAPE}))
@pytest.mark.parametrize("channels", [0, 3])
def test_operations_return_new_uint8_arrays_and_never_touch_the_input(name: str, channels: int) -> None:
    image = text_page(seed=11, size=(300, 200))
    if channels == 0:
        image = np.ascontiguousarray(image[:, :, 0])
    copy = image.copy()
    out = {**SAME_SHAPE, **OTHER_SHAPE}[name](image)
    assert out.dtype == np.uint8
    assert out.ndim == image.ndim
    assert out is not image
    assert np.array_equal(image, copy)
    if name in SAME_SHAPE:
        assert out.shape == image.shape


def test_operations_refuse_non_uint8_input() -> None:
    with pytest.raises(MalformedRequest, match="uint8"):
        normalize_illumination(np.zeros((10, 10), np.float32))


@settings(max_examples=25, deadline=None)
@given(turns=st.integers(-8, 8), height=st.integers(2, 30), width=st.integers(2, 30))
def test_rotate_by_quarter_turns_is_exact(turns: int, height: int, width: int) -> None:
    image = np.arange(height * width * 3, dtype=np.uint64).astype(np.uint8).reshape(height, width, 3)
    assert np.array_equal(rotate(image, 90.0 * turns), np.rot90(image, turns))


@settings(max_examples=25, deadline=None)
@given(angle=st.floats(-89, 89), height=st.integers(5, 60), width=st.integers(5, 60))
def test_rotate_expands_the_canvas_to_keep_every_corner(angle: float, height: int, width: int) -> None:
    out = rotate(np.zeros((height, width), np.uint8), angle)
    c, s = abs(np.cos(np.radians(angle))), abs(np.sin(np.radians(angle)))
    assert out.shape[1] >= width * c + height * s - 1
    assert out.shape[0] >= width * s + height * c - 1


def test_rotate_fills_corners_with_the_paper_colour() -> None:
    page = np.full((100, 60, 3), (230, 220, 200), np.uint8)
    out = rotate(page, 30.0)
    assert tuple(out[0, 0]) == (230, 220, 200)


def test_illumination_flattens_a_strong_shadow_and_keeps_the_text() -> None:
    page = receipt("030")
    shadowed = degrade(page, "shadow", "severe", seed=2)
    assert unevenness(estimate_background(shadowed)) > 0.4
    flat = normalize_illumination(shadowed)
    assert unevenness(estimate_background(flat)) < 0.15
    assert estimate_levels(flat).contrast > estimate_levels(shadowed).contrast


def test_stretch_contrast_restores_a_faint_print() -> None:
    faint = degrade(receipt("000"), "faint", "severe", seed=1)
    before = estimate_levels(faint)
    assert before.contrast < 75
    after = estimate_levels(stretch_contrast(faint, before))
    assert after.contrast > 200


def test_stretch_contrast_gamma_darkens_the_mid_tones() -> None:
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    plain = stretch_contrast(ramp, Levels(ink=0, paper=255))
    darker = stretch_contrast(ramp, Levels(ink=0, paper=255), gamma=2.0)
    assert np.array_equal(plain, ramp)
    assert (darker <= plain).all() and darker[8, 0] < plain[8, 0] - 40


def test_inversion_is_detected_only_for_light_text_on_dark() -> None:
    page = text_page(seed=12)
    assert not is_inverted(page)
    assert is_inverted(invert(page))
    assert not is_inverted(degrade(page, "dark", "severe", seed=1))


def test_a_deep_shadow_is_not_taken_for_inverted() -> None:
    # the shadow darkens most of this receipt and leaves a bright strip: the old test turned it
    # negative (on 16 receipts under the bench's strong shadow, Tesseract then read 0.20 F1, now 0.74)
    shadowed = degrade(receipt("075"), "shadow", "severe", seed=25)
    assert not is_inverted(shadowed)


@pytest.mark.parametrize("seed", [2, 5, 6, 9, 10])
def test_a_page_photographed_on_a_dark_table_is_not_taken_for_inverted(seed: int) -> None:
    # in these seeded photos the table is most of the frame and the page a bright minority, as
    # light text on dark would be; turned negative, the page came out black with white print
    page = receipt(STEMS[seed % len(STEMS)])
    photo, _ = compose_photo(page, seed=seed, shape=(800, 600))
    assert not is_inverted(photo)
    assert is_inverted(invert(page))


def test_illumination_is_divided_out_alike_across_the_whole_image() -> None:
    # worked through in bands of rows: the result must be the same as all at once, seamless
    rng = np.random.default_rng(4)
    page = rng.integers(0, 256, (700, 90, 3), dtype=np.uint8)
    background = rng.integers(0, 256, (700, 90), dtype=np.uint8)
    whole = np.clip(page.astype(np.float32) * (245.0 / np.maximum(background, 1.0)[:, :, None]
                                                 .astype(np.float32)), 0, 255).astype(np.uint8)
    assert np.array_equal(normalize_illumination(page, background), whole)
    assert np.array_equal(normalize_illumination(page[:, :, 0], background), whole[:, :, 0])


def test_noise_estimate_and_denoise() -> None:
    rng = np.random.default_rng(3)
    page = (text_page(seed=13) // 2 + 60).astype(np.uint8)  # grey paper: no clipping of the noise
    noisy = np.clip(page + rng.normal(0, 12, page.shape[:2])[:, :, None], 0, 255).astype(np.uint8)
    assert estimate_noise(page) < 3
    assert 8 < estimate_noise(noisy) < 16
    assert estimate_noise(denoise(noisy)) < estimate_noise(noisy) / 2


def test_deblock_brings_a_heavy_jpeg_nearer_the_uncompressed_page_and_keeps_the_strokes() -> None:
    page = text_page(seed=15)
    dim, _ = degrade_with_params(page, "dim_jpeg", 0.7, seed=2)
    reference, _ = degrade_with_params(page, "dim_jpeg", 0.7, seed=2, quality=100)
    out = deblock(dim, 20.0)

    def error(image: np.ndarray) -> float:
        return float(np.abs(image.astype(int) - reference.astype(int)).mean())

    assert error(out) < error(dim)
    # the ink keeps its contrast: the darkest text is still about as far from the paper
    assert estimate_levels(out).contrast > 0.85 * estimate_levels(dim).contrast


@pytest.mark.parametrize("channels", [0, 1, 3, 4])
def test_like_input_gives_grey_the_input_channels(channels: int) -> None:
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    image = np.zeros((3, 4, channels) if channels else (3, 4), np.uint8)
    out = like_input(gray, image)
    assert out.shape == image.shape
    assert np.array_equal(out[..., 0] if channels else out, gray)
    if channels == 4:
        assert (out[:, :, 3] == 255).all()


def test_binarize_gives_black_text_on_white_and_sauvola_survives_a_shadow() -> None:
    page = text_page(seed=14)
    shadowed = degrade(page, "shadow", "severe", seed=5)
    truth = page[:, :, 0] < 128
    for method in ("otsu", "sauvola"):
        out = binarize(page, method)
        assert set(np.unique(out)) <= {0, 255}
    sauvola = binarize(shadowed, "sauvola")[:, :, 0] == 0
    otsu = binarize(shadowed, "otsu")[:, :, 0] == 0
    # Sauvola keeps the paper white under the shadow; a global threshold blackens it.
    assert (sauvola & ~truth).mean() < (otsu & ~truth).mean()
    assert 0 < threshold_otsu(page) < 255
    assert threshold_sauvola(page).shape == page.shape[:2]
    with pytest.raises(ValueError, match="odd"):
        threshold_sauvola(page, window=10)


def test_remove_borders_cuts_dark_strips_but_never_text() -> None:
    page = text_page(seed=15, size=(400, 300))
    framed = np.zeros((440, 340, 3), np.uint8)
    framed[20:420, 25:325] = page
    top, bottom, left, right = estimate_borders(framed)
    assert (top, bottom, left, right) == (20, 20, 25, 15) or (18 <= top <= 20 and 18 <= bottom <= 20)
    cropped = remove_borders(framed)
    assert (cropped[:, :, 0] < 128).sum() >= (page[:, :, 0] < 128).sum()
    # under a deep shadow, whatever is cut holds none of the text
    clean = receipt("075")
    shadowed = degrade(clean, "shadow", "severe", seed=3, angle=0.0)
    top, bottom, left, right = estimate_borders(shadowed)
    ink = clean.min(axis=2) < 100
    h, w = ink.shape
    kept = ink[top : h - bottom, left : w - right].sum()
    assert kept == ink.sum()


def test_text_height_and_upscale() -> None:
    page = text_page(seed=16)
    height = estimate_text_height(page)
    assert 8 <= height <= 16
    assert estimate_text_height(upscale(page, 2.0)) == pytest.approx(2 * height, rel=0.2)
    assert estimate_text_height(np.full((100, 100, 3), 240, np.uint8)) == 0.0
    with pytest.raises(ValueError):
        upscale(page, 0.5)


def test_despeckle_removes_specks_and_keeps_strokes() -> None:
    page = upscale(text_page(seed=17), 2.0)  # strokes 2-3 px wide, as on an enlarged rebuilt page
    rng = np.random.default_rng(17)
    specked = page.copy()
    ys, xs = rng.integers(0, page.shape[0], 400), rng.integers(0, page.shape[1], 400)
    specks = page[ys, xs, 0] > 200  # specks that fall on paper
    specked[ys, xs] = 0
    out = despeckle(specked)
    assert out.shape == page.shape and out.dtype == np.uint8
    assert (out[ys, xs, 0][specks] < 128).mean() < 0.05
    ink = page[:, :, 0] < 100
    assert (out[:, :, 0][ink] < 128).mean() > 0.8
    with pytest.raises(ValueError):
        despeckle(page, 4)


@settings(max_examples=40, deadline=None)
@given(st.integers(1001, 2600), st.integers(20, 900), st.integers(0, 2**31 - 1))
def test_views_halve_a_copy_by_an_exact_two_by_two_average(height: int, width: int, seed: int) -> None:
    from ocrprep.enhance._image import Views

    page = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    v = Views(page)
    big, big_scale = v.at(1000)
    small, scale = v.at(500)
    assert scale == pytest.approx(big_scale / 2) and max(small.shape) <= 500
    h, w = small.shape
    blocks = big[: 2 * h, : 2 * w].astype(np.float64).reshape(h, 2, w, 2).mean(axis=(1, 3))
    # OpenCV rounds the 2x2 mean half to even, a difference of at most one grey level
    assert np.abs(small - blocks).max() <= 0.5 + 1e-9


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=1, max_size=300), st.floats(0, 100))
def test_percentile_u8_equals_numpy(values: list[int], q: float) -> None:
    from ocrprep.enhance._image import percentile_u8

    a = np.array(values, np.uint8)
    assert percentile_u8(a, q) == pytest.approx(float(np.percentile(a, q)), abs=1e-9)
