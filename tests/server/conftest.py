"""Fixtures for the server tests: live servers with fake or real core functions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _serve_support import Server, fake_services, live_server, make_settings

from ocrprep.server import ServerOptions, create_app


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    """Start servers on demand: ``server_factory(services=..., options=...)``."""
    stack: list[Any] = []

    def start(**kwargs: Any) -> Server:
        settings = kwargs.pop("settings", None) or make_settings(tmp_path)
        kwargs.setdefault("options", ServerOptions(workers=0))  # threads: quick to start
        app = create_app(settings, **kwargs)
        store = app.state.ocrprep.store
        admin, _ = store.create_key("admin-test", ["admin"])
        reader, _ = store.create_key("reader-test", ["read"])
        manager = live_server(app)
        url = manager.__enter__()
        stack.append(manager)
        client = httpx.Client(base_url=url, timeout=60)
        stack.append(client)
        return Server(url, app, store, admin, reader, settings, client)

    yield start
    for item in reversed(stack):
        if isinstance(item, httpx.Client):
            item.close()
        else:
            item.__exit__(None, None, None)


@pytest.fixture
def server(server_factory: Any) -> Server:
    """A live server with fake core functions."""
    return server_factory(services=fake_services())
