"""Paths of the test data (the bundled receipts, and ../shared when it is present), and the tools."""

import os
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
RECEIPTS = FIXTURES / "receipts"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "sroie"

#: Skips a test that runs Tesseract where it is missing, except on CI (``make test`` installs it).
needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None and os.environ.get("CI") != "true",
    reason="Debian tesseract-ocr is not installed (make test installs it)",
)
