"""CLI commands for the custom-labels workflow: train, evaluate, models, params, datasets.

Mounted into the ``ocrprep`` app with :func:`register`::

    ocrprep train DATASET... --project NAME [--test DATASET] [--wait]
    ocrprep evaluate MODEL DATASET... [--out evaluation.json]
    ocrprep models list|describe|start|stop|delete
    ocrprep params get|set|list|delete
    ocrprep datasets import|export|show

Each command parses its options, calls the Python API and formats the answer; an
:class:`~ocrprep.errors.OcrprepError` becomes its exit code with a one-line message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from ocrprep.cli_common import ConfigOpt, JsonOpt, err, out
from ocrprep.cli_common import exit_on_error as _errors
from ocrprep.config import Settings, load_settings
from ocrprep.errors import MalformedRequest, OcrprepError

__all__ = ["datasets_app", "evaluate", "models_app", "params_app", "register", "train"]



models_app = typer.Typer(help="List, describe, start, stop and delete model versions.", no_args_is_help=True)
params_app = typer.Typer(help="Named parameters (the active model: preprocess/model).", no_args_is_help=True)
datasets_app = typer.Typer(help="Import, export and inspect labelled datasets.", no_args_is_help=True)




def _settings(config: Path | None) -> Settings:
    return load_settings(config)


def _print_json(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))


# -- train / evaluate -----------------------------------------------------------------------------


def train(
    datasets: Annotated[list[str], typer.Argument(help="Folders, S3 prefixes, manifests or saved dataset names.")],
    project: Annotated[str, typer.Option("--project", "-p", help="Project name.")],
    test: Annotated[list[str] | None, typer.Option("--test", help="Explicit test dataset (else 80/20 split).")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Train here and print the evaluation, or in the background.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="auto, folder, groundtruth, rekognition, labelstudio.")] = "auto",
    attribute: Annotated[str | None, typer.Option("--attribute", help="Manifest label attribute.")] = None,
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Train without listed images that are missing (they are reported).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split and the booster.")] = 0,
    feature_set: Annotated[str, typer.Option("--feature-set", help="quality-v2 (default), quality-v1, or layout-v1 for document types.")] = "quality-v2",
    rounds: Annotated[int, typer.Option("--rounds", help="Boosting rounds.")] = 300,
    threshold_folds: Annotated[int, typer.Option(
        "--threshold-folds",
        help="0: each label's threshold maximises its F1 on the test split (the managed service's "
             "convention); k >= 2: chosen on the training split by grouped k-fold cross-validation.")] = 0,
    threads: Annotated[int, typer.Option("--threads", help="Processes computing features (the booster fits on one thread).")] = 2,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Train a model version from labelled images (the folder names, or a manifest, give the labels)."""
    from ocrprep.models.evaluation import format_evaluation
    from ocrprep.models.jobs import TrainRequest, start_training
    from ocrprep.models.training import TrainingParams

    with _errors():
        settings = _settings(config)
        params = TrainingParams(seed=seed, feature_set=feature_set, num_boost_round=rounds,
                                num_threads=1, workers=threads,
                                threshold_folds=threshold_folds)
        request = TrainRequest(datasets=tuple(datasets), project=project, test_datasets=tuple(test or ()),
                               format=fmt, attribute=attribute, allow_missing=allow_missing, params=params)

        def progress(stage: str, done: int, total: int) -> None:
            if not as_json and (done in (0, total) or done % 200 == 0):
                err.print(f"{stage}: {done}/{total}")

        version = start_training(settings, request, wait=wait, progress=progress)
        if as_json:
            _print_json(version.to_dict())
            return
        out.print(f"{version.name}: {version.status.value} — {version.status_message}")
        if wait:
            evaluation = json.loads((Path(version.path) / "evaluation.json").read_text())
            out.print(format_evaluation(evaluation))
            out.print(f"model folder: {version.path}")
        else:
            out.print(f"follow it with: ocrprep models describe {version.name}")


