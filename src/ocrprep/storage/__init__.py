"""Storage by URI: local paths, ``file://``, ``s3://``, ``mem://`` and (opt-in) ``http(s)://``.

Every function takes a URI (or a bare local path) and optional :class:`StorageOptions`
(``None`` means the defaults: the working folder is the only local root, http off). Local access
is confined to ``options.roots``; writes are atomic everywhere.

>>> from ocrprep import storage
>>> storage.write_bytes("mem://docs/in/a.jpg", b"...")
'mem://docs/in/a.jpg'
>>> storage.list_images("mem://docs/in/")
['mem://docs/in/a.jpg']
>>> storage.join("s3://bucket/out/", "a.png")
's3://bucket/out/a.png'
>>> storage.MemoryStore.reset()
"""

from __future__ import annotations

import os
from pathlib import PurePosixPath

from ocrprep.config import StorageOptions
from ocrprep.errors import AccessDenied, MalformedRequest
from ocrprep.storage.base import (
    IMAGE_EXTENSIONS,
    SCHEMES,
    BlobStore,
    Data,
    Location,
    ObjectInfo,
    is_image_name,
    parse_uri,
)
from ocrprep.storage.http import HttpStore
from ocrprep.storage.local import LocalStore
from ocrprep.storage.memory import MemoryStore

UriLike = str | os.PathLike[str] | Location
"""What the storage functions accept: a URI, a local path, or a parsed :class:`Location`."""

__all__ = [
    "UriLike",
    "IMAGE_EXTENSIONS",
    "SCHEMES",
    "BlobStore",
    "Data",
    "HttpStore",
    "LocalStore",
    "Location",
    "MemoryStore",
    "ObjectInfo",
    "exists",
    "is_image_name",
    "join",
    "list_images",
    "list_objects",
    "open_store",
    "parse_uri",
    "read_bytes",
    "stat",
    "write_bytes",
]


def open_store(uri: UriLike, options: StorageOptions | None = None) -> BlobStore:
    """The store that serves ``uri``'s scheme, configured from ``options``.

    Raises
    ------
    AccessDenied
        An http(s) URI while ``options.allow_http`` is off.
    MalformedRequest
        The URI cannot be parsed.
    """
    options = options or StorageOptions()
    location = uri if isinstance(uri, Location) else parse_uri(uri)
    if location.scheme == "file":
        return LocalStore(options.roots)
    if location.scheme == "mem":
        return MemoryStore()
    if location.scheme == "s3":
        from ocrprep.storage.s3 import S3Store

        return S3Store(options.s3_endpoint_url, options.s3_region)
    if not options.allow_http:
        raise AccessDenied(
            f"{location.uri}: http(s) inputs are off; set storage.allow_http to read them"
        )
    return HttpStore()


def _resolve(uri: UriLike, options: StorageOptions | None) -> tuple[BlobStore, Location]:
    location = uri if isinstance(uri, Location) else parse_uri(uri)
    return open_store(location, options), location


def read_bytes(
    uri: UriLike, options: StorageOptions | None = None, *, max_bytes: int | None = None
) -> bytes:
    """The bytes of the object at ``uri``.

    Parameters
    ----------
    uri : str or Location
        Local path or URI.
    options : StorageOptions, optional
        Roots, http switch, S3 endpoint.
    max_bytes : int, optional
        Refuse objects larger than this (checked from the size before reading where possible).

    Raises
    ------
    ObjectNotFound
        Nothing at ``uri``.
    AccessDenied
        Outside the roots, http off, or S3 403.
    ImageTooLarge
        More than ``max_bytes``.
    StorageError
        The store failed.

    Examples
    --------
    >>> _ = write_bytes("mem://ex/k", b"abc")
    >>> read_bytes("mem://ex/k")
    b'abc'
    """
    store, location = _resolve(uri, options)
    return store.read(location, max_bytes=max_bytes)


def write_bytes(
    uri: UriLike,
    data: Data,
    options: StorageOptions | None = None,
    *,
    content_type: str | None = None,
) -> str:
    """Write ``data`` (bytes, or an iterable of chunks) atomically and return the URI written.

    Locally the data goes to a temporary file in the destination folder, then ``os.replace``; on
    any failure, including an exception from the chunk iterator, nothing is left behind. On S3 a
    single ``put_object`` (the returned URI carries no ``versionId``).

    Examples
    --------
    >>> write_bytes("mem://ex/out.txt", [b"a", b"b"])
    'mem://ex/out.txt'
    """
    store, location = _resolve(uri, options)
    return store.write(location, data, content_type=content_type)


def stat(uri: UriLike, options: StorageOptions | None = None) -> ObjectInfo:
    """Size, etag, version id and modification time of the object at ``uri``.

    Examples
    --------
    >>> _ = write_bytes("mem://ex/s", b"12345")
    >>> stat("mem://ex/s").size
    5
    """
    store, location = _resolve(uri, options)
    return store.stat(location)


def exists(uri: UriLike, options: StorageOptions | None = None) -> bool:
    """True when an object (not a folder or prefix) exists at ``uri``.

    Examples
    --------
    >>> exists("mem://ex/never-written")
    False
    """
    store, location = _resolve(uri, options)
    return store.exists(location)


def list_objects(uri: UriLike, options: StorageOptions | None = None) -> list[str]:
    """``[uri]`` for an object, else every object below the folder or prefix, sorted.

    Raises
    ------
    ObjectNotFound
        No object at ``uri`` and no folder (or, for S3/mem, no object below the prefix).
    """
    store, location = _resolve(uri, options)
    return store.list(location)


def list_images(uri: UriLike, options: StorageOptions | None = None) -> list[str]:
    """Image URIs at ``uri``: ``[uri]`` for a file, else the images below a folder or prefix.

    Images below a folder are found recursively by extension (``IMAGE_EXTENSIONS``, any case)
    and returned sorted, in the same style as ``uri`` (bare path, ``file://``, ``s3://``, ...).
    A single object is returned whatever its extension.

    Examples
    --------
    >>> _ = write_bytes("mem://ex/pics/b.PNG", b"x"); _ = write_bytes("mem://ex/pics/notes.txt", b"x")
    >>> list_images("mem://ex/pics")
    ['mem://ex/pics/b.PNG']
    """
    store, location = _resolve(uri, options)
    found = store.list(location)
    if len(found) == 1 and found[0] == location.uri:
        return found
    return [u for u in found if is_image_name(parse_uri(u).key)]


def join(prefix_uri: str | os.PathLike[str], name: str) -> str:
    """``name`` placed under a folder or prefix URI (one ``/`` between them).

    Raises
    ------
    MalformedRequest
        ``name`` is empty, absolute, or has ``..`` segments.

    Examples
    --------
    >>> join("s3://b/out", "x/y.png"), join("out", "y.png")
    ('s3://b/out/x/y.png', 'out/y.png')
    """
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or ".." in parts or "\x00" in name:
        raise MalformedRequest(f"cannot join {name!r}: give a relative name without '..'")
    location = parse_uri(prefix_uri)
    if location.scheme == "file":
        assert location.path is not None
        joined = Location("file", path=location.path / name, key=str(location.path / name), bare=location.bare)
        return joined.uri
    if location.scheme in ("http", "https"):
        raise MalformedRequest(f"cannot write under {prefix_uri}: http(s) URIs are read-only")
    key = f"{location.key.rstrip('/')}/{name}" if location.key.strip("/") else name
    return location.with_key(key).uri

