"""The ``ocrprep`` command line: a thin shell over the Python API.

Every command parses its arguments into the same option models the API uses, calls the public
functions, and formats the answer; errors become their class's exit code in one place.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Annotated, Any

os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # our errors name corrupt data; no codec noise

import typer  # noqa: E402
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ocrprep import storage
from ocrprep.cli_common import ConfigOpt
from ocrprep.cli_common import fail as _fail
from ocrprep.config import Settings, load_settings
from ocrprep.errors import OcrprepError, PoorQualityImage

__all__ = ["app", "main"]

app = typer.Typer(
    name="ocrprep",
    help="Prepare document images for OCR: validate, classify, enhance, extract.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object per input.")]
WorkersOpt = Annotated[
    int, typer.Option("--workers", "-j", help="Parallel processes (0 = one per core).")
]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", help="Also write the JSON lines to this file.")
]


def _settings(
    config: Path | None, inputs: Sequence[str] = (), out: str | None = None, **overrides: Any
) -> Settings:
    """Settings for a command. When no ``storage.roots`` are configured, the local files and
    folders named on the command line (and a local ``--out``) are the roots: a person at a
    terminal may read what they name. Configured roots are always enforced."""
    settings = load_settings(config, **overrides)
    if settings.storage.roots:
        return settings
    named = [item for item in (*inputs, *([out] if out else [])) if "://" not in item
             or item.startswith("file://")]
    if not named:
        return settings
    roots = {Path.cwd().resolve()}
    for item in named:
        path = Path(storage.parse_uri(item).path or item).expanduser().resolve()
        roots.add(path if path.is_dir() or item is out else path.parent)
    return settings.with_overrides(**{"storage.roots": tuple(sorted(roots))})


def _expand(inputs: list[str], settings: Settings) -> list[str]:
    """Folders and prefixes become the images below them; an input that cannot be listed is
    kept as it is, so that its own line reports the error and the other inputs still run."""
    uris: list[str] = []
    for item in inputs:
        try:
            uris.extend(storage.list_images(item, settings.storage))
        except OcrprepError:
            uris.append(item)
    return uris


# ---------------------------------------------------------------- per-input work (picklable)


def _assess_one(uri: str, settings: Settings) -> dict[str, Any]:
    from ocrprep.api import assess_source

    try:
        report = assess_source(uri, settings=settings, page=settings.process.page)
    except OcrprepError as exc:
        return _error_line(uri, exc)
    return {"uri": uri, **_report_fields(report.to_dict())}


def _process_one(uri: str, settings: Settings) -> dict[str, Any]:
    from ocrprep.pipeline import process

    try:
        result = process(uri, settings)
    except OcrprepError as exc:
        return _error_line(uri, exc)
    body = result.to_dict()
    report = body.pop("report") or {}
    body.pop("uri")
    return {"uri": uri, **_report_fields(report), "output": result.uri, **body}


def _report_fields(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("acceptable", "score", "defects", "reasons", "labels", "model", "measurements")
    return {key: report[key] for key in keys if key in report}


def _error_line(uri: str, exc: OcrprepError) -> dict[str, Any]:
    line: dict[str, Any] = {"uri": uri, "error": type(exc).__name__, "message": exc.message,
                            "exit_code": exc.exit_code}
    if isinstance(exc, PoorQualityImage) and exc.report is not None:
        line.update(_report_fields(exc.report.to_dict()))
        if exc.label is not None:
            line["TopLabel"] = {"Name": exc.label, "Confidence": exc.confidence}
    return line


def _run_all(
    work: Callable[[str, Settings], dict[str, Any]],
    uris: list[str],
    settings: Settings,
    workers: int,
) -> Iterable[dict[str, Any]]:
    workers = workers or (os.cpu_count() or 1)
    workers = max(1, min(workers, len(uris)))
    show = sys.stderr.isatty() and len(uris) > 1
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, disable=not show)
    with progress:
        task = progress.add_task("images", total=len(uris))
        if workers == 1:
            for uri in uris:
                yield work(uri, settings)
                progress.advance(task)
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for line in pool.map(work, uris, [settings] * len(uris)):
                yield line
                progress.advance(task)


def _emit(
    lines: Iterable[dict[str, Any]], as_json: bool, report: Path | None, title: str
) -> tuple[int, list[dict[str, Any]]]:
    """Print (and save) the lines; return the exit code of the first failed input, and the rows."""
    rows: list[dict[str, Any]] = []
    sink = None
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        sink = report.open("w", encoding="utf-8")
    try:
        for line in lines:
            text = json.dumps(line, ensure_ascii=False)
            if as_json:
                typer.echo(text)
            if sink is not None:
                sink.write(text + "\n")
            rows.append(line)
    finally:
        if sink is not None:
            sink.close()
    if not as_json:
        _print_table(rows, title)
    codes = [line["exit_code"] for line in rows if "exit_code" in line]
    return (codes[0] if codes else 0), rows


def _print_table(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title, show_lines=False)
    table.add_column("input", overflow="fold")
    table.add_column("verdict")
    table.add_column("score", justify="right")
    table.add_column("why / output", overflow="fold")
    for row in rows:
        if "error" in row and row["error"] != "PoorQualityImage":
            table.add_row(row["uri"], f"[red]{row['error']}[/red]", "", row["message"])
            continue
        ok = row.get("acceptable", False) and "error" not in row
        verdict = "[green]ok[/green]" if ok else "[yellow]rejected[/yellow]"
        score = f"{row['score']:.2f}" if "score" in row else ""
        detail = row.get("output", "") if ok else "; ".join(row.get("reasons", [])[:2])
        if ok and row.get("steps"):
            ops = [s["name"] for s in row["steps"] if s.get("changed")]
            detail = f"{detail}  ({', '.join(ops)})" if ops else detail
        table.add_row(row["uri"], verdict, score, detail)
    Console().print(table)


# ---------------------------------------------------------------- commands


@app.command()
def assess(
    inputs: Annotated[list[str], typer.Argument(help="Images, folders, file:// or s3:// URIs.")],
    as_json: JsonOpt = False,
    workers: WorkersOpt = 0,
    report: ReportOpt = None,
    page: Annotated[int, typer.Option(help="Page of a multi-page TIFF.")] = 0,
    fail_on_reject: Annotated[
        bool, typer.Option(help="Exit 3 when any image is not acceptable.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Is each image good enough for OCR, and why not?"""
    try:
        settings = _settings(config, inputs, **{"process.page": page})
        uris = _expand(inputs, settings)
    except OcrprepError as exc:
        raise _fail(exc) from exc
    code, rows = _emit(_run_all(_assess_one, uris, settings, workers), as_json, report,
                       "assessment")
    if code == 0 and fail_on_reject and not all(row.get("acceptable") for row in rows):
        code = PoorQualityImage.exit_code
    raise typer.Exit(code)


