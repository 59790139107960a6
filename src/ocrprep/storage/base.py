"""URIs, locations and the :class:`BlobStore` seam every store implements.

Accepted URIs::

    photos/a.jpg, /data/a.jpg        a local path (relative to the working folder)
    file:///data/a.jpg               a local path (percent-decoded; host empty or localhost)
    s3://bucket/key[?versionId=V]    an S3 object, or a prefix when the key ends in / or is empty
    mem://bucket/key[?versionId=V]   an object in the process-wide in-memory store (tests)
    http(s)://host/path              read-only, and only when StorageOptions.allow_http is on

S3 and mem keys are kept verbatim (no percent-decoding, no normalisation of ``..`` or ``//``):
they are names, never local paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable
from urllib.parse import quote, unquote_to_bytes

from ocrprep.errors import MalformedRequest, ObjectNotFound

__all__ = [
    "IMAGE_EXTENSIONS",
    "SCHEMES",
    "BlobStore",
    "ExistsByStat",
    "Data",
    "Location",
    "ObjectInfo",
    "is_image_name",
    "parse_uri",
]

SCHEMES: tuple[str, ...] = ("file", "s3", "mem", "http", "https")
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif")

Data = bytes | bytearray | memoryview | Iterable[bytes]
"""What ``write`` accepts: bytes, or an iterable of byte chunks (streamed to the store)."""

_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_NEAR_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):/?(?!/)")
_VERSION_RE = re.compile(r"\?versionId=([^&?#/]+)$")
_BUCKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


@dataclass(frozen=True)
class Location:
    """A parsed URI.

    Attributes
    ----------
    scheme : str
        One of ``SCHEMES``; bare paths are ``"file"``.
    bucket : str
        S3/mem bucket, or the host of an http(s) URL; ``""`` for local files.
    key : str
        S3/mem object key (or prefix), verbatim; the path and query of an http(s) URL; the path
        as given for a local file.
    path : pathlib.Path or None
        The local path (not yet resolved or checked against roots); ``None`` unless ``file``.
    version_id : str or None
        ``?versionId=`` of an S3/mem URI.
    bare : bool
        True when a local path was given without ``file://`` (results are reported the same way).
    """

    scheme: str
    bucket: str = ""
    key: str = ""
    path: Path | None = None
    version_id: str | None = None
    bare: bool = False

    @property
    def uri(self) -> str:
        """The canonical URI (a bare path stays a bare path)."""
        if self.scheme == "file":
            assert self.path is not None
            return local_uri(self.path, bare=self.bare)
        if self.scheme in ("http", "https"):
            return f"{self.scheme}://{self.bucket}{self.key}"
        version = f"?versionId={self.version_id}" if self.version_id else ""
        return f"{self.scheme}://{self.bucket}/{self.key}{version}"

    @property
    def is_prefix(self) -> bool:
        """True for an S3/mem URI naming a folder-like prefix (empty key or trailing ``/``)."""
        return self.scheme in ("s3", "mem") and (self.key == "" or self.key.endswith("/"))

    def with_key(self, key: str) -> Location:
        """The same bucket with another key (no version)."""
        return Location(self.scheme, self.bucket, key)

    def __str__(self) -> str:
        return self.uri


def local_uri(path: Path | str, *, bare: bool) -> str:
    """A local path as a bare path or an absolute ``file://`` URI."""
    if bare:
        return str(path)
    # bytes via os.fsencode so undecodable file names (surrogate escapes) round-trip too
    return "file://" + quote(os.fsencode(Path(path).absolute()), safe="/:@!$&'()*+,;=-._~")


@dataclass(frozen=True)
class ObjectInfo:
    """Metadata of one stored object."""

    uri: str
    size: int
    etag: str | None = None
    version_id: str | None = None
    modified: datetime | None = None


