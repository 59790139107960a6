from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocrprep import degrade, imageio, storage
from ocrprep.config import Settings
from ocrprep.errors import ImageDecodeError, MalformedRequest, ObjectNotFound, PoorQualityImage
from ocrprep.pipeline import STEPS, Context, process

from _paths import RECEIPTS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home").with_overrides(**{
        "storage.roots": (tmp_path, RECEIPTS),
        "process.output": str(tmp_path / "out"),
        "process.decision": "measurements",
    })


@pytest.fixture
def invert_step() -> object:
    """A fake step that changes the image, registered by name like a real one."""
    calls: list[int] = []

    def run(ctx: Context) -> None:
        calls.append(1)
        ctx.image = 255 - ctx.image
        ctx.changed = True
        ctx.records.append(__import__("ocrprep.pipeline").pipeline.StepRecord(
            "invert", {"how": "255-x"}, True, 0.0))

    STEPS["invert"] = run
    yield calls
    del STEPS["invert"]


def test_clean_receipt_passes_and_returns_its_own_uri(settings: Settings) -> None:
    uri = str(RECEIPTS / "000.jpg")
    result = process(uri, settings)
    assert result.uri == uri
    assert not result.changed
    assert result.report is not None and result.report.acceptable
    body = result.to_dict()
    assert body["S3Uri"] == uri
    assert body["Input"] == {"Bucket": None, "Key": uri, "S3Uri": uri}
    assert {"Bucket", "Key", "S3Uri", "TopLabel", "Input", "report", "steps", "timings"} <= set(body)
    assert [step["name"] for step in body["steps"]] == ["validate"]


def test_blurred_receipt_is_refused_with_the_reason(settings: Settings, tmp_path: Path) -> None:
    image = imageio.decode_image((RECEIPTS / "000.jpg").read_bytes())
    bad = tmp_path / "blurred.png"
    bad.write_bytes(imageio.encode_image(degrade.degrade(image, "blur", "severe", seed=1)))
    with pytest.raises(PoorQualityImage) as caught:
        process(str(bad), settings)
    report = caught.value.report
    assert report is not None and not report.acceptable
    assert report.reasons and report.reasons[0].startswith("blurry")
    assert not (tmp_path / "out").exists()


def test_changed_image_is_written_once_under_a_deterministic_name(
    settings: Settings, tmp_path: Path, invert_step: list[int]
) -> None:
    uri = str(RECEIPTS / "003.jpg")
    first = process(uri, settings, steps=("invert",))
    second = process(uri, settings, steps=("invert",))
    assert first.changed and first.uri == second.uri != uri
    assert Path(first.uri).parent == tmp_path / "out"
    written = imageio.decode_image(Path(first.uri).read_bytes())
    original = imageio.decode_image((RECEIPTS / "003.jpg").read_bytes())
    assert np.array_equal(written, 255 - original)
    other = process(uri, settings, steps=("invert",), output_format="jpeg")
    assert other.uri != first.uri
    assert len(list((tmp_path / "out").iterdir())) == 2


def test_same_content_in_memory_store_names_output_by_bucket_and_key(
    settings: Settings, invert_step: list[int]
) -> None:
    data = (RECEIPTS / "030.jpg").read_bytes()
    storage.write_bytes("mem://inbox/a/receipt.jpg", data)
    storage.write_bytes("mem://inbox/b/receipt.jpg", data)
    out = {"output": "mem://processed/ocr", "steps": ("invert",)}
    a = process("mem://inbox/a/receipt.jpg", settings, **out)
    b = process("mem://inbox/b/receipt.jpg", settings, **out)
    assert a.uri.startswith("mem://processed/ocr/receipt-") and a.uri != b.uri
    assert a.to_dict()["Bucket"] == "processed"
    assert a.to_dict()["Input"]["Key"] == "a/receipt.jpg"


def test_a_failing_step_leaves_no_output(settings: Settings, tmp_path: Path) -> None:
    def explode(ctx: Context) -> None:
        ctx.image = 255 - ctx.image
        ctx.changed = True
        raise MalformedRequest("step failed on purpose")

    STEPS["explode"] = explode
    try:
        with pytest.raises(MalformedRequest, match="on purpose"):
            process(str(RECEIPTS / "000.jpg"), settings, steps=("explode",))
    finally:
        del STEPS["explode"]
    assert not (tmp_path / "out").exists()


def test_unknown_step_is_a_malformed_request(settings: Settings) -> None:
    with pytest.raises(MalformedRequest, match="unknown step 'sharpen'.*validate"):
        process(str(RECEIPTS / "000.jpg"), settings, steps=("sharpen",))


def test_missing_object_and_non_image(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFound):
        process(str(tmp_path / "nope.jpg"), settings)
    (tmp_path / "notes.jpg").write_bytes(b"this is not an image at all")
    with pytest.raises(ImageDecodeError):
        process(str(tmp_path / "notes.jpg"), settings)


def test_validate_uses_a_reduced_decode_only(settings: Settings) -> None:
    from ocrprep.validate import run

    data = (RECEIPTS / "009.jpg").read_bytes()
    ctx = Context(settings=settings, source=None, data=data)  # type: ignore[arg-type]
    run(ctx)
    assert ctx._image is None  # the full-size image was never decoded
    assert ctx.report is not None and ctx.report.acceptable


