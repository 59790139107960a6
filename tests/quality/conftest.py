"""Fixtures for the quality tests: the bundled receipts, decoded once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from _paths import RECEIPTS
from ocrprep.imageio import decode_image


@pytest.fixture(scope="session")
def receipt_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(RECEIPTS.glob("*.jpg"))}


@pytest.fixture(scope="session")
def receipt_images(receipt_files: dict[str, Path]) -> dict[str, np.ndarray]:
    return {stem: decode_image(path.read_bytes()) for stem, path in receipt_files.items()}
