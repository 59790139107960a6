"""ocrprep.degrade: seeded, pure degradations and the synthetic data set writer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ocrprep.config import load_settings
from ocrprep.degrade import (
    EXPECTED_DEFECTS,
    KINDS,
    SEVERITIES,
    degrade,
    degrade_with_params,
    severity_value,
    synthesize,
)
from ocrprep.errors import MalformedRequest
from ocrprep.quality import DEFECTS

SHAPE_KEEPING = {k for k in KINDS if k not in ("skew", "rotate", "cutoff", "tiny_text")}


def _page(seed: int = 0, shape: tuple[int, int] = (160, 120)) -> np.ndarray:
    """A small synthetic page: light paper with rows of dark 'words'."""
    rng = np.random.default_rng(seed)
    page = np.full((*shape, 3), 238, np.uint8)
    for y in range(12, shape[0] - 14, 11):
        x = 8
        while x < shape[1] - 20:
            w = int(rng.integers(6, 18))
            page[y : y + 7, x : x + w] = 30
            page[y + 2 : y + 5, x + 2 : x + w - 2] = 238
            x += w + 5
    return page


@pytest.fixture(scope="module")
def small_receipt() -> np.ndarray:
    from _paths import RECEIPTS

    image = Image.open(RECEIPTS / "075.jpg").convert("RGB")
    image.thumbnail((400, 400))
    return np.asarray(image)


def test_expected_defects_cover_every_kind_with_report_names() -> None:
    assert set(EXPECTED_DEFECTS) == set(KINDS)
    for defects in EXPECTED_DEFECTS.values():
        assert defects and set(defects) <= set(DEFECTS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_seeded_pure_and_uint8(kind: str, small_receipt: np.ndarray) -> None:
    before = small_receipt.copy()
    a, pa = degrade_with_params(small_receipt, kind, "severe", seed=7)
    b, pb = degrade_with_params(small_receipt, kind, "severe", seed=7)
    np.testing.assert_array_equal(small_receipt, before)  # never mutates its input
    np.testing.assert_array_equal(a, b)  # same seed, same output
    assert pa == pb and pa["kind"] == kind and pa["severity"] == SEVERITIES["severe"]
    json.dumps(pa)  # parameters are JSON-ready
    assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3
    if kind in SHAPE_KEEPING:
        assert a.shape == small_receipt.shape
    assert not np.array_equal(a, small_receipt)


@pytest.mark.parametrize("kind", ["noise", "glare", "occlusion", "motion_blur", "blank"])
def test_different_seeds_give_different_outputs(kind: str, small_receipt: np.ndarray) -> None:
    a = degrade(small_receipt, kind, "severe", seed=1)
    b = degrade(small_receipt, kind, "severe", seed=2)
    assert a.shape != b.shape or not np.array_equal(a, b)


@pytest.mark.parametrize("kind", ["blur", "noise", "dark", "faint"])
def test_severe_is_stronger_than_mild(kind: str, small_receipt: np.ndarray) -> None:
    mild = degrade(small_receipt, kind, "mild", seed=3).astype(np.float64)
    severe = degrade(small_receipt, kind, "severe", seed=3).astype(np.float64)
    ref = small_receipt.astype(np.float64)
    assert np.abs(severe - ref).mean() > np.abs(mild - ref).mean()


def test_skew_uses_the_given_angle_and_keeps_all_content() -> None:
    page = _page()
    out, params = degrade_with_params(page, "skew", angle=12.5)
    assert params["angle"] == 12.5
    assert out.shape[0] > page.shape[0] and out.shape[1] > page.shape[1]
    # corners are filled with the paper colour, not black
    assert out[0, 0].min() > 200 and out[-1, -1].min() > 200
    # no ink is lost: as many dark pixels (within resampling error), none clipped at the frame
    dark_in = int((page[:, :, 0] < 128).sum())
    dark_out = int((out[:, :, 0] < 128).sum())
    assert dark_out == pytest.approx(dark_in, rel=0.1)
    frame = np.concatenate([out[0], out[-1], out[:, 0], out[:, -1]])
    assert frame.min() > 200


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_rotate_turns_counter_clockwise_by_the_given_degrees(degrees: int) -> None:
    page = _page()
    out, params = degrade_with_params(page, "rotate", degrees=degrees)
    assert params["degrees"] == degrees
    np.testing.assert_array_equal(out, np.rot90(page, k=degrees // 90))


def test_rotate_default_is_a_seeded_quarter_turn() -> None:
    page = _page()
    chosen = {degrade_with_params(page, "rotate", seed=s)[1]["degrees"] for s in range(12)}
    assert chosen <= {90, 180, 270} and len(chosen) >= 2


def test_cutoff_slices_through_text() -> None:
    page = _page(shape=(200, 160))
    for seed in range(6):
        out, params = degrade_with_params(page, "cutoff", "severe", seed=seed)
        side = params["side"]
        edge = {"top": out[0], "bottom": out[-1], "left": out[:, 0], "right": out[:, -1]}[side]
        assert edge.min() < 100, f"the {side} cut (seed {seed}) runs through paper only"


def test_tiny_text_shrinks_and_reports_the_glyph_height(small_receipt: np.ndarray) -> None:
    out, params = degrade_with_params(small_receipt, "tiny_text", "severe")
    assert out.shape[0] < small_receipt.shape[0]
    assert params["glyph_height"] == pytest.approx(9.0 - 6.0 * 0.9, abs=0.8)


def test_grayscale_input_stays_grayscale() -> None:
    gray = _page()[:, :, 0]
    for kind in KINDS:
        out = degrade(gray, kind, "mild", seed=0)
        assert out.ndim == 2 and out.dtype == np.uint8


def test_blank_has_no_ink_and_paper_colour() -> None:
    out = degrade(_page(), "blank", seed=4)
    assert out.min() > 200 and abs(float(out.mean()) - 238) < 5


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p: degrade(p, "smudge"), "unknown degradation"),
        (lambda p: degrade(p, "blur", "medium"), "unknown severity"),
        (lambda p: degrade(p, "blur", 1.5), "between 0 and 1"),
        (lambda p: degrade(p, "blur", radius=3), "unknown parameter"),
        (lambda p: degrade(p.astype(np.float32), "blur"), "uint8"),
        (lambda p: degrade(p, "rotate", degrees=45), "multiple of 90"),
    ],
)
def test_bad_requests_are_refused(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MalformedRequest, match=match):
        call(_page())


def test_severity_value() -> None:
    assert severity_value("mild") < severity_value("severe")
    assert severity_value(0.3) == 0.3


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(KINDS),
    severity=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
    height=st.integers(24, 90),
    width=st.integers(24, 90),
    channels=st.sampled_from([0, 3]),
    level=st.integers(0, 255),
)
def test_output_invariants(kind: str, severity: float, seed: int, height: int, width: int, channels: int, level: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels == 0 else (height, width, channels)
    image = np.clip(rng.normal(level, 40, size=shape), 0, 255).astype(np.uint8)
    before = image.copy()
    out = degrade(image, kind, severity, seed=seed)
    np.testing.assert_array_equal(image, before)
    assert out.dtype == np.uint8 and out.ndim == image.ndim
    assert out.shape[2:] == image.shape[2:]
    assert min(out.shape[:2]) >= 1
    if kind in SHAPE_KEEPING:
        assert out.shape == image.shape


def _write_good(folder: Path, count: int = 2) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(_page(seed=i)).save(folder / f"p{i}.png")


def test_synthesize_writes_good_bad_and_manifest(tmp_path: Path) -> None:
    _write_good(tmp_path / "in")
    settings_ = load_settings(**{"storage.roots": [str(tmp_path)]})
    items = synthesize(tmp_path / "in", tmp_path / "out", kinds=("blur", "skew"),
                       severities=("mild", "severe"), seed=5, settings=settings_)
    assert [i.label for i in items].count("good") == 2
    assert len([i for i in items if i.label == "bad"]) == 2 * 2 * 2
    lines = (tmp_path / "out" / "manifest.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(items)
    bad = [r for r in records if r["label"] == "bad"]
    assert {r["kind"] for r in bad} == {"blur", "skew"}
    assert all(r["source"] and r["seed"] is not None and "severity" in r["params"] for r in bad)
    assert all(r["defects"] == list(EXPECTED_DEFECTS[r["kind"]]) for r in bad)
    for r in records:
        assert (tmp_path / "out" / r["path"]).is_file()
    skew = next(r for r in bad if r["kind"] == "skew" and r["severity"] == "severe")
    assert abs(skew["params"]["angle"]) > 10
    assert (tmp_path / "out" / "good" / "p0.png").read_bytes() == (tmp_path / "in" / "p0.png").read_bytes()


def test_synthesize_is_reproducible(tmp_path: Path) -> None:
    _write_good(tmp_path / "in")
    settings_ = load_settings(**{"storage.roots": [str(tmp_path)]})
    runs = []
    for name in ("a", "b"):
        synthesize(tmp_path / "in", tmp_path / name, kinds=("noise", "glare"), seed=9, per_image=2,
                   settings=settings_)
        runs.append({p.relative_to(tmp_path / name): p.read_bytes() for p in (tmp_path / name).rglob("*") if p.is_file()})
    assert runs[0].keys() == runs[1].keys()
    for key in runs[0]:
        if key.name == "manifest.jsonl":
            a = runs[0][key].decode().replace(str(tmp_path / "a"), "")
            b = runs[1][key].decode().replace(str(tmp_path / "b"), "")
            assert a == b
        else:
            assert runs[0][key] == runs[1][key], key
    assert len([k for k in runs[0] if k.parts[0] == "bad"]) == 2 * 2 * 2


def test_synthesize_refuses_unknown_kind_and_empty_folder(tmp_path: Path) -> None:
    settings_ = load_settings(**{"storage.roots": [str(tmp_path)]})
    (tmp_path / "empty").mkdir()
    with pytest.raises(MalformedRequest, match="no images"):
        synthesize(tmp_path / "empty", tmp_path / "out", settings=settings_)
    _write_good(tmp_path / "in", 1)
    with pytest.raises(MalformedRequest, match="unknown degradation"):
        synthesize(tmp_path / "in", tmp_path / "out", kinds=("smudge",), settings=settings_)


def test_synthesize_keeps_same_named_images_from_subfolders_apart(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        Image.fromarray(_page(seed=len(sub))).save(tmp_path / "in" / sub / "x.png")
    settings_ = load_settings(**{"storage.roots": [str(tmp_path)]})
    items = synthesize(tmp_path / "in", tmp_path / "out", kinds=("dark",), settings=settings_)
    paths = sorted(i.path for i in items)
    assert paths == ["bad/dark__a__x__severe.png", "bad/dark__b__x__severe.png", "good/a__x.png", "good/b__x.png"]
