"""``ocrprep keys create|list|revoke`` through the CLI, and the keys they make open the API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ocrprep.config import Settings
from ocrprep.server.auth import Authenticator
from ocrprep.server.labelling_db import LabellingStore


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    from ocrprep.cli import app

    home = tmp_path / "home"
    config = tmp_path / "config.yaml"
    config.write_text(f"home: {home}\n")
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, [*args, "--config", str(config)])

    created = run("keys", "create", "pipeline", "--scope", "read", "--scope", "admin")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("ocp_")
    store = LabellingStore(Settings(home=home).db_url)
    principal = Authenticator(store).authenticate(token)
    assert principal.scopes == frozenset({"read", "admin"})
    listed = json.loads(run("keys", "list", "--json").stdout)
    assert [k["name"] for k in listed] == ["pipeline"] and token not in json.dumps(listed)
    assert run("keys", "revoke", listed[0]["id"]).exit_code == 0
    assert json.loads(run("keys", "list", "--json").stdout)[0]["revoked"] is True
    unknown = run("keys", "revoke", "nope")
    assert unknown.exit_code == 2
    bad_scope = run("keys", "create", "x", "--scope", "root")
    assert bad_scope.exit_code == 2


@pytest.mark.slow
def test_serve_command_serves_with_worker_processes(tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time

    import httpx

    home = tmp_path / "home"
    config = tmp_path / "config.yaml"
    config.write_text(f"home: {home}\nstorage:\n  roots: ['{tmp_path}']\n")
    token, _ = LabellingStore(Settings(home=home).db_url).create_key("ci", ["read"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "ocrprep", "serve", "--port", str(port), "--workers", "1",
         "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"http://127.0.0.1:{port}/v1/whoami", headers=headers).json()["name"] == "ci"
        missing = httpx.post(f"http://127.0.0.1:{port}/v1/assess", headers=headers,
                             json={"uri": str(tmp_path / "nothing.png")}, timeout=60)
        assert (missing.status_code, missing.json()["error"]) == (404, "ObjectNotFound")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert '"route": "/v1/assess"' in output  # structured access log on stderr
