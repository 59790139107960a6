"""The Lambda drop-in against a real S3 API on loopback (moto's server)."""

from __future__ import annotations

import pytest
from _paths import RECEIPTS
from _s3 import make_bucket, s3_client, s3_endpoint  # noqa: F401  (fixture)

from ocrprep import degrade, imageio
from ocrprep.aws_lambda import handler
from ocrprep.errors import MalformedRequest, ObjectNotFound, PoorQualityImage
from ocrprep.pipeline import STEPS, Context, StepRecord


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    monkeypatch.setenv("OCRPREP_STORAGE__S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("OCRPREP_PROCESS__DECISION", "measurements")
    name = make_bucket(s3_endpoint)
    client = s3_client(s3_endpoint)
    client.put_object(Bucket=name, Key="incoming/000.jpg", Body=(RECEIPTS / "000.jpg").read_bytes())
    image = imageio.decode_image((RECEIPTS / "000.jpg").read_bytes())
    blurred = imageio.encode_image(degrade.degrade(image, "blur", "severe", seed=5), "jpeg")
    client.put_object(Bucket=name, Key="incoming/blurred one.jpg", Body=blurred)
    return name


def test_good_image_returns_its_own_s3_uri_in_the_original_shape(bucket: str) -> None:
    result = handler({"Bucket": bucket, "Key": "incoming/000.jpg"}, None)
    assert result["S3Uri"] == f"s3://{bucket}/incoming/000.jpg"
    assert result["Bucket"] == bucket and result["Key"] == "incoming/000.jpg"
    assert result["Input"] == {"Bucket": bucket, "Key": "incoming/000.jpg",
                               "S3Uri": f"s3://{bucket}/incoming/000.jpg"}
    assert "TopLabel" in result and result["report"]["acceptable"] is True


def test_poor_image_raises_the_typed_error_for_step_functions(bucket: str) -> None:
    with pytest.raises(PoorQualityImage) as caught:
        handler({"Bucket": bucket, "Key": "incoming/blurred one.jpg"}, None)
    assert caught.value.report is not None
    assert type(caught.value).__name__ == "PoorQualityImage"


def test_changed_image_is_written_to_the_bucket_once(
    bucket: str, s3_endpoint: str  # noqa: F811
) -> None:
    def grey(ctx: Context) -> None:
        ctx.image = ctx.image.mean(axis=2).astype("uint8")
        ctx.changed = True
        ctx.records.append(StepRecord("grey", {}, True, 0.0))

    STEPS["grey"] = grey
    try:
        event = {"Bucket": bucket, "Key": "incoming/000.jpg", "Steps": "validate,grey"}
        first = handler(event, None)
        second = handler(event, None)
    finally:
        del STEPS["grey"]
    assert first["S3Uri"] == second["S3Uri"]
    assert first["S3Uri"].startswith(f"s3://{bucket}/preprocessed/000-")
    assert first["Bucket"] == bucket and first["Key"].startswith("preprocessed/000-")
    body = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=first["Key"])["Body"].read()
    assert imageio.decode_image(body).shape[:2] == imageio.decode_image(
        (RECEIPTS / "000.jpg").read_bytes()).shape[:2]


def test_s3_event_notification_shape_is_accepted(bucket: str) -> None:
    event = {"Records": [{"s3": {"bucket": {"name": bucket},
                                 "object": {"key": "incoming/000.jpg"}}}]}
    assert handler(event, None)["Key"] == "incoming/000.jpg"


def test_missing_object_and_bad_event(bucket: str) -> None:
    with pytest.raises(ObjectNotFound):
        handler({"Bucket": bucket, "Key": "incoming/nope.jpg"}, None)
    with pytest.raises(MalformedRequest, match="Bucket and Key"):
        handler({"Key": "x.jpg"}, None)
