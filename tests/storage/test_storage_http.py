"""http(s)://: off by default; when allowed, read-only with a size cap (served on loopback)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ocrprep import storage
from ocrprep.config import StorageOptions
from ocrprep.errors import AccessDenied, ImageTooLarge, ObjectNotFound
from ocrprep.storage.http import HttpStore

BODIES = {"/a.jpg": b"x" * 1000, "/big.jpg": b"y" * 200_000}


class _Handler(BaseHTTPRequestHandler):
    def _send(self, head_only: bool) -> None:
        body = BODIES.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._send(False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_http_is_refused_by_default(server: str) -> None:
    for call in (storage.read_bytes, storage.stat, storage.list_images):
        with pytest.raises(AccessDenied, match="allow_http"):
            call(f"{server}/a.jpg")


def test_http_read_when_allowed(server: str) -> None:
    options = StorageOptions(allow_http=True)
    assert storage.read_bytes(f"{server}/a.jpg", options) == BODIES["/a.jpg"]
    assert storage.stat(f"{server}/a.jpg", options).size == 1000
    assert storage.list_images(f"{server}/a.jpg", options) == [f"{server}/a.jpg"]
    with pytest.raises(ObjectNotFound):
        storage.read_bytes(f"{server}/missing.jpg", options)
    with pytest.raises(AccessDenied, match="read-only"):
        storage.write_bytes(f"{server}/new.jpg", b"x", options)


def test_http_size_cap(server: str) -> None:
    options = StorageOptions(allow_http=True)
    with pytest.raises(ImageTooLarge):
        storage.read_bytes(f"{server}/big.jpg", options, max_bytes=100_000)
    location = storage.parse_uri(f"{server}/big.jpg")
    with pytest.raises(ImageTooLarge):
        HttpStore(max_bytes=50_000).read(location)
