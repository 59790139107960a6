"""``ocrprep enhance`` and ``ocrprep ocr`` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from _pages import receipt
from _paths import needs_tesseract
from ocrprep.degrade import degrade
from ocrprep.cli_enhance import register

app = typer.Typer()
register(app)
runner = CliRunner()


def test_enhance_writes_pngs_and_prints_the_operations(tmp_path: Path) -> None:
    turned = tmp_path / "turned.png"
    cv2.imwrite(str(turned), np.rot90(receipt("075"), 1)[:, :, ::-1])
    clean = tmp_path / "clean.jpg"
    cv2.imwrite(str(clean), receipt("000")[:, :, ::-1])
    out = tmp_path / "out"
    result = runner.invoke(app, ["enhance", str(turned), str(clean), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "orientation 90" in result.output
    assert "unchanged" in result.output
    written = cv2.imread(str(out / "turned.png"))[:, :, ::-1]
    assert np.array_equal(written, receipt("075"))


def test_enhance_json_and_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), receipt("000")[:, :, ::-1])
    result = runner.invoke(app, ["enhance", str(good), str(bad), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 2
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines[0]["changed"] is False and "error" in lines[1]


@needs_tesseract
def test_ocr_runs_the_pipeline_then_tesseract(tmp_path: Path) -> None:
    turned = tmp_path / "turned.png"
    cv2.imwrite(str(turned), np.rot90(receipt("075"), 2)[:, :, ::-1])
    result = runner.invoke(app, ["ocr", str(turned), "--engine", "tesseract", "--json",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout.splitlines()[-1])
    assert body["changed"] is True and body["engine"] == "tesseract"
    (enhance,) = [step for step in body["steps"] if step["name"] == "enhance"]
    assert enhance["params"]["profile"] == "tesseract"
    assert "STATIONERY" in body["text"].upper()
    assert all(len(line["box"]) == 4 for line in body["lines"])


def test_ocr_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ocr", "x.png", "--engine", "nope"])
    assert result.exit_code == 2


def test_enhance_and_ocr_refuse_an_unknown_profile(tmp_path: Path) -> None:
    page = tmp_path / "page.png"
    cv2.imwrite(str(page), receipt("000")[:, :, ::-1])
    result = runner.invoke(app, ["enhance", str(page), "--out", str(tmp_path), "--profile", "abbyy"])
    assert result.exit_code == 2 and "profile" in result.output
    result = runner.invoke(app, ["ocr", str(page), "--profile", "abbyy"])
    assert result.exit_code == 2 and "profile" in result.output


def test_enhance_with_the_tesseract_profile_enlarges_small_print_more(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.png"
    cv2.imwrite(str(tiny), degrade(receipt("000"), "tiny_text", "mild", seed=1)[:, :, ::-1])
    sizes = {}
    for profile in ("generic", "tesseract"):
        out = tmp_path / profile
        result = runner.invoke(app, ["enhance", str(tiny), "--out", str(out), "--profile", profile])
        assert result.exit_code == 0, result.output
        sizes[profile] = cv2.imread(str(out / "tiny.png")).shape[0]
    assert sizes["tesseract"] > sizes["generic"]
