from __future__ import annotations

import numpy as np
import pytest

from ocrprep.config import Settings
from ocrprep.errors import MalformedRequest, PoorQualityImage
from ocrprep.pipeline import Context, Source
from ocrprep.regions import step
from ocrprep.regions.synth import compose_photo, make_background


def _ctx(image: np.ndarray, **process) -> Context:
    settings = Settings(process=dict(steps=("extract",), **process))
    ctx = Context(settings=settings, source=Source("mem://b/k", "b", "k", None, "0" * 64), data=b"")
    ctx.image = image
    return ctx


def test_document_mode_replaces_the_image_and_records_the_quad(receipts):
    photo, truth = compose_photo(receipts["075"], seed=11, shape=(800, 600))
    ctx = _ctx(photo)
    step.run(ctx)
    assert ctx.changed
    assert ctx.image.shape != photo.shape
    (record,) = ctx.records
    assert record.name == "extract" and record.changed
    quad = np.array(record.params["quad"])
    assert quad.shape == (4, 2)
    assert np.abs(quad - truth).max() < 40


def test_no_document_refuses_with_the_reason():
    ctx = _ctx(make_background((600, 800), seed=3, kind="wood"))
    with pytest.raises(PoorQualityImage, match="no document visible"):
        step.run(ctx)


def test_regions_mode_needs_a_model(receipts):
    ctx = _ctx(receipts["000"], extract_mode="regions")
    with pytest.raises(MalformedRequest, match="regions_model"):
        step.run(ctx)


def test_process_with_extract_writes_the_flattened_document(receipts, tmp_path):
    import cv2

    from ocrprep import process
    from ocrprep.config import load_settings

    photo, _ = compose_photo(receipts["075"], seed=11, shape=(800, 600))
    source = tmp_path / "photo.png"
    cv2.imwrite(str(source), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    settings = load_settings(**{"storage.roots": [str(tmp_path)]})
    result = process(str(source), settings, steps=("extract",), output=str(tmp_path / "out"))
    assert result.changed and result.uri != str(source)
    written = cv2.imread(result.uri)
    assert written is not None and written.shape[:2] != photo.shape[:2]
    assert result.steps[0].name == "extract" and len(result.steps[0].params["quad"]) == 4


def test_upsample_flattens_small_text_larger_from_the_photo(receipts):
    # Receipt 075 in an 800-px photo: its flattened text is about 6 px high.
    photo, _ = compose_photo(receipts["075"], seed=4, shape=(800, 600))
    native, p0 = step.extract_document(photo)
    larger, p1 = step.extract_document(photo, upsample=True)
    assert p0["upsampled"] == 1.0 and p1["upsampled"] > 1.0
    assert p1["quad"] == p0["quad"]
    assert larger.shape[0] > 1.3 * native.shape[0] and larger.shape[1] > 1.3 * native.shape[1]
