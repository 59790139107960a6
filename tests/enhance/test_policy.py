"""The automatic policy: clean scans untouched, damaged ones fixed and assessed better."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from _pages import receipt
from _paths import RECEIPTS, needs_tesseract
from ocrprep.degrade import degrade
from ocrprep.enhance import EnhanceResult, Operation, Thresholds, auto_enhance, deblock, estimate_levels, estimate_skew
from ocrprep.errors import MalformedRequest
from ocrprep.ocr import TesseractEngine, bag_of_words_f1, read_box_transcripts
from ocrprep.quality import assess


@pytest.mark.parametrize("stem", ["000", "075", "150"])
def test_a_clean_receipt_gets_no_operation(stem: str) -> None:
    image = receipt(stem)
    result = auto_enhance(image)
    assert result.operations == ()
    assert result.changed is False
    assert result.image is image


def _names(result: EnhanceResult) -> list[str]:
    return [op.name for op in result.operations]


def _faint() -> np.ndarray:
    """Receipt 150 with its print faded (evenly lit, bright paper)."""
    return degrade(receipt("150"), "faint", "severe", seed=3)


def _dim() -> np.ndarray:
    """Receipt 042 dimmed and heavily JPEG-compressed."""
    return degrade(receipt("042"), "dim_jpeg", 0.7, seed=2)


def test_a_skewed_receipt_is_levelled_and_assesses_better() -> None:
    image = receipt("150")
    skewed = degrade(image, "skew", seed=1, angle=-18.0)
    result = auto_enhance(skewed)
    assert "deskew" in _names(result)
    op = result.operations[_names(result).index("deskew")]
    assert op.params["angle"] == pytest.approx(-18.0 + estimate_skew(image), abs=0.2)
    assert abs(estimate_skew(result.image)) < 0.5
    assert result.after.score > result.before.score
    assert result.after.defects["skewed"] < result.before.defects["skewed"]


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_rotated_receipt_is_turned_upright(degrees: int) -> None:
    image = receipt("075")
    turned = degrade(image, "rotate", seed=1, degrees=degrees)
    result = auto_enhance(turned)
    assert _names(result)[0] == "orientation"
    assert result.operations[0].params["degrees"] == degrees
    assert np.array_equal(result.image, image)
    assert result.after.score >= result.before.score


def test_a_shadowed_receipt_is_evened_out_and_assesses_better() -> None:
    shadowed = degrade(receipt("150"), "shadow", "severe", seed=4)
    result = auto_enhance(shadowed)
    assert "illumination" in _names(result)
    assert result.after.score > result.before.score
    assert result.image.shape == shadowed.shape


def test_faint_print_is_recovered_in_grey_smoothed_then_stretched() -> None:
    image = receipt("150")
    faint = _faint()
    result = auto_enhance(faint)  # the default path of an evenly lit faint page
    names = _names(result)
    assert names[names.index("gray"):][:4] == ["gray", "illumination", "smooth", "contrast"]
    th = Thresholds()
    small = 0 < result.measurements["text_height"] < th.bold_text_height
    assert result.operations[names.index("contrast")].params["gamma"] == (1.0 if small else th.faint_ink_gamma)
    assert "deblock" not in names  # nothing to deblock on bright paper
    assert result.image.ndim == faint.ndim and result.image.shape[2] == 3
    assert np.array_equal(result.image[:, :, 0], result.image[:, :, 2])
    # the ink comes back near the original's contrast (the faint copy kept about a fifth of it)
    assert estimate_levels(result.image).contrast > 0.8 * estimate_levels(image).contrast
    assert result.after.score > result.before.score


@pytest.mark.parametrize("bold", [5.0, 40.0])
def test_small_faint_print_is_stretched_linearly(bold: float) -> None:
    faint = _faint()
    result = auto_enhance(faint, thresholds=Thresholds(bold_text_height=bold))
    height = result.measurements["text_height"]
    assert 5.0 < height < 40.0
    contrast = next(op for op in result.operations if op.name == "contrast")
    assert contrast.params["gamma"] == (1.0 if height < bold else Thresholds().faint_ink_gamma)


def test_faint_path_chooses_the_path_of_faint_pages_only() -> None:
    image = receipt("150")
    faint = _faint()
    colour = auto_enhance(faint, thresholds=Thresholds(faint_path="colour"))
    assert estimate_levels(colour.image).contrast > 0.8 * estimate_levels(image).contrast
    assert colour.after.score > colour.before.score
    names = _names(colour)
    assert "gray" not in names and "illumination" in names
    assert colour.operations[names.index("contrast")].params["gamma"] == Thresholds().faint_gamma
    assert not np.array_equal(colour.image[:, :, 0], colour.image[:, :, 2])  # colour kept
    grey = auto_enhance(faint, thresholds=Thresholds(faint_path="grey"))
    assert "gray" in _names(grey) and grey.operations == auto_enhance(faint).operations
    # a dim page takes the grey recovery whichever path faint pages take
    dim = _dim()
    assert "deblock" in _names(auto_enhance(dim, thresholds=Thresholds(faint_path="colour")))
    with pytest.raises(MalformedRequest):
        Thresholds(faint_path="sepia")  # type: ignore[arg-type]


@pytest.mark.parametrize("stem", ["042", "075", "150"])
def test_small_light_grey_print_on_creased_paper_is_enlarged_not_rebuilt_as_faint(stem: str) -> None:
    # grey print (ink ~130, paper ~205) on softly creased paper, then shrunk to 6-pixel print:
    # ocrprep's own contrast reads under its limit, the quality report does not call it faint;
    # rebuilt as faint, its creases were stretched into dark blotches
    page = receipt(stem).astype(np.float32)
    rng = np.random.default_rng(3)
    creases = cv2.resize(rng.normal(0.0, 6.0, (12, 6)).astype(np.float32), (page.shape[1], page.shape[0]),
                         interpolation=cv2.INTER_CUBIC)
    grey = np.clip(205.0 - (255.0 - page) * 0.3 + creases[:, :, None], 0, 255).astype(np.uint8)
    tiny = degrade(grey, "tiny_text", "mild", seed=1)
    result = auto_enhance(tiny)
    assert result.measurements["contrast"] < Thresholds().min_contrast
    assert _names(result) == ["upscale"]
    # faded print is still rebuilt: the same page at a fifth of that contrast
    faded = np.clip(205.0 - (255.0 - page) * 0.06, 0, 255).astype(np.uint8)
    assert "gray" in _names(auto_enhance(faded))


@needs_tesseract
@pytest.mark.parametrize("stem", ["030", "042", "075"])
def test_small_light_print_is_enlarged_as_it_is_and_reads_better(stem: str) -> None:
    # print at 40% of its contrast, shrunk to 6-pixel print: the report's faint score is 0.3-0.4
    # (under its limit) and ocrprep's own contrast reads low, as thin strokes mix with the paper.
    # Rebuilt as faint, the strokes swelled into blobs: Tesseract read 0.00-0.31 F1.
    page = receipt(stem).astype(np.float32)
    light = np.clip(255.0 - (255.0 - page) * 0.4, 0, 255).astype(np.uint8)
    tiny = degrade(light, "tiny_text", "mild", seed=1)
    result = auto_enhance(tiny)
    assert 0.3 <= result.before.defects["faint"] < 0.5
    assert result.measurements["contrast"] < Thresholds().min_contrast
    assert _names(result) == ["upscale"]
    truth = read_box_transcripts(RECEIPTS / f"{stem}.csv")
    tesseract = TesseractEngine()
    enhanced = bag_of_words_f1(tesseract.recognize(result.image).text, truth)
    assert enhanced >= 0.45
    assert enhanced > bag_of_words_f1(tesseract.recognize(tiny).text, truth) + 0.1


def test_a_dim_jpeg_page_is_deblocked_before_its_stretch() -> None:
    dim = _dim()
    result = auto_enhance(dim)
    names = _names(result)
    assert names.index("gray") < names.index("deblock") < names.index("contrast")
    strength = result.operations[names.index("deblock")].params["strength"]
    assert 8.0 <= strength <= 40.0
    assert estimate_levels(result.image).paper > 240
    assert result.after.score > result.before.score


def test_a_black_strip_does_not_stand_in_for_the_ink_of_a_dim_page() -> None:
    dim = _dim()
    plain = auto_enhance(dim)
    strip = dim.copy()
    strip[:, :40] = 0  # a scanner's black edge, wider than any stroke
    result = auto_enhance(strip)

    def ink(r: EnhanceResult) -> float:
        return float(next(op for op in r.operations if op.name == "contrast").params["ink"])

    assert ink(plain) > 5  # the strokes of the dim print are lighter than black
    # the page's darkest pixels are now the strip's (0), yet the ink level stays near the strokes'
    assert ink(result) >= 0.6 * ink(plain)


def _grumpy():
    """An assessor that scores the first image it sees as is and every later one as hopeless."""
    from dataclasses import replace

    calls: list[int] = []

    def judge(image: np.ndarray):
        report = assess(image)
        calls.append(1)
        return report if len(calls) == 1 else replace(report, score=0.0, acceptable=False)

    return judge


def test_the_result_is_dropped_when_it_does_not_assess_better() -> None:
    image = receipt("000")
    result = auto_enhance(image, mode="always", assess=_grumpy())
    assert result.changed is False
    assert result.image is image
    assert result.operations == ()
    assert "contrast" in [op.name for op in result.discarded]


def test_a_second_opinion_keeps_a_fix_the_assessor_misjudged() -> None:
    skewed = degrade(receipt("150"), "skew", seed=1, angle=12.0)
    result = auto_enhance(skewed, assess=_grumpy())
    assert result.changed is True
    assert [op.name for op in result.operations] == ["deskew"]


def test_modes() -> None:
    image = receipt("000")
    off = auto_enhance(degrade(image, "faint", "severe", seed=1), mode="off")
    assert off.operations == () and not off.changed
    always = auto_enhance(image, mode="always")
    assert {"illumination", "contrast"} <= set(_names(always)) or not always.changed
    with pytest.raises(MalformedRequest, match="mode"):
        auto_enhance(image, mode="sometimes")  # type: ignore[arg-type]


def test_operations_describe_themselves() -> None:
    assert str(Operation("deskew", {"angle": -7.4, "confidence": 0.93})) == "deskew -7.40° (confidence 0.93)"
    assert str(Operation("orientation", {"degrees": 180, "confidence": 0.97})) == (
        "orientation 180 (confidence 0.97)"
    )
    assert Operation("upscale", {"factor": 2.0}).to_dict() == {"name": "upscale", "params": {"factor": 2.0}}


def test_input_is_never_modified() -> None:
    image = degrade(receipt("042"), "shadow", "severe", seed=9)
    copy = image.copy()
    auto_enhance(image)
    assert np.array_equal(image, copy)


def test_engine_profiles_are_named_thresholds() -> None:
    assert Thresholds.for_engine("generic") == Thresholds() == Thresholds.for_engine(None)
    for name in ("tesseract", "rapidocr"):
        assert Thresholds.for_engine(name.upper()).profile == name
    assert Thresholds.for_engine("tesseract").despeckle_dim > Thresholds().despeckle_dim == 0
    with pytest.raises(MalformedRequest, match="profile"):
        Thresholds.for_engine("abbyy")


def test_the_tesseract_profile_enlarges_small_print_more() -> None:
    tiny = degrade(receipt("000"), "tiny_text", "mild", seed=1)

    def factor(th: Thresholds) -> float:
        (op,) = [op for op in auto_enhance(tiny, thresholds=th).operations if op.name == "upscale"]
        return float(op.params["factor"])

    assert factor(Thresholds.for_engine("tesseract")) > factor(Thresholds()) >= 1.25


def test_the_rapidocr_profile_leaves_small_print_at_its_size() -> None:
    # RapidOCR scales the page for its detector itself; ocrprep's enlargement cost it F1
    tiny = degrade(receipt("000"), "tiny_text", "mild", seed=1)
    assert "upscale" in _names(auto_enhance(tiny))
    assert "upscale" not in _names(auto_enhance(tiny, thresholds=Thresholds.for_engine("rapidocr")))


def test_tiny_print_is_not_turned_on_a_misread_orientation() -> None:
    # at 4-pixel print the orientation cues read this upright receipt as upside down
    tiny = degrade(receipt("150"), "tiny_text", "severe", seed=1)
    assert "orientation" not in _names(auto_enhance(tiny))
    for degrees in (90, 180, 270):
        turned = np.ascontiguousarray(np.rot90(degrade(receipt("075"), "tiny_text", "mild", seed=1), degrees // 90))
        result = auto_enhance(turned)
        assert result.operations[0] == Operation("orientation", result.operations[0].params)
        assert result.operations[0].params["degrees"] == degrees


def test_the_tesseract_profile_despeckles_a_rebuilt_dim_page_last() -> None:
    assert "despeckle" not in _names(auto_enhance(_dim()))
    result = auto_enhance(_dim(), thresholds=Thresholds.for_engine("tesseract"))
    assert result.operations[-1] == Operation("despeckle", {"size": 3})
    assert "despeckle" not in _names(auto_enhance(_faint(), thresholds=Thresholds.for_engine("tesseract")))


@pytest.mark.parametrize("shape", [(2, 2, 3), (2, 5000, 3), (5000, 2), (3, 9000), (4001, 3, 3), (40, 1200, 3)])
@pytest.mark.parametrize("mode", ["auto", "always"])
def test_slivers_of_pages_are_enhanced_without_a_crash(shape: tuple[int, ...], mode: str) -> None:
    # a page a few pixels across shrinks to copies one pixel thin: no estimate may fail on them
    page = np.full(shape, 200, np.uint8)
    page[..., ::7] = 30
    result = auto_enhance(page, mode=mode)  # type: ignore[arg-type]
    assert result.image.dtype == np.uint8 and result.image.ndim == page.ndim


@pytest.mark.parametrize("layout", ["rgba", "one-channel"])
def test_rgba_and_single_channel_arrays_are_enhanced_in_their_own_layout(layout: str) -> None:
    # a noisy page needs the bilateral filter, which OpenCV refuses on four channels (it crashed)
    rng = np.random.default_rng(5)
    page = receipt("075")
    noisy = np.clip(page.astype(np.float32) + rng.normal(0, 25, page.shape), 0, 255).astype(np.uint8)
    grey = cv2.cvtColor(noisy, cv2.COLOR_RGB2GRAY)
    image = np.dstack([noisy, np.full(grey.shape, 255, np.uint8)]) if layout == "rgba" else grey[:, :, None]
    result = auto_enhance(image, mode="always")
    assert "denoise" in _names(result)
    assert result.image.ndim == 3 and result.image.shape[2] == image.shape[2]
    if layout == "rgba":
        assert (result.image[:, :, 3] == 255).all()
    assert deblock(image, 20.0).shape == image.shape
