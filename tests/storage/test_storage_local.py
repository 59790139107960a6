"""Local storage: confinement to roots, atomic writes under injected faults, listing, stat."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocrprep import storage
from ocrprep.config import StorageOptions
from ocrprep.errors import AccessDenied, ImageTooLarge, MalformedRequest, ObjectNotFound, StorageError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.jpg").write_bytes(b"secret")
    return folder


def opts(*roots: Path) -> StorageOptions:
    return StorageOptions(roots=roots)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- confinement


def test_read_write_inside_a_root(root: Path) -> None:
    uri = storage.write_bytes(str(root / "a" / "b.jpg"), b"data", opts(root))
    assert uri == str(root / "a" / "b.jpg")
    assert storage.read_bytes(uri, opts(root)) == b"data"
    assert storage.read_bytes(f"file://{root}/a/b.jpg", opts(root)) == b"data"
    assert storage.exists(uri, opts(root)) and not storage.exists(str(root / "a"), opts(root))


def test_dotdot_that_escapes_is_refused(root: Path, outside: Path) -> None:
    with pytest.raises(AccessDenied, match="outside the allowed roots"):
        storage.read_bytes(f"{root}/../outside/secret.jpg", opts(root))
    with pytest.raises(AccessDenied):
        storage.write_bytes(f"{root}/../outside/new.jpg", b"x", opts(root))
    assert not (outside / "new.jpg").exists()


def test_dotdot_that_stays_inside_is_allowed(root: Path) -> None:
    (root / "sub").mkdir()
    (root / "a.jpg").write_bytes(b"a")
    assert storage.read_bytes(f"{root}/sub/../a.jpg", opts(root)) == b"a"


def test_absolute_path_outside_every_root_is_refused(root: Path, outside: Path) -> None:
    with pytest.raises(AccessDenied):
        storage.read_bytes(str(outside / "secret.jpg"), opts(root))
    with pytest.raises(AccessDenied):
        storage.stat(f"file://{outside}/secret.jpg", opts(root))
    with pytest.raises(AccessDenied):
        storage.list_images(str(outside), opts(root))
    assert storage.read_bytes(str(outside / "secret.jpg"), opts(root, outside)) == b"secret"


def test_symlink_leaving_the_root_is_refused(root: Path, outside: Path) -> None:
    (root / "link.jpg").symlink_to(outside / "secret.jpg")
    (root / "dir").symlink_to(outside, target_is_directory=True)
    for uri in (root / "link.jpg", root / "dir" / "secret.jpg"):
        with pytest.raises(AccessDenied):
            storage.read_bytes(str(uri), opts(root))
    with pytest.raises(AccessDenied):
        storage.write_bytes(str(root / "dir" / "planted.jpg"), b"x", opts(root))
    assert not (outside / "planted.jpg").exists()


def test_symlink_within_the_root_is_followed(root: Path) -> None:
    (root / "real.jpg").write_bytes(b"real")
    (root / "alias.jpg").symlink_to(root / "real.jpg")
    assert storage.read_bytes(str(root / "alias.jpg"), opts(root)) == b"real"


def test_listing_skips_symlinks_leaving_the_root(root: Path, outside: Path) -> None:
    (root / "ok.jpg").write_bytes(b"1")
    (root / "leak.jpg").symlink_to(outside / "secret.jpg")
    (root / "dir").symlink_to(outside, target_is_directory=True)
    assert storage.list_images(str(root), opts(root)) == [str(root / "ok.jpg")]


def test_no_roots_means_the_working_folder(root: Path, outside: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    assert storage.write_bytes("in/a.png", b"x") == "in/a.png"
    assert (root / "in" / "a.png").read_bytes() == b"x"
    assert storage.list_images("in") == ["in/a.png"]
    for uri in ("../outside/secret.jpg", str(outside / "secret.jpg")):
        with pytest.raises(AccessDenied):
            storage.read_bytes(uri)


def test_missing_and_folder_and_size_limit(root: Path) -> None:
    with pytest.raises(ObjectNotFound):
        storage.read_bytes(str(root / "none.jpg"), opts(root))
    with pytest.raises(ObjectNotFound):
        storage.stat(str(root / "none.jpg"), opts(root))
    with pytest.raises(ObjectNotFound):
        storage.list_images(str(root / "none"), opts(root))
    with pytest.raises(MalformedRequest, match="folder"):
        storage.read_bytes(str(root), opts(root))
    (root / "big.jpg").write_bytes(b"x" * 100)
    with pytest.raises(ImageTooLarge):
        storage.read_bytes(str(root / "big.jpg"), opts(root), max_bytes=99)
    assert len(storage.read_bytes(str(root / "big.jpg"), opts(root), max_bytes=100)) == 100


# ---------------------------------------------------------------- atomic writes


def test_failing_data_source_leaves_the_old_file_and_no_temp(root: Path) -> None:
    target = root / "out.png"
    target.write_bytes(b"old")

    def chunks() -> Iterator[bytes]:
        yield b"new part one"
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError, match="encoder failed"):
        storage.write_bytes(str(target), chunks(), opts(root))
    assert target.read_bytes() == b"old"
    assert leftovers(root) == []


def test_failing_data_source_creates_nothing_new(root: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x" * 1000
        raise ValueError("boom")

    with pytest.raises(ValueError):
        storage.write_bytes(str(root / "fresh.png"), chunks(), opts(root))
    assert sorted(p.name for p in root.iterdir()) == []


def test_failing_rename_leaves_no_partial_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = root / "out.png"
    target.write_bytes(b"old")

    def broken_replace(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StorageError, match="No space left"):
        storage.write_bytes(str(target), b"new", opts(root))
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert leftovers(root) == []


def test_writing_over_a_folder_fails_cleanly(root: Path) -> None:
    (root / "taken.png").mkdir()
    with pytest.raises(StorageError):
        storage.write_bytes(str(root / "taken.png"), b"x", opts(root))
    assert leftovers(root) == []


def test_overwrite_replaces_whole_content(root: Path) -> None:
    target = str(root / "o.bin")
    storage.write_bytes(target, b"a" * 1000, opts(root))
    storage.write_bytes(target, [b"b", b"c"], opts(root))
    assert storage.read_bytes(target, opts(root)) == b"bc"
    assert leftovers(root) == []


# ---------------------------------------------------------------- listing and stat


def test_list_images_is_recursive_sorted_and_by_extension(root: Path) -> None:
    names = ["b.JPG", "a.png", "sub/c.tiff", "sub/deeper/d.webp", "e.gif", "f.bmp", "g.tif",
             "h.jpeg", "notes.txt", "sub/readme.md", "x.pdf"]
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x")
    found = storage.list_images(str(root), opts(root))
    expected = sorted(str(root / n) for n in names if not n.endswith((".txt", ".md", ".pdf")))
    assert found == expected
    as_uris = storage.list_images(f"file://{root}/sub", opts(root))
    assert as_uris == [f"file://{root}/sub/c.tiff", f"file://{root}/sub/deeper/d.webp"]
    assert storage.list_images(str(root / "notes.txt"), opts(root)) == [str(root / "notes.txt")]


def test_stat_reports_size_and_changes_etag(root: Path) -> None:
    target = str(root / "s.jpg")
    storage.write_bytes(target, b"12345", opts(root))
    first = storage.stat(target, opts(root))
    assert first.size == 5 and first.uri == target and first.modified is not None
    storage.write_bytes(target, b"123456", opts(root))
    assert storage.stat(target, opts(root)).etag != first.etag


def test_concurrent_writers_leave_one_complete_version(root: Path) -> None:
    import threading

    target = str(root / "same.png")
    payloads = [bytes([i]) * 300_000 for i in range(8)]

    def write(data: bytes) -> None:
        storage.write_bytes(target, [data[:100_000], data[100_000:]], opts(root))

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert storage.read_bytes(target, opts(root)) in payloads
    assert leftovers(root) == []
