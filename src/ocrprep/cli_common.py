"""What every command group of the ``ocrprep`` CLI shares: options, consoles, error exits.

Errors become their class's exit code here, in one place, with the class name and the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ocrprep.errors import OcrprepError

__all__ = ["ConfigOpt", "JsonOpt", "err", "exit_on_error", "fail", "out"]

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Config file (YAML).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(exc: OcrprepError) -> typer.Exit:
    """Print ``exc`` on standard error and return the exit that carries its code."""
    err.print(f"[red]{type(exc).__name__}[/red]: {escape(exc.message)}")
    return typer.Exit(exc.exit_code)


@contextmanager
def exit_on_error() -> Iterator[None]:
    """Turn an :class:`OcrprepError` raised inside the block into its exit code."""
    try:
        yield
    except OcrprepError as exc:
        raise fail(exc) from exc
