"""mem://: the in-memory double behaves like a small versioned object store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ocrprep import storage
from ocrprep.errors import ImageTooLarge, MalformedRequest, ObjectNotFound
from ocrprep.storage import MemoryStore


@pytest.fixture(autouse=True)
def clean() -> Iterator[None]:
    yield
    MemoryStore.reset("mt")


def test_write_read_stat_exists() -> None:
    assert storage.write_bytes("mem://mt/a/b.jpg", b"abc", content_type="image/jpeg") == "mem://mt/a/b.jpg"
    assert storage.read_bytes("mem://mt/a/b.jpg") == b"abc"
    info = storage.stat("mem://mt/a/b.jpg")
    assert (info.size, info.etag) == (3, "900150983cd24fb0d6963f7d28e17f72")
    assert storage.exists("mem://mt/a/b.jpg") and not storage.exists("mem://mt/a/c.jpg")


def test_versions_are_kept_and_addressable() -> None:
    first = MemoryStore.put("mem://mt/k.png", b"one")
    storage.write_bytes("mem://mt/k.png", b"two")
    latest = storage.stat("mem://mt/k.png").version_id
    assert latest != first
    assert storage.read_bytes(f"mem://mt/k.png?versionId={first}") == b"one"
    assert storage.read_bytes("mem://mt/k.png") == b"two"
    with pytest.raises(ObjectNotFound):
        storage.read_bytes("mem://mt/k.png?versionId=nope")


def test_missing_objects_buckets_and_prefixes() -> None:
    for uri in ("mem://mt/none", "mem://nobucket-xyz/a"):
        with pytest.raises(ObjectNotFound):
            storage.read_bytes(uri)
    with pytest.raises(ObjectNotFound):
        storage.list_images("mem://mt/nothing/")


def test_listing_is_recursive_sorted_and_prefix_exact() -> None:
    for key in ("in/b.jpg", "in/a.PNG", "in/sub/c.tif", "in/notes.txt", "in2/x.jpg"):
        storage.write_bytes(f"mem://mt/{key}", b"x")
    expected = ["mem://mt/in/a.PNG", "mem://mt/in/b.jpg", "mem://mt/in/sub/c.tif"]
    assert storage.list_images("mem://mt/in") == expected
    assert storage.list_images("mem://mt/in/") == expected
    assert storage.list_images("mem://mt/in/b.jpg") == ["mem://mt/in/b.jpg"]
    assert len(storage.list_images("mem://mt")) == 4


def test_failed_write_stores_nothing_and_limits_apply() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"part"
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError):
        storage.write_bytes("mem://mt/f.png", chunks())
    assert not storage.exists("mem://mt/f.png")
    storage.write_bytes("mem://mt/big", b"x" * 10)
    with pytest.raises(ImageTooLarge):
        storage.read_bytes("mem://mt/big", max_bytes=9)
    with pytest.raises(MalformedRequest):
        storage.write_bytes("mem://mt/prefix/", b"x")
