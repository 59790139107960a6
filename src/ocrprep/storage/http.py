"""``http(s)://`` inputs, read-only, off unless ``StorageOptions.allow_http`` is on.

Every read has a timeout and a byte cap (the caller's ``max_bytes``, else ``DEFAULT_MAX_BYTES``),
enforced while streaming, so a slow or endless response cannot hang or fill memory. Redirects are
not followed (a redirect to an internal address would bypass the caller's intent).
"""

from __future__ import annotations

from ocrprep.errors import AccessDenied, ImageTooLarge, MalformedRequest, ObjectNotFound, StorageError
from ocrprep.storage.base import Data, ExistsByStat, Location, ObjectInfo

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_TIMEOUT", "HttpStore"]

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_TIMEOUT = 20.0


class HttpStore(ExistsByStat):
    """Read-only access to http(s) URLs with a timeout and a size cap."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes

    def _check(self, response: object, location: Location) -> None:
        import httpx

        assert isinstance(response, httpx.Response)
        if response.status_code == 404:
            raise ObjectNotFound(f"no object at {location.uri} (HTTP 404)")
        if response.status_code in (401, 403):
            raise AccessDenied(f"access denied to {location.uri} (HTTP {response.status_code})")
        if response.status_code >= 300:
            raise StorageError(f"cannot read {location.uri}: HTTP {response.status_code}")

    def read(self, location: Location, *, max_bytes: int | None = None) -> bytes:
        import httpx

        cap = min(max_bytes, self.max_bytes) if max_bytes is not None else self.max_bytes
        try:
            with httpx.stream("GET", location.uri, timeout=self.timeout, follow_redirects=False) as response:
                self._check(response, location)
                declared = response.headers.get("content-length")
                if declared is not None and declared.isdigit() and int(declared) > cap:
                    raise ImageTooLarge(f"{location.uri} has {declared} bytes, more than the limit of {cap}")
                buffer = bytearray()
                for chunk in response.iter_bytes():
                    buffer += chunk
                    if len(buffer) > cap:
                        raise ImageTooLarge(f"{location.uri} has more than {cap} bytes (the limit)")
        except httpx.HTTPError as exc:
            raise StorageError(f"cannot read {location.uri}: {type(exc).__name__}: {exc}") from exc
        return bytes(buffer)

    def write(self, location: Location, data: Data, *, content_type: str | None = None) -> str:
        raise AccessDenied(f"cannot write to {location.uri}: http(s) URIs are read-only")

    def stat(self, location: Location) -> ObjectInfo:
        import httpx

        try:
            response = httpx.head(location.uri, timeout=self.timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise StorageError(f"cannot reach {location.uri}: {type(exc).__name__}: {exc}") from exc
        self._check(response, location)
        length = response.headers.get("content-length", "0")
        return ObjectInfo(
            uri=location.uri,
            size=int(length) if length.isdigit() else 0,
            etag=response.headers.get("etag"),
        )

    def list(self, location: Location) -> list[str]:
        if location.key.endswith("/"):
            raise MalformedRequest(f"cannot list {location.uri}: http(s) URLs name single objects")
        return [location.uri]
