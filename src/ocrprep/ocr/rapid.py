"""RapidOCR (PaddleOCR models on onnxruntime): the models ship in the ``rapidocr`` wheel, offline."""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import Any

import cv2
import numpy as np

from ocrprep.enhance._image import check_image
from ocrprep.errors import OcrEngineError
from ocrprep.ocr.base import OcrLine, OcrResult

__all__ = ["RapidOcrEngine"]


class RapidOcrEngine:
    """RapidOCR behind the :class:`~ocrprep.ocr.base.OcrEngine` interface.

    The underlying engine (three ONNX sessions) is created on first use and reused; its logging is
    silenced. Thread-safe: calls are serialised.

    Parameters
    ----------
    threads : int
        onnxruntime intra-op threads (default 1: the project runs on small CPUs, one image per core).
    use_cls : bool
        Run RapidOCR's own 0/180 per-line classifier (off: ocrprep fixes orientation itself).
    """

    name = "rapidocr"

    def __init__(self, *, threads: int = 1, use_cls: bool = False) -> None:
        self.threads = threads
        self.use_cls = use_cls
        self._engine: Any = None
        self._lock = threading.Lock()

    def is_available(self) -> bool:
        """True when the ``rapidocr`` and ``onnxruntime`` packages are installed."""
        return all(importlib.util.find_spec(m) is not None for m in ("rapidocr", "onnxruntime"))

    def _get(self) -> Any:
        if self._engine is None:
            if not self.is_available():
                raise OcrEngineError("rapidocr is not installed: pip install rapidocr onnxruntime")
            try:
                from rapidocr import RapidOCR

                self._engine = RapidOCR(
                    params={
                        "Global.log_level": "error",
                        "Global.use_cls": self.use_cls,
                        "EngineConfig.onnxruntime.intra_op_num_threads": self.threads,
                        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                    }
                )
            except Exception as exc:  # noqa: BLE001 - any failure to start is the engine's
                raise OcrEngineError(f"rapidocr could not start: {exc}") from exc
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        return self._engine

    def recognize(self, image: np.ndarray) -> OcrResult:
        """Read the text of an RGB (or grey) uint8 image; lines top to bottom.

        Raises
        ------
        OcrEngineError
            When rapidocr is missing or fails on the image.
        """
        check_image(image)
        if image.ndim == 2:
            bgr = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        else:
            bgr = cv2.cvtColor(image[:, :, :3], cv2.COLOR_RGB2BGR)
        with self._lock:
            engine = self._get()
            try:
                output = engine(bgr)
            except Exception as exc:  # noqa: BLE001
                raise OcrEngineError(f"rapidocr failed: {exc}") from exc
        boxes = getattr(output, "boxes", None)
        if boxes is None:
            return OcrResult(self.name, ())
        lines = [
            OcrLine(str(text), tuple((float(x), float(y)) for x, y in np.asarray(box)[:4]), float(score))
            for box, text, score in zip(boxes, output.txts, output.scores, strict=True)
        ]
        lines.sort(key=lambda ln: (min(y for _, y in ln.box), min(x for x, _ in ln.box)))
        return OcrResult(self.name, tuple(lines))