@app.command("process")
def process_cmd(
    inputs: Annotated[list[str], typer.Argument(help="Images, folders, file:// or s3:// URIs.")],
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Folder or s3:// prefix for changed images.")
    ] = None,
    steps: Annotated[
        str | None, typer.Option(help="Comma-separated steps, e.g. validate,enhance,extract.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model: project[:version] or folder.")] = None,
    decision: Annotated[
        str | None, typer.Option(help="Who decides: both, model or measurements.")
    ] = None,
    enhance_mode: Annotated[
        str | None, typer.Option(help="enhance: auto (per image), always or off.")
    ] = None,
    enhance_profile: Annotated[
        str | None, typer.Option(help="enhance: generic, or tuned for the OCR engine: tesseract, rapidocr.")
    ] = None,
    extract_mode: Annotated[
        str | None, typer.Option(help="extract: document (flattened) or regions (one per box).")
    ] = None,
    regions_model: Annotated[
        str | None, typer.Option(help="extract in regions mode: detector project[:version] or folder.")
    ] = None,
    as_json: JsonOpt = False,
    workers: WorkersOpt = 0,
    report: ReportOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Validate (and enhance, extract) each image; print the URI OCR should read."""
    overrides: dict[str, Any] = {
        "process.output": out,
        "process.model": model,
        "process.decision": decision,
        "process.enhance_mode": enhance_mode,
        "process.enhance_profile": enhance_profile,
        "process.extract_mode": extract_mode,
        "process.regions_model": regions_model,
        "process.steps": tuple(s.strip() for s in steps.split(",") if s.strip()) if steps else None,
    }
    try:
        settings = _settings(config, inputs, out, **overrides)
        uris = _expand(inputs, settings)
    except OcrprepError as exc:
        raise _fail(exc) from exc
    code, _ = _emit(_run_all(_process_one, uris, settings, workers), as_json, report, "process")
    raise typer.Exit(code)


@app.command()
def synth(
    good_dir: Annotated[str, typer.Argument(help="Folder of good images.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    kinds: Annotated[str | None, typer.Option(help="Comma-separated degradation kinds.")] = None,
    severities: Annotated[str, typer.Option(help="Comma-separated: mild, severe.")] = "severe",
    per_kind: Annotated[int, typer.Option(help="Variants per image and kind.")] = 1,
    seed: Annotated[int, typer.Option(help="Random seed (reproducible output).")] = 0,
    config: ConfigOpt = None,
) -> None:
    """Generate labelled bad images (good/ and bad/) from good ones, seeded."""
    from ocrprep import degrade

    try:
        settings = _settings(config, [good_dir], str(out))
        chosen = tuple(k.strip() for k in kinds.split(",")) if kinds else degrade.KINDS
        items = degrade.synthesize(
            good_dir, out, kinds=chosen,
            severities=tuple(s.strip() for s in severities.split(",")),
            seed=seed, per_image=per_kind, settings=settings,
        )
    except OcrprepError as exc:
        raise _fail(exc) from exc
    console.print(f"wrote {len(items)} images under {out}")


def main() -> None:
    """Entry point for ``python -m ocrprep``."""
    app()


# Command groups that live beside their area; each module has ``register(app)``.
_GROUPS = ("ocrprep.cli_models", "ocrprep.cli_enhance", "ocrprep.cli_regions", "ocrprep.cli_serve")


def _mount(target: typer.Typer) -> None:
    from importlib import import_module
    from importlib.util import find_spec

    for name in _GROUPS:
        if find_spec(name) is not None:
            import_module(name).register(target)


_mount(app)
