"""The errors ocrprep raises.

Every error derives from one root and carries the exit code the CLI returns and the HTTP status the
API answers with, so each surface converts errors in one place::

    OcrprepError                    exit 1, HTTP 500
    ├── MalformedRequest            exit 2, HTTP 400   bad input: arguments, URIs, unreadable data
    │   ├── ImageDecodeError        exit 2, HTTP 400   not an image, truncated, empty, bad format
    │   ├── ImageTooLarge           exit 2, HTTP 413   more pixels or bytes than the configured limit
    │   ├── ObjectNotFound          exit 2, HTTP 404   no object at that URI
    │   ├── AccessDenied            exit 2, HTTP 403   outside the configured roots, or scheme off
    │   └── DatasetError            exit 2, HTTP 400   a malformed manifest line or missing image
    ├── PoorQualityImage            exit 3, HTTP 422   the image is not good enough for OCR
    ├── ModelError                  exit 4, HTTP 503   model missing, failed, or cannot be started
    ├── StorageError                exit 5, HTTP 502   the store failed (network, permissions, disk)
    ├── RegistryError               exit 6, HTTP 409   an invalid state change in the model registry
    ├── OcrEngineError              exit 7, HTTP 503   an OCR engine is missing or failed
    └── AuthError                   exit 8, HTTP 401   missing or wrong credentials / scope

Messages say what was wrong and what to do. Foreign exceptions (boto3, SQLAlchemy, OpenCV,
Pillow) are translated at the adapter with ``raise OurError(...) from exc``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ocrprep.quality import QualityReport

__all__ = [
    "AccessDenied",
    "AuthError",
    "DatasetError",
    "ImageDecodeError",
    "ImageTooLarge",
    "MalformedRequest",
    "ModelError",
    "ObjectNotFound",
    "OcrEngineError",
    "OcrprepError",
    "PoorQualityImage",
    "RegistryError",
    "StorageError",
]


class OcrprepError(Exception):
    """Root of every error ocrprep raises on purpose."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready problem body (RFC 9457 fields plus ``error``)."""
        return {
            "type": f"urn:ocrprep:error:{type(self).__name__}",
            "title": type(self).__name__,
            "status": self.http_status,
            "detail": self.message,
            "error": type(self).__name__,
            "message": self.message,
        }


class MalformedRequest(OcrprepError):
    """The request or its input cannot be used: fix the input and call again."""

    exit_code = 2
    http_status = 400


class ImageDecodeError(MalformedRequest):
    """The bytes are not a readable image of an allowed format."""


class ImageTooLarge(MalformedRequest):
    """The image has more pixels or bytes than the configured limit."""

    http_status = 413


class ObjectNotFound(MalformedRequest):
    """No object exists at the URI."""

    http_status = 404


class AccessDenied(MalformedRequest):
    """The URI is outside the configured roots, or its scheme is turned off."""

    http_status = 403


class DatasetError(MalformedRequest):
    """A dataset or manifest is malformed; the message names the line and the field."""


class PoorQualityImage(OcrprepError):
    """The image is not good enough for OCR; ``report`` says why."""

    exit_code = 3
    http_status = 422

    def __init__(
        self,
        message: str,
        report: QualityReport | None = None,
        *,
        label: str | None = None,
        confidence: float | None = None,
        before: QualityReport | None = None,
    ) -> None:
        super().__init__(message)
        self.report = report
        self.label = label
        self.confidence = confidence
        self.before = before

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        if self.report is not None:
            body["report"] = self.report.to_dict()
        if self.before is not None:
            body["report_before"] = self.before.to_dict()
        if self.label is not None:
            body["TopLabel"] = {"Name": self.label, "Confidence": self.confidence}
        return body


class ModelError(OcrprepError):
    """The model is missing, failed, or cannot be started."""

    exit_code = 4
    http_status = 503


class StorageError(OcrprepError):
    """The store failed to read or write (network, permissions, disk)."""

    exit_code = 5
    http_status = 502


class RegistryError(OcrprepError):
    """An invalid operation on the model registry (unknown project, bad state change)."""

    exit_code = 6
    http_status = 409


class OcrEngineError(OcrprepError):
    """An OCR engine is not installed or failed."""

    exit_code = 7
    http_status = 503


class AuthError(OcrprepError):
    """Missing or wrong credentials, or a scope that does not allow the call."""

    exit_code = 8
    http_status = 401
