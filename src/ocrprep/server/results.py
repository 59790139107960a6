"""Recent results for the dashboard: a bounded JSON-lines log shared by the worker processes.

Each image call appends one short line (``O_APPEND``, one ``write``: lines from several worker
processes do not interleave); the dashboard reads the tail. The file is rotated once it passes
``max_bytes`` (the previous one is kept as ``.1``). With no path, results are kept in memory.
"""

from __future__ import annotations

import json
import os
import threading
from collections import deque
from pathlib import Path
from typing import Any

__all__ = ["RecentResults"]


class RecentResults:
    """Append results; read the newest ones back, newest first."""

    def __init__(self, path: Path | None, *, keep: int = 200, max_bytes: int = 4 * 1024 * 1024):
        self.path = path
        self.keep = keep
        self.max_bytes = max_bytes
        self._memory: deque[dict[str, Any]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                self.path = None  # best effort: keep them in memory instead

    def append(self, entry: dict[str, Any]) -> None:
        if self.path is None:
            with self._lock:
                self._memory.append(entry)
            return
        line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size > self.max_bytes:
                with self._lock:
                    if self.path.exists() and self.path.stat().st_size > self.max_bytes:
                        os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        except OSError:
            with self._lock:  # the dashboard is best effort; never fail a call for it
                self._memory.append(entry)

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` entries, newest first."""
        entries: list[dict[str, Any]] = []
        if self.path is not None and self.path.exists():
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 256 * 1024))
                lines = handle.read().splitlines()
            if size > 256 * 1024:
                lines = lines[1:]  # the first may be cut
            for raw in lines[-limit:]:
                try:
                    entries.append(json.loads(raw))
                except ValueError:
                    continue
        with self._lock:
            entries.extend(self._memory)
        return list(reversed(entries[-limit:]))

    def find(self, entry_id: str) -> dict[str, Any] | None:
        for entry in self.recent(self.keep):
            if entry.get("id") == entry_id:
                return entry
        return None
