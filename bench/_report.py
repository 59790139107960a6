"""What every benchmark does with its table: print it and save it under ``bench/results``."""

from __future__ import annotations

from pathlib import Path


def emit(table: str | list[str], out: str | Path) -> str:
    """Print ``table`` (a string, or lines joined by newlines) and write it to ``out``."""
    text = table if isinstance(table, str) else "\n".join(table)
    print(text)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")
    return text
