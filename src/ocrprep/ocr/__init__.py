"""OCR engines behind one interface: RapidOCR (offline models in the wheel) and Tesseract.

>>> sorted(ENGINES)
['rapidocr', 'tesseract']
"""

from __future__ import annotations

import functools

from ocrprep.errors import MalformedRequest, OcrEngineError
from ocrprep.ocr.base import OcrEngine, OcrLine, OcrResult
from ocrprep.ocr.metrics import bag_of_words_f1, read_box_transcripts
from ocrprep.ocr.rapid import RapidOcrEngine
from ocrprep.ocr.tesseract import TesseractEngine

__all__ = [
    "ENGINES",
    "OcrEngine",
    "OcrLine",
    "OcrResult",
    "RapidOcrEngine",
    "TesseractEngine",
    "bag_of_words_f1",
    "get_engine",
    "read_box_transcripts",
]

ENGINES: dict[str, type[RapidOcrEngine] | type[TesseractEngine]] = {
    "rapidocr": RapidOcrEngine,
    "tesseract": TesseractEngine,
}


@functools.lru_cache(maxsize=None)
def get_engine(name: str = "rapidocr") -> OcrEngine:
    """The shared engine called ``name`` (created once per process, then reused).

    Raises
    ------
    MalformedRequest
        For an unknown name.
    OcrEngineError
        When that engine is not installed here.
    """
    cls = ENGINES.get(name)
    if cls is None:
        raise MalformedRequest(f"unknown OCR engine {name!r}; use one of {', '.join(ENGINES)}")
    engine = cls()
    if not engine.is_available():
        hint = "pip install rapidocr onnxruntime" if name == "rapidocr" else "apt-get install tesseract-ocr"
        raise OcrEngineError(f"OCR engine {name!r} is not available here: {hint}")
    return engine
