"""CLI commands of the server: ``ocrprep serve`` and ``ocrprep keys create|list|revoke``.

Mounted into the ``ocrprep`` app with :func:`register`::

    ocrprep serve [--host 127.0.0.1] [--port 8080] [--workers N] [--max-upload-mb 20]

One async HTTP process (uvicorn) serves every request and hands the image calls to N worker
processes (default: one per core), first come first served.
    ocrprep keys create NAME [--scope read|admin]...   (prints the key once)
    ocrprep keys list [--json]
    ocrprep keys revoke KEY_ID
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ocrprep.cli_common import ConfigOpt, err, out
from ocrprep.cli_common import exit_on_error as _errors
from ocrprep.config import load_settings

__all__ = ["keys_app", "register", "serve"]


keys_app = typer.Typer(help="API keys for `ocrprep serve` (stored hashed).", no_args_is_help=True)




def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8080).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Processes for image calls (default: one per core).")
    ] = None,
    max_upload_mb: Annotated[
        float | None, typer.Option(help="Largest request body in MiB (default 20).")
    ] = None,
    cors_origin: Annotated[
        list[str] | None, typer.Option(help="Allow this origin by CORS (repeat; default none).")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the HTTP API, the labelling pages and the dashboard (API keys required)."""
    import uvicorn

    from ocrprep.server.app import create_app
    from ocrprep.server.logging import configure_logging
    from ocrprep.server.options import server_options

    with _errors():
        settings = load_settings(config)
        options = server_options(
            settings, host=host, port=port, workers=workers,
            max_upload_bytes=int(max_upload_mb * 1024 * 1024) if max_upload_mb else None,
            cors_origins=tuple(cors_origin) if cors_origin else None,
        )
    configure_logging(options.log_level)
    with _errors():
        app = create_app(settings, options=options)
    err.print(f"ocrprep serving on http://{options.host}:{options.port} with "
              f"{options.processes()} image worker process(es); API docs at /docs")
    uvicorn.run(app, host=options.host, port=options.port, log_config=None, access_log=False,
                proxy_headers=False, server_header=False)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="read (default) or admin; repeatable.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from ocrprep.server.labelling_db import LabellingStore

    with _errors():
        store = LabellingStore(load_settings(config).db_url)
        token, info = store.create_key(name, scope or ["read"])
    err.print(f"key {info.id} ({', '.join(info.scopes)}) for {name!r}; it is shown only now:")
    typer.echo(token)


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """List API keys (never the keys themselves)."""
    from ocrprep.server.labelling_db import LabellingStore

    with _errors():
        keys = LabellingStore(load_settings(config).db_url).list_keys()
    if as_json:
        typer.echo(json.dumps([key.to_dict() for key in keys]))
        return
    table = Table(title="API keys")
    for column in ("id", "name", "scopes", "created", "revoked"):
        table.add_column(column)
    for key in keys:
        table.add_row(key.id, key.name, ", ".join(key.scopes),
                      key.created_at.isoformat(timespec="seconds") if key.created_at else "",
                      key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "")
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `ocrprep keys list`).")],
    config: ConfigOpt = None,
) -> None:
    """Revoke an API key (servers stop accepting it within their credential cache time)."""
    from ocrprep.server.labelling_db import LabellingStore

    with _errors():
        info = LabellingStore(load_settings(config).db_url).revoke_key(key_id)
    err.print(f"revoked key {info.id} ({info.name})")


def register(app: typer.Typer) -> None:
    """Mount ``serve`` and the ``keys`` group on ``app``."""
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
