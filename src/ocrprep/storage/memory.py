"""``mem://bucket/key``: a process-wide, thread-safe in-memory store, the double used by tests.

Buckets are created on first write. Every write creates a new version (``?versionId=`` reads an
older one), so code that names outputs after the input's version can be tested without S3.

>>> from ocrprep import storage
>>> storage.write_bytes("mem://doctest/a.png", b"x")
'mem://doctest/a.png'
>>> storage.read_bytes("mem://doctest/a.png")
b'x'
>>> MemoryStore.reset()
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from ocrprep.errors import ImageTooLarge, MalformedRequest, ObjectNotFound
from ocrprep.storage.base import Data, Location, ObjectInfo

__all__ = ["MemoryStore"]


@dataclass(frozen=True)
class _Version:
    data: bytes
    version_id: str
    modified: datetime
    content_type: str | None


class MemoryStore:
    """Objects in a dictionary shared by the whole process (``mem://`` URIs)."""

    _lock = threading.Lock()
    _buckets: dict[str, dict[str, list[_Version]]] = {}
    _counter = itertools.count(1)

    @classmethod
    def reset(cls, bucket: str | None = None) -> None:
        """Forget every object (or every object in one bucket)."""
        with cls._lock:
            if bucket is None:
                cls._buckets.clear()
            else:
                cls._buckets.pop(bucket, None)

    @classmethod
    def put(cls, uri: str, data: bytes, *, content_type: str | None = None) -> str:
        """Store ``data`` at a ``mem://`` URI and return its new version id (a test helper)."""
        from ocrprep.storage.base import parse_uri

        location = parse_uri(uri)
        if location.scheme != "mem":
            raise MalformedRequest(f"MemoryStore.put needs a mem:// URI, not {uri!r}")
        return cls()._put(location, bytes(data), content_type)

    def _put(self, location: Location, data: bytes, content_type: str | None) -> str:
        if not location.key or location.key.endswith("/"):
            raise MalformedRequest(f"{location.uri} names a prefix, not an object")
        version = _Version(data, f"v{next(self._counter)}", datetime.now(UTC), content_type)
        with self._lock:
            self._buckets.setdefault(location.bucket, {}).setdefault(location.key, []).append(version)
        return version.version_id

    def _get(self, location: Location) -> _Version:
        with self._lock:
            versions = list(self._buckets.get(location.bucket, {}).get(location.key, ()))
        if location.version_id is None:
            if versions:
                return versions[-1]
        else:
            for version in versions:
                if version.version_id == location.version_id:
                    return version
        raise ObjectNotFound(f"no object at {location.uri}")

    def read(self, location: Location, *, max_bytes: int | None = None) -> bytes:
        data = self._get(location).data
        if max_bytes is not None and len(data) > max_bytes:
            raise ImageTooLarge(f"{location.uri} has {len(data)} bytes, more than the limit of {max_bytes}")
        return data

    def write(self, location: Location, data: Data, *, content_type: str | None = None) -> str:
        if isinstance(data, (bytes, bytearray, memoryview)):
            payload = bytes(data)
        else:
            chunks: Iterable[bytes] = data
            payload = b"".join(chunks)  # an exception here stores nothing
        self._put(location, payload, content_type)
        return location.with_key(location.key).uri

    def exists(self, location: Location) -> bool:
        try:
            self._get(location)
        except ObjectNotFound:
            return False
        return True

    def stat(self, location: Location) -> ObjectInfo:
        version = self._get(location)
        return ObjectInfo(
            uri=location.uri,
            size=len(version.data),
            etag=hashlib.md5(version.data, usedforsecurity=False).hexdigest(),
            version_id=version.version_id,
            modified=version.modified,
        )

    def list(self, location: Location) -> list[str]:
        with self._lock:
            bucket = self._buckets.get(location.bucket)
            keys = sorted(k for k, v in bucket.items() if v) if bucket else []
        if location.key and not location.key.endswith("/") and location.key in keys:
            return [location.with_key(location.key).uri]
        prefix = location.key if not location.key or location.key.endswith("/") else location.key + "/"
        found = [location.with_key(k).uri for k in keys if k.startswith(prefix)]
        if not found:
            raise ObjectNotFound(f"no object at or below {location.uri}")
        return found
