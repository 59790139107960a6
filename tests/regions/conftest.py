from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "receipts"


def load_receipt(name: str) -> np.ndarray:
    image = cv2.imread(str(FIXTURES / f"{name}.jpg"), cv2.IMREAD_COLOR)
    if image is None:
        pytest.skip(f"fixture {name}.jpg missing")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="session")
def receipts() -> dict[str, np.ndarray]:
    return {name: load_receipt(name) for name in ("000", "003", "009", "030", "042", "075", "132", "150")}
