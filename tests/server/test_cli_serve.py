"""``ocrprep keys create|list|revoke`` through the CLI, and the keys they make open the API."""

from __future__ import annotations

import json
from pathlib import Path

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
