"""A drop-in for the original ``FunctionPreProcess`` Lambda: same event, same result shape.

Event: ``{"Bucket": ..., "Key": ...}`` with optional ``"VersionId"``, a model reference
(``"Model"``, ``"ModelRef"`` or the original's ``"ProjectVersionArn"``), ``"Steps"`` and
``"Output"`` (an ``s3://`` prefix). An S3 event notification (``Records[0].s3``) is accepted too.
Settings come from the environment (``OCRPREP_PROCESS__OUTPUT``, ``OCRPREP_STORAGE__S3_ENDPOINT_URL``,
...) and the config file, as for every other surface.

On success it returns :meth:`ocrprep.pipeline.ProcessResult.to_dict` (``Bucket``, ``Key``, ``S3Uri``,
``TopLabel``, ``Input``, ...). On failure it raises the typed error, so a Step Functions ``Catch``
can match ``PoorQualityImage``, ``MalformedRequest`` or ``ModelError`` by name, as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from ocrprep.config import load_settings
from ocrprep.errors import MalformedRequest
from ocrprep.pipeline import process

__all__ = ["handler"]

_MODEL_KEYS = ("Model", "ModelRef", "ProjectVersionArn", "ModelArn")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Process the S3 object an event names and return the result in the original's shape."""
    if not isinstance(event, dict):
        raise MalformedRequest("the event must be a JSON object with Bucket and Key")
    bucket, key, version = _object_of(event)
    uri = f"s3://{bucket}/{key}"  # keys are kept verbatim in s3:// URIs
    if version:
        uri += f"?versionId={version}"
    overrides: dict[str, Any] = {}
    model = next((event[k] for k in _MODEL_KEYS if event.get(k)), None)
    if model is not None:
        overrides["model"] = _model_ref(str(model))
    if event.get("Steps"):
        steps = event["Steps"]
        overrides["steps"] = tuple(steps.split(",") if isinstance(steps, str) else steps)
    settings = load_settings()
    if event.get("Output"):
        overrides["output"] = str(event["Output"])
    elif not settings.process.output.startswith("s3://"):
        overrides["output"] = f"s3://{bucket}/preprocessed"
    return process(uri, settings, **overrides).to_dict()


def _object_of(event: dict[str, Any]) -> tuple[str, str, str | None]:
    records = event.get("Records")
    if records:
        try:
            s3 = records[0]["s3"]
            return (s3["bucket"]["name"], unquote_plus(s3["object"]["key"]),
                    s3["object"].get("versionId"))
        except (KeyError, IndexError, TypeError) as exc:
            raise MalformedRequest(f"the S3 event record lacks {exc}") from exc
    bucket, key = event.get("Bucket"), event.get("Key")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        raise MalformedRequest("the event needs string fields Bucket and Key")
    return bucket, key, event.get("VersionId")


def _model_ref(value: str) -> str:
    """Map a Rekognition project-version ARN to ``project:version``; pass other refs through."""
    if value.startswith("arn:") and ":project/" in value:
        parts = value.split(":project/", 1)[1].split("/")
        project = parts[0]
        version = parts[2] if len(parts) >= 3 and parts[1] == "version" else None
        return f"{project}:{version}" if version else project
    return value