def test_validate_defers_what_enhance_can_mend_then_judges_the_result(
    settings: Settings, tmp_path: Path
) -> None:
    image = imageio.decode_image((RECEIPTS / "003.jpg").read_bytes())
    skewed = tmp_path / "skewed.png"
    skewed.write_bytes(imageio.encode_image(degrade.degrade(image, "skew", "severe", seed=2,
                                                            angle=12.0)))
    with pytest.raises(PoorQualityImage) as caught:
        process(str(skewed), settings)
    assert caught.value.report is not None and caught.value.report.top_defect == "skewed"

    result = process(str(skewed), settings, steps=("validate", "enhance"))
    assert result.changed and result.uri != str(skewed)
    assert [r.name for r in result.steps] == ["validate", "enhance", "validate"]
    assert result.steps[0].params["deferred"]
    operations = [op["name"] for op in result.steps[1].params["operations"]]
    assert "deskew" in operations
    assert result.report is not None and result.report.acceptable


def test_enhance_cannot_rescue_blur_so_it_is_refused_early(settings: Settings, tmp_path: Path) -> None:
    image = imageio.decode_image((RECEIPTS / "000.jpg").read_bytes())
    bad = tmp_path / "blurred.png"
    bad.write_bytes(imageio.encode_image(degrade.degrade(image, "blur", "severe", seed=1)))
    with pytest.raises(PoorQualityImage) as caught:
        process(str(bad), settings, steps=("validate", "enhance"))
    assert caught.value.report is not None and caught.value.report.top_defect == "blurry"
    assert not (tmp_path / "out").exists()


def _photo_of(stem: str, seed: int, tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A seeded 4-MP phone photo of a bundled receipt, written as ``photo.jpg``; and the receipt.

    (At the composer's default 1.9 MP a small receipt's print is soft enough after flattening to
    sit on the blur limit; the regions benchmark measures that loss.)
    """
    from ocrprep.regions.synth import compose_photo

    receipt = imageio.decode_image((RECEIPTS / f"{stem}.jpg").read_bytes())
    photo, _ = compose_photo(receipt, seed=seed, shape=(2400, 1800))
    path = tmp_path / "photo.jpg"
    path.write_bytes(imageio.encode_image(photo, "jpeg"))
    return path, receipt


def test_photo_is_flattened_by_extract_and_the_document_is_judged(
    settings: Settings, tmp_path: Path
) -> None:
    path, receipt = _photo_of("003", 5, tmp_path)
    result = process(str(path), settings, steps=("validate", "extract"))
    assert [r.name for r in result.steps] == ["validate", "extract", "validate"]
    assert result.changed and result.report is not None and result.report.acceptable
    flat = imageio.decode_image(Path(result.uri).read_bytes())
    height, width = flat.shape[:2]
    true_aspect = receipt.shape[0] / receipt.shape[1]
    assert abs(height / width - true_aspect) / true_aspect < 0.1


def test_photo_on_a_dark_table_is_enhanced_then_flattened_not_turned_negative(
    settings: Settings, tmp_path: Path
) -> None:
    # the table is most of this photo and the page a bright minority, as light text on dark
    # would be: the page was turned negative, and the pipeline refused the black result
    path, _ = _photo_of("003", 5, tmp_path)
    result = process(str(path), settings, steps=("validate", "enhance", "extract"))
    assert [r.name for r in result.steps] == ["validate", "enhance", "extract", "validate"]
    operations = [op["name"] for op in result.steps[1].params["operations"]]
    assert "invert" not in operations
    assert result.report is not None and result.report.acceptable


def test_enhance_leaves_to_extract_what_only_extract_can_mend(settings: Settings, tmp_path: Path) -> None:
    path, _ = _photo_of("009", 2, tmp_path)
    # enhanced whole, the photo still looks covered or glaring (the table around the page);
    # enhance used to refuse it there, before extract had cut the table away
    result = process(str(path), settings, steps=("validate", "enhance", "extract"))
    assert [r.name for r in result.steps] == ["validate", "enhance", "extract", "validate"]
    assert result.report is not None and result.report.acceptable


@pytest.mark.parametrize("steps", [("validate",), ("validate", "enhance"), ("enhance",), ("enhance", "extract")])
@pytest.mark.parametrize("shape", [(3, 5000), (1, 1), (1, 40)])
def test_a_sliver_of_an_image_is_refused_as_too_small_to_read(
    settings: Settings, tmp_path: Path, steps: tuple[str, ...], shape: tuple[int, int]
) -> None:
    # with the bundled model deciding: the image is too thin for its features, and for any OCR
    sliver = np.full(shape, 200, np.uint8)
    sliver[..., ::7] = 30
    path = tmp_path / "sliver.png"
    path.write_bytes(imageio.encode_image(sliver))
    model_decides = settings.with_overrides(**{"process.decision": "model", "process.steps": steps})
    with pytest.raises(PoorQualityImage, match=f"{shape[1]}x{shape[0]} pixels is too small to read"):
        process(str(path), model_decides)
    assert not (tmp_path / "out").exists()
