"""Seeded synthetic pages and the bundled receipts, for the enhancement tests."""

from __future__ import annotations

import functools

import cv2
import numpy as np

from _paths import RECEIPTS

STEMS = ("000", "003", "009", "030", "042", "075", "132", "150")

_WORDS = ("TOTAL", "CASH", "RM", "12.50", "GST", "QTY", "ITEM", "CHANGE", "THANK", "YOU", "DATE",
          "30/03/2018", "INVOICE", "NO.", "SDN", "BHD", "JALAN", "TAX", "5.00", "ROUNDING")


@functools.lru_cache(maxsize=None)
def _receipt(stem: str) -> np.ndarray:
    bgr = cv2.imread(str(RECEIPTS / f"{stem}.jpg"), cv2.IMREAD_COLOR)
    assert bgr is not None, stem
    return np.ascontiguousarray(bgr[:, :, ::-1])


def receipt(stem: str) -> np.ndarray:
    """A bundled receipt as a fresh RGB uint8 array (safe to modify)."""
    return _receipt(stem).copy()


def text_page(seed: int, *, size: tuple[int, int] = (900, 420), lines: int = 28) -> np.ndarray:
    """A level, narrow receipt-like page of black printed words on white, RGB uint8."""
    rng = np.random.default_rng(seed)
    height, width = size
    page = np.full((height, width, 3), 250, np.uint8)
    step = (height - 60) // lines
    for i in range(lines):
        words = " ".join(rng.choice(_WORDS, size=int(rng.integers(2, 5))))
        x = int(rng.integers(10, 40))
        cv2.putText(page, words, (x, 40 + i * step), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 1,
                    cv2.LINE_AA)
    return page
