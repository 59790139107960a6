"""Local files, confined to configured roots, with atomic writes.

Confinement: every path is made absolute (relative paths are relative to the working folder) and
resolved with ``os.path.realpath`` (symlinks followed, ``..`` collapsed); the result must lie inside
one of the resolved roots, else :class:`~ocrprep.errors.AccessDenied`. So ``..`` that escapes, a
symlink leading outside, and an absolute path elsewhere are all refused. ``StorageOptions.roots``
empty means the working folder (at the time of the call) is the only root. The final component is
opened with ``O_NOFOLLOW`` so a symlink swapped in after the check is not followed.

Writes go to a temporary file in the destination folder, are flushed and fsynced, then moved over
the destination with ``os.replace``: readers see the old object or the new one, never a part. On
any failure (including an exception raised by the caller's data iterator) the temporary file is
removed.
"""

from __future__ import annotations

import errno
import os
import stat as _stat
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ocrprep.errors import AccessDenied, ImageTooLarge, MalformedRequest, ObjectNotFound, StorageError
from ocrprep.storage.base import Data, Location, ObjectInfo, local_uri

__all__ = ["LocalStore"]

_CHUNK = 1 << 20


class LocalStore:
    """Files under a set of root folders.

    Parameters
    ----------
    roots : sequence of path-like
        Folders that may be read and written; empty means the working folder.

    Examples
    --------
    >>> import tempfile
    >>> from ocrprep.storage.base import parse_uri
    >>> with tempfile.TemporaryDirectory() as root:
    ...     store = LocalStore([root])
    ...     _ = store.write(parse_uri(root + "/a/b.txt"), b"hi")
    ...     store.read(parse_uri(root + "/a/b.txt"))
    b'hi'
    """

    def __init__(self, roots: Sequence[os.PathLike[str] | str] = ()) -> None:
        self._roots = tuple(Path(r) for r in roots)

    @property
    def roots(self) -> tuple[Path, ...]:
        """The resolved roots (the working folder when none were configured)."""
        roots = self._roots or (Path.cwd(),)
        return tuple(Path(os.path.realpath(r.expanduser())) for r in roots)

    def resolve(self, location: Location) -> Path:
        """The real path of a local location, checked against the roots.

        Raises
        ------
        AccessDenied
            The path resolves outside every root.
        """
        if location.path is None:
            raise MalformedRequest(f"{location.uri} is not a local path")
        given = location.path.expanduser()
        real = Path(os.path.realpath(given.absolute()))
        roots = self.roots
        if not any(real == root or real.is_relative_to(root) for root in roots):
            names = ", ".join(str(r) for r in roots)
            raise AccessDenied(
                f"{location.uri} resolves to {real}, outside the allowed roots ({names}); "
                "add its folder to storage.roots to allow it"
            )
        return real

    def read(self, location: Location, *, max_bytes: int | None = None) -> bytes:
        path = self.resolve(location)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no file at {location.uri}") from exc
        except IsADirectoryError as exc:
            raise MalformedRequest(f"{location.uri} is a folder, not a file") from exc
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise AccessDenied(f"{location.uri} became a symlink while being opened") from exc
            raise StorageError(f"cannot open {location.uri}: {exc.strerror or exc}") from exc
        try:
            info = os.fstat(fd)
        except OSError as exc:
            os.close(fd)
            raise StorageError(f"cannot stat {location.uri}: {exc.strerror or exc}") from exc
        if not _stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise MalformedRequest(f"{location.uri} is a folder or a device, not a file")
        size = info.st_size
        with os.fdopen(fd, "rb") as handle:
            try:
                if max_bytes is not None and size > max_bytes:
                    raise ImageTooLarge(
                        f"{location.uri} has {size} bytes, more than the limit of {max_bytes}"
                    )
                data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
            except OSError as exc:
                raise StorageError(f"cannot read {location.uri}: {exc.strerror or exc}") from exc
        if max_bytes is not None and len(data) > max_bytes:
            raise ImageTooLarge(f"{location.uri} has more than {max_bytes} bytes (the limit)")
        return data

    def write(self, location: Location, data: Data, *, content_type: str | None = None) -> str:
        path = self.resolve(location)
        chunks: Iterable[bytes] = (
            (bytes(data),) if isinstance(data, (bytes, bytearray, memoryview)) else data
        )
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create folder {folder}: {exc.strerror or exc}") from exc
        # the created folders might be symlinks planted meanwhile: check again
        self.resolve(Location("file", key=str(path), path=path))
        tmp_name: str | None = None
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
            tmp_name = None
        except OSError as exc:
            raise StorageError(f"cannot write {location.uri}: {exc.strerror or exc}") from exc
        finally:
            if tmp_name is not None:
                try:
                    os.unlink(tmp_name)
                except OSError:
                    pass
        _fsync_folder(folder)
        return location.uri

    def exists(self, location: Location) -> bool:
        return self.resolve(location).is_file()

    def stat(self, location: Location) -> ObjectInfo:
        path = self.resolve(location)
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise ObjectNotFound(f"no file at {location.uri}") from exc
        except OSError as exc:
            raise StorageError(f"cannot stat {location.uri}: {exc.strerror or exc}") from exc
        if not path.is_file():
            raise MalformedRequest(f"{location.uri} is a folder, not a file")
        etag = f"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"
        return ObjectInfo(
            uri=location.uri,
            size=st.st_size,
            etag=etag,
            modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
        )

    def list(self, location: Location) -> list[str]:
        path = self.resolve(location)
        if path.is_file():
            return [location.uri]
        if not path.is_dir():
            raise ObjectNotFound(f"no file or folder at {location.uri}")
        # report results under the path as given (not the resolved one), in the same style
        assert location.path is not None
        given = location.path.expanduser()
        base = given if location.bare else given.absolute()
        roots = self.roots
        found: list[str] = []
        for folder, dirs, files in os.walk(path, followlinks=False, onerror=None):
            dirs.sort()
            relative = Path(folder).relative_to(path)
            for name in files:
                real = Path(os.path.realpath(Path(folder) / name))
                if not real.is_file():
                    continue
                if not any(real == r or real.is_relative_to(r) for r in roots):
                    continue  # a symlink leading outside the roots is not listed
                found.append(local_uri(base / relative / name, bare=location.bare))
        return sorted(found)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
