"""Paths of the test data: the bundled receipts, and ../shared when it is present."""

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
RECEIPTS = FIXTURES / "receipts"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "sroie"
