"""Text cues for the region detector: what a candidate region *says*, not only how it looks.

The text lines are read by the recogniser that ships in the ``rapidocr`` wheel (detection and
angle classification off: the lines are already found). Each candidate's text is the text of the
lines whose centres lie inside it, left to right, top to bottom. The cues are generic: shares of
digits and letters, length, a date, an amount, a time, a colon, and 16 hashed word buckets (so a
model can learn that TOTAL or INVOICE NO matters without a fixed vocabulary).
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from typing import Any

import cv2
import numpy as np

from ocrprep.errors import ModelError

__all__ = ["TEXT_FEATURES", "candidate_texts", "recognise_lines", "text_features"]

HASH_BUCKETS = 16
TEXT_FEATURES: tuple[str, ...] = (
    "t_len", "t_digits", "t_letters", "t_date", "t_amount", "t_time", "t_colon",
    *(f"t_word{i}" for i in range(HASH_BUCKETS)),
)

_DATE = re.compile(r"\b\d{1,4}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|\b\d{1,2}\s?[A-Z]{3}\s?\d{2,4}\b")
_AMOUNT = re.compile(r"\d+[.,]\d{2}\b")
_TIME = re.compile(r"\b\d{1,2}:\d{2}")

_lock = threading.Lock()
_engine: Any = None


def _recogniser() -> Any:
    global _engine
    with _lock:
        if _engine is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise ModelError("text cues need rapidocr installed (pip install rapidocr)") from exc
            _engine = RapidOCR(params={
                "Global.log_level": "error",
                "Global.use_cls": False,
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            })
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        return _engine


def recognise_lines(image: np.ndarray, lines: np.ndarray) -> list[str]:
    """The text of each line box ``(N, 4)`` of an RGB image, upper-cased."""
    engine = _recogniser()
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    h, w = bgr.shape[:2]
    texts = []
    for x0, y0, x1, y1 in lines:
        crop = bgr[max(0, int(y0)) : min(h, int(np.ceil(y1))), max(0, int(x0)) : min(w, int(np.ceil(x1)))]
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            texts.append("")
            continue
        with _lock:
            out = engine(crop, use_det=False, use_cls=False, use_rec=True)
        texts.append(" ".join(out.txts or ()).upper())
    return texts


def candidate_texts(boxes: np.ndarray, lines: np.ndarray, line_texts: list[str]) -> list[str]:
    """Each candidate's text: its lines (centre inside), top to bottom then left to right."""
    if len(lines) == 0:
        return [""] * len(boxes)
    cx, cy = (lines[:, 0] + lines[:, 2]) / 2, (lines[:, 1] + lines[:, 3]) / 2
    order = np.lexsort((cx, np.round(cy / max(1.0, float(np.median(lines[:, 3] - lines[:, 1]))))))
    out = []
    for x0, y0, x1, y1 in boxes:
        inside = [i for i in order if x0 <= cx[i] <= x1 and y0 <= cy[i] <= y1]
        out.append(" ".join(line_texts[i] for i in inside))
    return out


def text_features(texts: list[str]) -> np.ndarray:
    """:data:`TEXT_FEATURES` of each text, ``(N, len(TEXT_FEATURES))`` float32.

    Examples
    --------
    >>> f = text_features(["TOTAL RM 9.00", ""])
    >>> f.shape, float(f[0, TEXT_FEATURES.index("t_amount")]), float(f[1, 0])
    ((2, 23), 1.0, 0.0)
    """
    out = np.zeros((len(texts), len(TEXT_FEATURES)), np.float32)
    for i, text in enumerate(texts):
        n = max(1, len(text))
        words = re.findall(r"[A-Z]{2,}", text)
        out[i, :7] = (
            len(text) / 40.0,
            sum(c.isdigit() for c in text) / n,
            sum(c.isalpha() for c in text) / n,
            bool(_DATE.search(text)),
            bool(_AMOUNT.search(text)),
            bool(_TIME.search(text)),
            ":" in text,
        )
        for word in words:
            out[i, 7 + zlib.crc32(word.encode()) % HASH_BUCKETS] = 1.0
    return out
