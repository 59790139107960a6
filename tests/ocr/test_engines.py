"""The two OCR adapters behind one interface, on a real receipt."""

from __future__ import annotations


import cv2
import numpy as np
import pytest

from _paths import RECEIPTS, needs_tesseract
from ocrprep.errors import MalformedRequest, OcrEngineError
from ocrprep.ocr import (
    OcrEngine,
    OcrResult,
    RapidOcrEngine,
    TesseractEngine,
    bag_of_words_f1,
    get_engine,
    read_box_transcripts,
)

def _receipt(stem: str) -> tuple[np.ndarray, str]:
    image = cv2.imread(str(RECEIPTS / f"{stem}.jpg"))[:, :, ::-1].copy()
    return image, read_box_transcripts(RECEIPTS / f"{stem}.csv")


def test_both_adapters_satisfy_the_protocol() -> None:
    assert isinstance(RapidOcrEngine(), OcrEngine)
    assert isinstance(TesseractEngine(), OcrEngine)


def test_unknown_engine_and_missing_binary() -> None:
    with pytest.raises(MalformedRequest, match="unknown OCR engine"):
        get_engine("abbyy")
    missing = TesseractEngine(binary="no-such-tesseract-binary")
    assert missing.is_available() is False
    with pytest.raises(OcrEngineError, match="not found"):
        missing.recognize(np.zeros((10, 10, 3), np.uint8))


@needs_tesseract
def test_tesseract_reads_a_receipt() -> None:
    engine = get_engine("tesseract")
    assert engine.is_available()
    image, truth = _receipt("075")
    result = engine.recognize(image)
    assert isinstance(result, OcrResult) and result.engine == "tesseract"
    assert bag_of_words_f1(result.text, truth) > 0.5
    line = result.lines[0]
    assert len(line.box) == 4 and 0.0 <= line.confidence <= 1.0
    xs = [x for x, _ in line.box]
    assert 0 <= min(xs) < max(xs) <= image.shape[1]


@needs_tesseract
def test_tesseract_reads_grey_images_and_blank_pages() -> None:
    image, _ = _receipt("075")
    assert TesseractEngine().recognize(image[:, :, 0].copy()).text
    assert TesseractEngine().recognize(np.full((100, 100, 3), 255, np.uint8)).text == ""


@pytest.mark.slow
def test_rapidocr_reads_a_receipt_and_reuses_its_engine() -> None:
    engine = get_engine("rapidocr")
    assert get_engine("rapidocr") is engine
    image, truth = _receipt("000")
    result = engine.recognize(image)
    assert result.engine == "rapidocr"
    assert bag_of_words_f1(result.text, truth) > 0.7
    tops = [min(y for _, y in line.box) for line in result.lines]
    assert tops == sorted(tops)
    assert result.to_dict()["lines"][0]["box"][0][0] >= 0
