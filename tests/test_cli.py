from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocrprep import degrade, imageio
from ocrprep.cli import app

from _paths import RECEIPTS

runner = CliRunner()


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with two clean receipts, one blurred copy and one file that is not an image."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "inbox"
    folder.mkdir()
    for name in ("000.jpg", "030.jpg"):
        (folder / name).write_bytes((RECEIPTS / name).read_bytes())
    image = imageio.decode_image((RECEIPTS / "000.jpg").read_bytes())
    (folder / "blurred.png").write_bytes(
        imageio.encode_image(degrade.degrade(image, "blur", "severe", seed=3)))
    (folder / "broken.jpg").write_bytes((RECEIPTS / "000.jpg").read_bytes()[:2000])
    return folder


def _lines(output: str) -> dict[str, dict]:
    rows = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return {Path(row["uri"]).name: row for row in rows}


def test_assess_json_reports_every_input_and_fails_on_broken_one(inbox: Path) -> None:
    result = runner.invoke(app, ["assess", str(inbox), "--json", "-j", "1"])
    rows = _lines(result.stdout)
    assert set(rows) == {"000.jpg", "030.jpg", "blurred.png", "broken.jpg"}
    assert rows["000.jpg"]["acceptable"] is True
    assert rows["blurred.png"]["acceptable"] is False
    assert rows["blurred.png"]["reasons"][0].startswith("blurry")
    assert rows["broken.jpg"]["error"] == "ImageDecodeError"
    assert result.exit_code == 2


def test_assess_fail_on_reject(inbox: Path) -> None:
    (inbox / "broken.jpg").unlink()
    assert runner.invoke(app, ["assess", str(inbox), "-j", "1"]).exit_code == 0
    result = runner.invoke(app, ["assess", str(inbox), "-j", "1", "--fail-on-reject"])
    assert result.exit_code == 3


def test_process_writes_a_report_and_names_each_outcome(inbox: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.jsonl"
    result = runner.invoke(app, ["process", str(inbox), "--out", str(tmp_path / "out"),
                                 "--decision", "measurements", "--report", str(report), "-j", "1"])
    rows = _lines(report.read_text())
    assert rows["000.jpg"]["S3Uri"] == rows["000.jpg"]["uri"]
    assert rows["000.jpg"]["Input"]["S3Uri"] == rows["000.jpg"]["uri"]
    assert rows["blurred.png"]["error"] == "PoorQualityImage"
    assert rows["blurred.png"]["reasons"]
    assert rows["broken.jpg"]["error"] == "ImageDecodeError"
    assert result.exit_code != 0
    assert "rejected" in result.stdout


def test_unknown_step_exits_with_malformed_request(inbox: Path) -> None:
    result = runner.invoke(app, ["process", str(inbox / "000.jpg"), "--steps", "validate,polish"])
    assert result.exit_code == 2
    assert "unknown step 'polish'" in result.stdout


def test_extract_options_reach_the_step(inbox: Path, tmp_path: Path) -> None:
    image = str(inbox / "000.jpg")
    result = runner.invoke(app, ["process", image, "--steps", "extract", "--extract-mode", "regions",
                                 "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 2
    assert "needs a detector" in _lines(result.stdout)["000.jpg"]["message"]
    result = runner.invoke(app, ["process", image, "--steps", "extract", "--extract-mode", "regions",
                                 "--regions-model", str(tmp_path / "no-such-detector"),
                                 "--out", str(tmp_path / "out"), "--json"])
    assert _lines(result.stdout)["000.jpg"]["error"] == "ModelError"
    result = runner.invoke(app, ["process", image, "--extract-mode", "boxes"])
    assert result.exit_code == 2
    assert "extract_mode" in result.output


def test_enhance_profile_reaches_the_step(inbox: Path, tmp_path: Path) -> None:
    image = str(inbox / "000.jpg")
    params = {}
    for profile in ("generic", "tesseract"):
        result = runner.invoke(app, ["process", image, "--steps", "enhance", "--enhance-mode", "always",
                                     "--enhance-profile", profile, "--out", str(tmp_path / "out"), "--json"])
        assert result.exit_code == 0, result.output
        row = _lines(result.stdout)["000.jpg"]
        (step,) = [step for step in row["steps"] if step["name"] == "enhance"]
        params[profile] = step["params"]
    assert params["generic"]["profile"] == "generic" and params["tesseract"]["profile"] == "tesseract"
    result = runner.invoke(app, ["process", image, "--steps", "enhance", "--enhance-profile", "abbyy"])
    assert result.exit_code == 2
    assert "enhance_profile" in result.output


def test_configured_roots_are_enforced_for_named_files(
    inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.jpg"
    outside.write_bytes((RECEIPTS / "000.jpg").read_bytes())
    monkeypatch.setenv("OCRPREP_STORAGE__ROOTS", json.dumps([str(inbox)]))
    try:
        result = runner.invoke(app, ["assess", str(outside), str(inbox / "000.jpg"), "--json"])
    finally:
        outside.unlink()
    rows = _lines(result.stdout)
    assert rows[outside.name]["error"] == "AccessDenied"
    assert rows["000.jpg"]["acceptable"] is True
    assert result.exit_code == 2


def test_files_named_on_the_command_line_are_readable_without_configured_roots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = runner.invoke(app, ["assess", str(RECEIPTS / "030.jpg"), "--json"])
    assert _lines(result.stdout)["030.jpg"]["acceptable"] is True


def test_cli_as_a_subprocess_in_parallel(inbox: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "error"}
    done = subprocess.run(
        [sys.executable, "-m", "ocrprep", "assess", str(inbox), "--json", "-j", "2"],
        capture_output=True, text=True, env=env, timeout=300, cwd=inbox.parent,
    )
    rows = _lines(done.stdout)
    assert len(rows) == 4
    assert done.returncode == 2, done.stderr
