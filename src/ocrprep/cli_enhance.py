"""CLI commands for enhancement and OCR, mounted into the ``ocrprep`` app by :func:`register`::

    ocrprep enhance IMAGE... --out DIR [--mode auto|always] [--profile generic|tesseract|rapidocr] [--json]
    ocrprep ocr PATH_OR_URI... [--engine rapidocr|tesseract] [--profile engine|generic] [--steps enhance] [--json]

``enhance`` runs the enhancement alone (no validation, no OCR) and prints the operations each
image got; ``ocr`` runs :func:`ocrprep.pipeline.process` and then OCR on the image it returns,
with the enhancement profile of its engine (``Thresholds.for_engine``) unless ``--profile generic``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from ocrprep.cli_common import fail as _fail
from ocrprep.errors import MalformedRequest, OcrprepError

__all__ = ["enhance_cmd", "ocr_cmd", "register"]


def enhance_cmd(
    images: Annotated[list[Path], typer.Argument(help="Image files.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the enhanced images (PNG).")],
    mode: Annotated[str, typer.Option(help="auto: per image; always: every operation.")] = "auto",
    profile: Annotated[
        str, typer.Option(help="generic, or tailored to the OCR engine: tesseract, rapidocr.")
    ] = "generic",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per image.")] = False,
) -> None:
    """Enhance images for OCR (orientation, skew, shadows, contrast, noise, size); no OCR."""
    from ocrprep.enhance import Thresholds, auto_enhance
    from ocrprep.imageio import encode_image, load_image

    if mode not in ("auto", "always"):
        raise _fail(MalformedRequest(f"--mode must be auto or always, got {mode!r}"))
    try:
        thresholds = Thresholds.for_engine(profile)
    except OcrprepError as exc:
        raise _fail(exc) from exc
    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in images:
        try:
            image = load_image(path.read_bytes())
            result = auto_enhance(image, mode=mode, thresholds=thresholds)  # type: ignore[arg-type]
            target = out / f"{path.stem}.png"
            target.write_bytes(encode_image(result.image, "png"))
        except OSError as exc:
            failures += 1
            typer.echo(f"{path}: cannot read: {exc}", err=True)
            continue
        except OcrprepError as exc:
            failures += 1
            typer.echo(json.dumps({"image": str(path), "error": exc.message}) if as_json
                       else f"{path}: {exc.message}", err=not as_json)
            continue
        if as_json:
            typer.echo(json.dumps({"image": str(path), "output": str(target), **result.to_dict()}))
        else:
            ops = ", ".join(str(op) for op in result.operations) or "unchanged (no operation needed)"
            typer.echo(f"{path} -> {target}: {ops}")
    if failures:
        raise typer.Exit(2)


def ocr_cmd(
    inputs: Annotated[list[str], typer.Argument(help="Image paths or file://, s3://, mem:// URIs.")],
    engine: Annotated[str, typer.Option(help="OCR engine: rapidocr or tesseract.")] = "rapidocr",
    profile: Annotated[
        str, typer.Option(help="Enhancement profile: engine (tailored to --engine) or generic.")
    ] = "engine",
    steps: Annotated[
        str, typer.Option(help="Pipeline steps before OCR, comma-separated.")
    ] = "enhance",
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Folder or s3:// prefix for changed images.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per input, with boxes.")] = False,
    config: Annotated[Path | None, typer.Option("--config", help="Config file (YAML).")] = None,
) -> None:
    """Prepare each image with the pipeline, then OCR the image it returns; print the text."""
    from ocrprep.cli import _settings
    from ocrprep.enhance.policy import PROFILES
    from ocrprep.imageio import load_image
    from ocrprep.ocr import get_engine
    from ocrprep.pipeline import process

    if profile not in ("engine", "generic"):
        raise _fail(MalformedRequest(f"--profile must be engine or generic, got {profile!r}"))
    overrides: dict[str, Any] = {
        "process.steps": tuple(s.strip() for s in steps.split(",") if s.strip()),
        "process.output": out,
        # an unknown engine keeps the generic profile here and is reported by get_engine below
        "process.enhance_profile": engine if profile == "engine" and engine in PROFILES else "generic",
    }
    try:
        settings = _settings(config, inputs, out, **overrides)
        reader = get_engine(engine)
    except OcrprepError as exc:
        raise _fail(exc) from exc
    code = 0
    for uri in inputs:
        try:
            result = process(uri, settings)
            image = load_image(result.uri, settings=settings)
            text = reader.recognize(image)
        except OcrprepError as exc:
            code = max(code, exc.exit_code)
            if as_json:
                typer.echo(json.dumps({"input": uri, "error": type(exc).__name__, "message": exc.message}))
            else:
                typer.echo(f"{uri}: {type(exc).__name__}: {exc.message}", err=True)
            continue
        if as_json:
            steps_done = [s.to_dict() for s in result.steps]
            typer.echo(json.dumps({"input": uri, "uri": result.uri, "changed": result.changed,
                                   "steps": steps_done, **text.to_dict()}))
        else:
            if len(inputs) > 1:
                typer.echo(f"==> {uri} (read {result.uri})")
            typer.echo(text.text)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Mount ``enhance`` and ``ocr`` on ``app``."""
    app.command("enhance")(enhance_cmd)
    app.command("ocr")(ocr_cmd)