def evaluate(
    model: Annotated[str, typer.Argument(help="project[:version] or a model folder.")],
    datasets: Annotated[list[str], typer.Argument(help="Labelled test data.")],
    output: Annotated[Path | None, typer.Option("--out", help="Write evaluation JSON here.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="Dataset format.")] = "auto",
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Evaluate a model on labelled images with the thresholds it ships with."""
    from ocrprep.models.evaluation import format_evaluation
    from ocrprep.models.jobs import TrainRequest, load_training_data
    from ocrprep.models.runtime import evaluate_model, resolve_model

    with _errors():
        settings = _settings(config)
        loaded = resolve_model(settings, model)
        data, _ = load_training_data(settings, TrainRequest(datasets=tuple(datasets), project="x", format=fmt))
        result = evaluate_model(loaded, data, settings=settings)
        if output is not None:
            try:
                output.write_text(json.dumps(result, indent=1) + "\n")
            except OSError as exc:
                raise MalformedRequest(f"cannot write {output}: {exc}") from exc
        if as_json:
            _print_json({k: v for k, v in result.items() if k != "images"})
        else:
            out.print(f"model {loaded.name} on {len(data)} images")
            out.print(format_evaluation(result))


# -- models ---------------------------------------------------------------------------------------


def _registry(config: Path | None) -> tuple[Settings, Any]:
    from ocrprep.registry import Registry

    settings = _settings(config)
    return settings, Registry.from_settings(settings)


def _version_ref(ref: str) -> tuple[str, int]:
    from ocrprep.registry import parse_ref

    project, version = parse_ref(ref)
    if version is None:
        raise MalformedRequest(f"name a version: {project}:N (see `ocrprep models list`)")
    return project, version


@models_app.command("list")
def models_list(
    project: Annotated[str | None, typer.Option("--project", "-p")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Model versions (classifiers and region detectors), their kinds and statuses (the bundled
    default model first)."""
    from ocrprep.models.runtime import DEFAULT_MODEL_DIR, load_model

    with _errors():
        _, registry = _registry(config)
        versions = registry.list_versions(project)
        bundled = None
        if project is None:
            try:
                bundled = load_model(DEFAULT_MODEL_DIR)
            except OcrprepError:
                bundled = None
        if as_json:
            rows = [v.to_dict() for v in versions]
            if bundled is not None:
                rows.insert(0, {"name": bundled.name, "status": "BUNDLED", "kind": "classifier",
                                "path": str(bundled.path),
                                "f1_score": bundled.meta.get("metrics", {}).get("macro_f1")})
            _print_json(rows)
            return
        table = Table("model", "kind", "status", "F1", "created", "message")
        if bundled is not None:
            f1 = bundled.meta.get("metrics", {}).get("macro_f1")
            table.add_row(bundled.name, "classifier", "BUNDLED", f"{f1:.3f}" if f1 is not None else "",
                          str(bundled.meta.get("created_at", "")), "default when preprocess/model is unset")
        for v in versions:
            table.add_row(v.name, v.kind or "-", v.status.value,
                          f"{v.f1_score:.3f}" if v.f1_score is not None else "",
                          v.created_at.isoformat(timespec="seconds") if v.created_at else "", v.status_message)
        out.print(table)


@models_app.command("describe")
def models_describe(
    ref: Annotated[str, typer.Argument(help="project:version, project, or a model folder.")],
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """A version's kind, status, training parameters, dataset and evaluation."""
    from ocrprep.models.evaluation import format_evaluation
    from ocrprep.models.runtime import DEFAULT_MODEL_DIR, DEFAULT_MODEL_NAME
    from ocrprep.registry import REGION_DETECTOR, model_kind, parse_ref
    from ocrprep.regions.detector_train import format_detector_evaluation

    with _errors():
        _, registry = _registry(config)
        if "/" in ref or Path(ref, "model.json").is_file():
            info: dict[str, Any] = {"name": ref, "status": "FOLDER", "path": ref}
        elif ref.split(":")[0] == DEFAULT_MODEL_NAME and DEFAULT_MODEL_NAME not in registry.list_projects():
            info = {"name": ref, "status": "BUNDLED", "path": str(DEFAULT_MODEL_DIR)}
        else:
            project, version = parse_ref(ref)
            info = registry.get(project, version).to_dict()
        folder = Path(info["path"])
        info["kind"] = info.get("kind") or model_kind(folder)
        evaluation = _read_json(folder / "evaluation.json")
        meta = _read_json(folder / "model.json")
        if as_json:
            _print_json({**info, "model": meta, "evaluation": {k: v for k, v in (evaluation or {}).items() if k != "images"}})
            return
        out.print(f"{info['name']} ({info['kind'] or 'kind unknown'}): {info['status']}"
                  + (f" — {info.get('status_message')}" if info.get("status_message") else ""))
        out.print(f"folder: {folder}")
        detector = info["kind"] == REGION_DETECTOR
        if meta and detector:
            out.print(f"classes: {', '.join(c for c in meta.get('classes', []) if c != 'background')}; "
                      f"features {meta.get('feature_version')}"
                      f"{' + text cues' if meta.get('text_features') else ''}; created {meta.get('created')}; "
                      f"dataset hash {str(meta.get('dataset_sha256', ''))[:16]}")
        elif meta:
            out.print(f"labels: {', '.join(meta.get('labels', []))}; feature set {meta.get('feature_set')}; "
                      f"created {meta.get('created_at')}; dataset hash {meta.get('dataset', {}).get('hash', '')[:16]}")
        if evaluation:
            out.print(format_detector_evaluation(evaluation) if detector else format_evaluation(evaluation))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@models_app.command("start")
def models_start(
    ref: Annotated[str, typer.Argument(help="project:version")],
    config: ConfigOpt = None,
) -> None:
    """Start a version, classifier or region detector (STARTING -> RUNNING); it loads the model
    to check it."""
    from ocrprep.models.runtime import start_model

    with _errors():
        settings, registry = _registry(config)
        project, version = _version_ref(ref)
        model = start_model(settings, f"{project}:{version}")
        current = registry.get(project, version)
        out.print(f"{model.name} ({current.kind}): {current.status.value}")


@models_app.command("stop")
def models_stop(
    ref: Annotated[str, typer.Argument(help="project:version")],
    config: ConfigOpt = None,
) -> None:
    """Stop a running version (RUNNING -> STOPPING -> STOPPED). ``process`` restarts it on use."""
    with _errors():
        _, registry = _registry(config)
        project, version = _version_ref(ref)
        out.print(f"{ref}: {registry.stop(project, version).status.value}")


@models_app.command("delete")
def models_delete(
    ref: Annotated[str, typer.Argument(help="project:version")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Delete a version that is not running (its row and its model folder)."""
    with _errors():
        _, registry = _registry(config)
        project, version = _version_ref(ref)
        if not yes and not typer.confirm(f"delete {ref} and its model folder?"):
            raise typer.Exit(1)
        registry.delete(project, version)
        out.print(f"{ref}: deleted")


# -- params ---------------------------------------------------------------------------------------


@params_app.command("get")
def params_get(
    name: Annotated[str, typer.Argument(help="Parameter name, e.g. preprocess/model.")],
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Print a parameter's value."""
    from ocrprep.params import get_parameter

    with _errors():
        parameter = get_parameter(_settings(config), name)
        if as_json:
            _print_json(parameter.to_dict())
        else:
            out.print(parameter.value)


@params_app.command("set")
def params_set(
    name: Annotated[str, typer.Argument(help="Parameter name.")],
    value: Annotated[str, typer.Argument(help="New value.")],
    config: ConfigOpt = None,
) -> None:
    """Set a parameter; ``process`` sees it on its next call."""
    from ocrprep.params import set_parameter

    with _errors():
        parameter = set_parameter(_settings(config), name, value)
        out.print(f"{parameter.name} = {parameter.value} (version {parameter.version})")


@params_app.command("delete")
def params_delete(
    name: Annotated[str, typer.Argument(help="Parameter name.")],
    config: ConfigOpt = None,
) -> None:
    """Delete a parameter (for preprocess/model: back to the bundled default model)."""
    from ocrprep.params import delete_parameter

    with _errors():
        delete_parameter(_settings(config), name)
        out.print(f"{name}: deleted")


@params_app.command("list")
def params_list(
    prefix: Annotated[str, typer.Option("--prefix", help="Only names starting with this.")] = "",
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Every parameter with its value and version."""
    from ocrprep.params import list_parameters

    with _errors():
        found = list_parameters(_settings(config), prefix)
        if as_json:
            _print_json([p.to_dict() for p in found])
            return
        table = Table("name", "value", "version", "updated")
        for p in found:
            table.add_row(p.name, p.value, str(p.version),
                          p.updated_at.isoformat(timespec="seconds") if p.updated_at else "")
        out.print(table)


# -- datasets -------------------------------------------------------------------------------------


@datasets_app.command("import")
def datasets_import(
    source: Annotated[str, typer.Argument(help="Folder, S3 prefix or manifest.")],
    name: Annotated[str, typer.Option("--name", help="Save as this dataset name (for `ocrprep train NAME`).")],
    fmt: Annotated[str, typer.Option("--format", help="auto, folder, groundtruth, rekognition, labelstudio.")] = "auto",
    attribute: Annotated[str | None, typer.Option("--attribute", help="Manifest label attribute.")] = None,
    image_root: Annotated[Path | None, typer.Option("--image-root", help="Folder of relative images.")] = None,
    allow_missing: Annotated[bool, typer.Option("--allow-missing", help="Keep going without missing images (reported).")] = False,
    config: ConfigOpt = None,
) -> None:
    """Check a dataset and save it (as a Ground Truth manifest) under $OCRPREP_HOME/datasets."""
    from ocrprep.datasets import load_dataset, save_dataset
    from ocrprep.models.jobs import dataset_store
    from ocrprep.registry import check_name

    with _errors():
        settings = _settings(config)
        check_name(name)  # before the dataset is read
        dataset = load_dataset(source, format=fmt, attribute=attribute, image_root=image_root,
                               allow_missing=allow_missing, settings=settings)
        target = save_dataset(dataset, dataset_store(settings), name)
        _print_summary(dataset)
        out.print(f"saved as {name} ({target})")


@datasets_app.command("export")
def datasets_export(
    source: Annotated[str, typer.Argument(help="Folder, manifest or saved dataset name.")],
    output: Annotated[Path, typer.Option("--out", help="Ground Truth manifest to write.")],
    attribute: Annotated[str, typer.Option("--attribute", help="Label attribute name.")] = "class",
    fmt: Annotated[str, typer.Option("--format")] = "auto",
    config: ConfigOpt = None,
) -> None:
    """Write a dataset as a SageMaker Ground Truth image-classification manifest."""
    from ocrprep.datasets import export_ground_truth, load_dataset
    from ocrprep.models.jobs import resolve_source

    with _errors():
        settings = _settings(config)
        dataset = load_dataset(resolve_source(settings, source), format=fmt, settings=settings)
        try:
            output.write_text(export_ground_truth(dataset, attribute=attribute))
        except OSError as exc:
            raise MalformedRequest(f"cannot write {output}: {exc}") from exc
        out.print(f"wrote {len(dataset)} lines to {output}")


@datasets_app.command("show")
def datasets_show(
    source: Annotated[str, typer.Argument(help="Folder, manifest or saved dataset name.")],
    fmt: Annotated[str, typer.Option("--format")] = "auto",
    allow_missing: Annotated[bool, typer.Option("--allow-missing")] = False,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Images per label, source-image groups, missing images."""
    from ocrprep.datasets import load_dataset
    from ocrprep.models.jobs import resolve_source

    with _errors():
        settings = _settings(config)
        dataset = load_dataset(resolve_source(settings, source), format=fmt,
                               allow_missing=allow_missing, settings=settings)
        if as_json:
            _print_json(dataset.summary())
        else:
            _print_summary(dataset)


def _print_summary(dataset: Any) -> None:
    summary = dataset.summary()
    table = Table("label", "images")
    for label, count in summary["labels"].items():
        table.add_row(label, str(count))
    out.print(f"{summary['images']} images from {summary['groups']} source images ({summary['format']})")
    out.print(table)
    if summary["missing"]:
        err.print(f"[yellow]{len(summary['missing'])} listed image(s) missing[/yellow]: "
                  + ", ".join(summary["missing"][:10]))


def register(app: typer.Typer) -> None:
    """Mount ``train``, ``evaluate`` and the ``models``/``params``/``datasets`` groups on ``app``."""
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.add_typer(models_app, name="models")
    app.add_typer(params_app, name="params")
    app.add_typer(datasets_app, name="datasets")
