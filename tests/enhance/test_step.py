"""The ``enhance`` pipeline step on a Context, and through ``process``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from _pages import receipt
from ocrprep.config import Settings
from ocrprep.degrade import degrade
from ocrprep.enhance.step import run
from ocrprep.errors import PoorQualityImage
from ocrprep.pipeline import STEPS, Context, Source, process


def _context(image: np.ndarray, **process: object) -> Context:
    ok, png = cv2.imencode(".png", image[:, :, ::-1])
    assert ok
    data = png.tobytes()
    source = Source("mem://test/page.png", None, None, None, hashlib.sha256(data).hexdigest())
    settings = Settings().with_overrides(**{f"process.{k}": v for k, v in process.items()})
    return Context(settings=settings, source=source, data=data)


def test_step_is_registered_under_its_name() -> None:
    assert STEPS["enhance"] is run


def test_step_fixes_a_rotated_page_and_records_the_operation() -> None:
    image = receipt("075")
    ctx = _context(degrade(image, "rotate", seed=0, degrees=180))
    run(ctx)
    assert ctx.changed is True
    assert np.array_equal(ctx.image, image)
    (record,) = ctx.records
    assert record.name == "enhance" and record.changed
    assert record.params["operations"][0] == {"name": "orientation",
                                              "params": {"degrees": 180, "confidence": pytest.approx(1.0, abs=0.05)}}
    assert ctx.report is not None and ctx.report.acceptable


def test_step_leaves_a_clean_page_alone() -> None:
    ctx = _context(receipt("000"))
    before = ctx.image
    run(ctx)
    assert ctx.changed is False
    assert ctx.image is before
    assert ctx.records[0].params["operations"] == []


def test_step_refuses_what_it_cannot_fix_with_both_reports() -> None:
    blank = np.full((600, 300, 3), 240, np.uint8)
    with pytest.raises(PoorQualityImage) as caught:
        run(_context(blank))
    assert caught.value.report is not None and not caught.value.report.acceptable
    assert caught.value.before is not None
    assert "report_before" in caught.value.to_dict()


def test_step_off_does_nothing() -> None:
    ctx = _context(degrade(receipt("000"), "faint", "severe", seed=1), enhance_mode="off")
    run(ctx)
    assert ctx.changed is False


def test_process_with_enhance_writes_the_levelled_image(tmp_path: Path) -> None:
    source = tmp_path / "skewed.png"
    skewed = degrade(receipt("150"), "skew", seed=2, angle=15.0)
    cv2.imwrite(str(source), skewed[:, :, ::-1])
    settings = Settings().with_overrides(**{"storage.roots": (tmp_path,)})
    result = process(str(source), settings, steps=("enhance",), output=str(tmp_path / "out"))
    assert result.changed and result.uri != str(source)
    assert any(s.name == "enhance" for s in result.steps)


def test_step_uses_the_profile_of_the_settings() -> None:
    tiny = degrade(receipt("000"), "tiny_text", "mild", seed=1)
    factors = {}
    for profile in ("generic", "tesseract"):
        ctx = _context(tiny, enhance_profile=profile)
        run(ctx)
        (record,) = ctx.records
        assert record.params["profile"] == profile
        (op,) = [op for op in record.params["operations"] if op["name"] == "upscale"]
        factors[profile] = op["params"]["factor"]
    assert factors["tesseract"] > factors["generic"]
