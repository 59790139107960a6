"""``s3://bucket/key`` through boto3: the only module that imports boto3.

The endpoint is ``StorageOptions.s3_endpoint_url``, else the standard ``AWS_ENDPOINT_URL_S3`` /
``AWS_ENDPOINT_URL`` environment variables, else AWS. Credentials and region come from the standard
AWS chain (environment, shared files, instance/container roles). Clients are cached per
(endpoint, region). botocore errors are translated: a missing key, bucket or version ->
``ObjectNotFound``; 403 -> ``AccessDenied``; anything else -> ``StorageError``. Keys are object
names, never turned into local paths.
"""

from __future__ import annotations

import mimetypes
import os
import threading
from collections.abc import Iterator
from typing import Any

from ocrprep.errors import (
    AccessDenied,
    ImageTooLarge,
    MalformedRequest,
    ObjectNotFound,
    OcrprepError,
    StorageError,
)
from ocrprep.storage.base import Data, ExistsByStat, Location, ObjectInfo

__all__ = ["S3Store", "is_available", "s3_client"]

_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId",
           "SignatureDoesNotMatch", "AccountProblem"}
_clients: dict[tuple[str | None, str | None], Any] = {}
_clients_lock = threading.Lock()


def is_available() -> bool:
    """True when boto3 can be imported."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        return False
    return True


def _endpoint(configured: str | None) -> str | None:
    return configured or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def s3_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A cached boto3 S3 client for (endpoint, region); the environment fills in what is None."""
    key = (_endpoint(endpoint_url), region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    # the key also covers the region the standard chain would pick, so env changes get a new client
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError as exc:  # pragma: no cover - boto3 is a dependency
                raise StorageError("s3:// needs boto3: pip install boto3") from exc
            config = Config(
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 4, "mode": "standard"},
                s3={"addressing_style": "path"} if key[0] else None,
            )
            session = boto3.session.Session()
            region_name = key[1] or session.region_name or "us-east-1"  # region from ~/.aws/config too
            client = session.client("s3", endpoint_url=key[0], region_name=region_name, config=config)
            _clients[key] = client
        return client


def _translate(exc: Exception, what: str, uri: str) -> OcrprepError:
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        message = error.get("Message") or code
        if code in _NOT_FOUND or status == "404":
            return ObjectNotFound(f"no object at {uri} ({code or status})")
        if code in _DENIED or status == "403":
            return AccessDenied(f"access denied to {uri} ({code or status}: {message}); check the credentials and the bucket policy")
        return StorageError(f"cannot {what} {uri}: {code or status}: {message}")
    if isinstance(exc, NoCredentialsError):
        return StorageError(f"cannot {what} {uri}: no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role)")
    return StorageError(f"cannot {what} {uri}: {type(exc).__name__}: {exc}")


class S3Store(ExistsByStat):
    """Objects in S3 or an S3-compatible store.

    Parameters
    ----------
    endpoint_url : str, optional
        Endpoint of an S3-compatible store; the environment or AWS when None.
    region : str, optional
        Region; the standard chain when None.
    """

    def __init__(self, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.endpoint_url = endpoint_url
        self.region = region

    @property
    def client(self) -> Any:
        """The boto3 client (cached per endpoint and region)."""
        return s3_client(self.endpoint_url, self.region)

    @staticmethod
    def _object_args(location: Location) -> dict[str, str]:
        if not location.key or location.key.endswith("/"):
            raise MalformedRequest(f"{location.uri} names a prefix, not an object")
        args = {"Bucket": location.bucket, "Key": location.key}
        if location.version_id:
            args["VersionId"] = location.version_id
        return args

    def read(self, location: Location, *, max_bytes: int | None = None) -> bytes:
        args = self._object_args(location)
        try:
            response = self.client.get_object(**args)
            size = int(response.get("ContentLength", 0))
            body = response["Body"]
            try:
                if max_bytes is not None and size > max_bytes:
                    raise ImageTooLarge(f"{location.uri} has {size} bytes, more than the limit of {max_bytes}")
                data = body.read() if max_bytes is None else body.read(max_bytes + 1)
            finally:
                body.close()
        except OcrprepError:
            raise
        except Exception as exc:
            raise _translate(exc, "read", location.uri) from exc
        if max_bytes is not None and len(data) > max_bytes:
            raise ImageTooLarge(f"{location.uri} has more than {max_bytes} bytes (the limit)")
        return data

    def write(self, location: Location, data: Data, *, content_type: str | None = None) -> str:
        """One ``put_object`` (atomic in S3); the content type is guessed from the key when None."""
        args = self._object_args(location)
        args.pop("VersionId", None)
        payload = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else b"".join(data)
        content_type = content_type or mimetypes.guess_type(location.key)[0]
        extra = {"ContentType": content_type} if content_type else {}
        try:
            self.client.put_object(Body=payload, **args, **extra)
        except Exception as exc:
            raise _translate(exc, "write", location.uri) from exc
        return location.with_key(location.key).uri

    def stat(self, location: Location) -> ObjectInfo:
        args = self._object_args(location)
        try:
            head = self.client.head_object(**args)
        except Exception as exc:
            raise _translate(exc, "stat", location.uri) from exc
        etag = head.get("ETag")
        return ObjectInfo(
            uri=location.uri,
            size=int(head.get("ContentLength", 0)),
            etag=etag.strip('"') if isinstance(etag, str) else None,
            version_id=head.get("VersionId") if head.get("VersionId") not in (None, "null") else None,
            modified=head.get("LastModified"),
        )

    def _keys(self, bucket: str, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                yield item["Key"]

    def list(self, location: Location) -> list[str]:
        try:
            if location.key and not location.key.endswith("/"):
                if self.exists(location):
                    return [location.uri]
                prefix = location.key + "/"
            else:
                prefix = location.key
            keys = sorted(k for k in self._keys(location.bucket, prefix) if not k.endswith("/"))
        except OcrprepError:
            raise
        except Exception as exc:
            raise _translate(exc, "list", location.uri) from exc
        if not keys:
            raise ObjectNotFound(f"no object at or below {location.uri}")
        return [location.with_key(k).uri for k in keys]
