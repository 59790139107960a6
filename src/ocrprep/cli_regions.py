"""CLI commands for regions: extract the document from photos; train and run region detectors.

Mounted into the ``ocrprep`` app with :func:`register`::

    ocrprep extract IMAGE... --out DIR [--margin 0.02] [--json]
    ocrprep regions train DATASET --out DIR [--test DATASET] [--project NAME] [--rounds 150]
    ocrprep regions detect MODEL IMAGE... [--min-confidence 50]   (MODEL: folder or project[:version])
    ocrprep regions evaluate MODEL DATASET [--out evaluation.json]

A DATASET is a Ground Truth object-detection manifest (JSON lines), a Label Studio JSON export of
rectangles, or ``sroie:DIR`` (the total and date lines of SROIE receipts, labelled from their keys).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import cv2
import numpy as np
import typer

from ocrprep.cli_common import fail as _fail
from ocrprep.errors import DatasetError, OcrprepError

__all__ = ["extract", "read_box_dataset", "register", "regions_app"]

regions_app = typer.Typer(help="Train, run and evaluate custom region detectors.", no_args_is_help=True)


def _load(path: str) -> np.ndarray:
    from ocrprep.regions.annotations import load_rgb

    return load_rgb(path)


def read_box_dataset(source: str) -> list[Any]:
    """Box items from a GT manifest, a Label Studio export, or ``sroie:DIR``; relative refs resolve
    against the file's folder."""
    from ocrprep.regions.annotations import parse_detection_manifest, parse_label_studio_boxes
    from ocrprep.regions.sroie import sroie_region_items

    if source.startswith("sroie:"):
        return sroie_region_items(source.split(":", 1)[1])
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"cannot read dataset {source}: {exc}") from exc
    root = str(path.parent)
    if text.lstrip().startswith("["):
        return parse_label_studio_boxes(text, root=root, source=path.name)
    return parse_detection_manifest(text, root=root, source=path.name)


def extract(
    images: Annotated[list[Path], typer.Argument(help="Photos or scans.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the extracted documents (PNG).")],
    margin: Annotated[float, typer.Option(help="Crop margin: fraction of the shorter side, or px.")] = 0.02,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line per image.")] = False,
) -> None:
    """Find the document in each image, flatten it and crop it to its content."""
    from ocrprep.regions.step import extract_document

    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in images:
        try:
            image = _load(str(path))
            result, params = extract_document(image, margin=margin)
        except OcrprepError as exc:
            failures += 1
            typer.echo(json.dumps({"image": str(path), "error": exc.message}) if as_json
                       else f"{path}: {exc.message}", err=not as_json)
            continue
        target = out / f"{path.stem}.png"
        cv2.imwrite(str(target), cv2.cvtColor(result, cv2.COLOR_RGB2BGR))
        if as_json:
            typer.echo(json.dumps({"image": str(path), "output": str(target), **params}))
        else:
            typer.echo(f"{path} -> {target} ({params['reason']}; {result.shape[1]}x{result.shape[0]})")
    if failures:
        raise typer.Exit(3)


@regions_app.command("train")
def train(
    dataset: Annotated[str, typer.Argument(help="GT manifest, Label Studio export, or sroie:DIR.")],
    out: Annotated[Path, typer.Option("--out", help="Model folder to write.")],
    test: Annotated[str | None, typer.Option(help="Test dataset; default: every 4th item held out.")] = None,
    project: Annotated[str | None, typer.Option(help="Register the model as a version of this project.")] = None,
    rounds: Annotated[int, typer.Option(help="LightGBM boosting rounds.")] = 150,
    limit: Annotated[int, typer.Option(help="Use at most this many training items (0: all).")] = 0,
) -> None:
    """Train a region detector; write model.txt, model.json and evaluation.json."""
    from ocrprep.regions.detector_train import train_detector, write_evaluation

    try:
        items = read_box_dataset(dataset)
        if test:
            train_items, test_items = items, read_box_dataset(test)
        else:
            train_items = [it for i, it in enumerate(items) if i % 4 != 3]
            test_items = [it for i, it in enumerate(items) if i % 4 == 3]
        if limit:
            train_items = train_items[:limit]
        model, evaluation = train_detector(train_items, test_items=test_items, load=_load, rounds=rounds)
        folder = model.save(out)
        if evaluation is not None:
            write_evaluation(evaluation, folder)
        typer.echo(f"wrote {folder}: mAP@0.5 {evaluation['mAP50'] if evaluation else 'n/a'}, "
                   f"F1 {evaluation['F1Score'] if evaluation else 'n/a'}")
        if project:
            from ocrprep.config import load_settings
            from ocrprep.registry import Registry

            version = Registry.from_settings(load_settings()).register(
                project, folder, dataset=dataset, f1_score=evaluation["F1Score"] if evaluation else None
            )
            typer.echo(f"registered {version.name}")
    except OcrprepError as exc:
        raise _fail(exc) from exc


@regions_app.command("detect")
def detect(
    model: Annotated[str, typer.Argument(help="Model folder, project:version, or project (started if needed).")],
    images: Annotated[list[Path], typer.Argument(help="Images.")],
    min_confidence: Annotated[float | None, typer.Option(help="0-100; default per class.")] = None,
) -> None:
    """Print the detected regions of each image as JSON lines."""
    from ocrprep.regions.detector import detect_regions, load_detector

    try:
        detector = load_detector(model)
        for path in images:
            found = detect_regions(_load(str(path)), detector, min_confidence=min_confidence)
            typer.echo(json.dumps({"image": str(path), "CustomLabels": found}))
    except OcrprepError as exc:
        raise _fail(exc) from exc


@regions_app.command("evaluate")
def evaluate(
    model: Annotated[str, typer.Argument(help="Model folder, project:version, or project (started if needed).")],
    dataset: Annotated[str, typer.Argument(help="GT manifest, Label Studio export, or sroie:DIR.")],
    out: Annotated[Path | None, typer.Option(help="Write evaluation.json here.")] = None,
) -> None:
    """mAP@0.5 and per-class precision/recall/F1 of a detector on a dataset."""
    from ocrprep.regions.detector import load_detector
    from ocrprep.regions.detector_train import evaluate_detector

    try:
        evaluation = evaluate_detector(load_detector(model), read_box_dataset(dataset), load=_load)
    except OcrprepError as exc:
        raise _fail(exc) from exc
    text = json.dumps(evaluation, indent=2)
    if out:
        out.write_text(text)
    typer.echo(text)


def register(app: typer.Typer) -> None:
    """Mount ``extract`` and the ``regions`` group on ``app``."""
    app.command("extract")(extract)
    app.add_typer(regions_app, name="regions")
