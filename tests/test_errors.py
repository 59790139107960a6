from __future__ import annotations

import pytest

import ocrprep
from ocrprep import errors


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_derives_from_the_root_and_has_codes(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.OcrprepError)
    assert 1 <= cls.exit_code <= 125
    assert 400 <= cls.http_status <= 599


def test_contract_codes() -> None:
    assert errors.MalformedRequest.http_status == 400
    assert errors.PoorQualityImage.http_status == 422
    assert errors.ModelError.http_status == 503
    assert len({errors.MalformedRequest.exit_code, errors.PoorQualityImage.exit_code,
                errors.ModelError.exit_code}) == 3


def test_problem_body_names_the_class_and_message() -> None:
    body = errors.ObjectNotFound("no object at s3://b/k").to_dict()
    assert body["error"] == "ObjectNotFound"
    assert body["status"] == 404
    assert body["detail"] == "no object at s3://b/k"


def test_public_names_exist() -> None:
    for name in ocrprep.__all__:
        assert getattr(ocrprep, name) is not None, name
    for name in ("load_image", "assess", "process", "QualityReport", "ProcessResult",
                 "MalformedRequest", "ModelError", "PoorQualityImage", "OcrprepError"):
        assert name in ocrprep.__all__
