"""Shared test set-up: an isolated OCRPREP_HOME, the fixture receipts, seeded helpers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from _paths import RECEIPTS


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Never read or write the user's ~/.ocrprep or config from tests."""
    home = tmp_path_factory.mktemp("ocrprep-home")
    saved = {k: v for k, v in os.environ.items() if k.startswith("OCRPREP_")}
    for key in saved:
        del os.environ[key]
    os.environ["OCRPREP_HOME"] = str(home)
    yield
    os.environ.pop("OCRPREP_HOME", None)
    os.environ.update(saved)


@pytest.fixture
def receipt_paths() -> list[Path]:
    """The real receipts bundled in tests/fixtures (sorted)."""
    return sorted(RECEIPTS.glob("*.jpg"))


@pytest.fixture
def receipt(receipt_paths: list[Path]) -> np.ndarray:
    """One real receipt as an RGB uint8 array."""
    from PIL import Image

    return np.asarray(Image.open(receipt_paths[0]).convert("RGB"))


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