def parse_uri(uri: str | os.PathLike[str]) -> Location:
    """Parse a URI or a local path into a :class:`Location`.

    Parameters
    ----------
    uri : str or os.PathLike
        See the module docstring for the accepted forms; a path object is a local path.

    Returns
    -------
    Location

    Raises
    ------
    MalformedRequest
        Empty input, an unknown scheme, a ``file://`` URI naming another host, or an S3/mem URI
        without a valid bucket.

    Examples
    --------
    >>> loc = parse_uri("s3://receipts/2024/a.jpg?versionId=v1")
    >>> loc.bucket, loc.key, loc.version_id
    ('receipts', '2024/a.jpg', 'v1')
    >>> parse_uri("scans/a.png").path
    PosixPath('scans/a.png')
    """
    if isinstance(uri, os.PathLike):
        path = Path(os.fspath(uri))
        return Location("file", key=str(path), path=path, bare=True)
    if not isinstance(uri, str):
        raise MalformedRequest(f"a URI must be a string, not {type(uri).__name__}")
    if not uri or "\x00" in uri:
        raise MalformedRequest("empty URI or path" if not uri else "a URI must not contain NUL")
    match = _SCHEME_RE.match(uri)
    if match is None:
        typo = _NEAR_SCHEME_RE.match(uri)
        if typo is not None and typo.group(1).lower() in SCHEMES:
            scheme = typo.group(1).lower()
            raise MalformedRequest(
                f"{uri!r} looks like a {scheme} URI without '//': write {scheme}://"
                f"{uri[typo.end():].lstrip('/')}"
            )
        return Location("file", key=uri, path=Path(uri), bare=True)
    scheme = match.group(1).lower()
    rest = uri[match.end() :]
    if scheme not in SCHEMES:
        raise MalformedRequest(
            f"unsupported URI scheme {scheme!r} in {uri!r}: use a local path, "
            + ", ".join(f"{s}://" for s in SCHEMES)
        )
    if scheme == "file":
        host, slash, path = rest.partition("/")
        if host not in ("", "localhost"):
            raise MalformedRequest(
                f"file URI {uri!r} names host {host!r}: write file:///absolute/path"
            )
        text = os.fsdecode(unquote_to_bytes(slash + path))
        if not text:
            raise MalformedRequest(f"file URI {uri!r} has no path")
        return Location("file", key=text, path=Path(text))
    if scheme in ("http", "https"):
        host, slash, path = rest.partition("/")
        if not host:
            raise MalformedRequest(f"URL {uri!r} has no host")
        return Location(scheme, bucket=host, key=slash + path)
    bucket, _, key = rest.partition("/")
    version: str | None = None
    found = _VERSION_RE.search(key)
    if found is not None:
        version = found.group(1)
        key = key[: found.start()]
    if not _BUCKET_RE.match(bucket):
        raise MalformedRequest(f"{scheme} URI {uri!r} has no valid bucket name")
    return Location(scheme, bucket=bucket, key=key, version_id=version)


def is_image_name(name: str) -> bool:
    """True when ``name`` ends with one of ``IMAGE_EXTENSIONS`` (case-insensitive)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


@runtime_checkable
class BlobStore(Protocol):
    """A place that holds objects by URI: local folders, S3, memory, http (read-only)."""

    def read(self, location: Location, *, max_bytes: int | None = None) -> bytes:
        """The object's bytes; ``ObjectNotFound`` when missing, ``ImageTooLarge`` over ``max_bytes``."""
        ...

    def write(self, location: Location, data: Data, *, content_type: str | None = None) -> str:
        """Store ``data`` atomically (all or nothing) and return the URI written."""
        ...

    def exists(self, location: Location) -> bool:
        """True when an object (not a folder/prefix) exists at the location."""
        ...

    def stat(self, location: Location) -> ObjectInfo:
        """The object's metadata; ``ObjectNotFound`` when missing."""
        ...

    def list(self, location: Location) -> list[str]:
        """The location itself when it is an object, else every object below it, sorted URIs."""
        ...


class ExistsByStat:
    """``exists`` for a store whose ``stat`` raises :class:`ObjectNotFound` when there is none."""

    def stat(self, location: Location) -> ObjectInfo:  # pragma: no cover - provided by the store
        raise NotImplementedError

    def exists(self, location: Location) -> bool:
        """True when ``stat`` finds an object at the location."""
        try:
            self.stat(location)
        except ObjectNotFound:
            return False
        return True

