"""Labelled image datasets: import, export, split.

Import formats (``load_dataset(source, format="auto")`` picks by shape):

``folder``
    A folder (or S3 prefix) whose first-level subfolders are the labels: ``good/a.jpg`` is
    labelled ``good``. A ``manifest.jsonl`` written by ``ocrprep synth`` next to them supplies
    each image's source image, so variants of one image stay on one side of a split.
``groundtruth``
    A SageMaker Ground Truth image-classification output manifest (JSON Lines): ``source-ref``,
    ``<attribute>`` (the class index), ``<attribute>-metadata`` with ``class-name``,
    ``confidence``, ``type`` (``groundtruth/image-classification``), ``job-name``,
    ``human-annotated``, ``creation-date``.
``rekognition``
    A Rekognition Custom Labels classification manifest: the same shape, possibly with several
    label attributes per line (pass ``attribute=`` to choose one when they disagree).
``labelstudio``
    A Label Studio JSON export of image choices (full export or JSON-MIN).

Every dataset exports as a Ground Truth manifest (:func:`export_ground_truth`). A malformed line
raises :class:`~ocrprep.errors.DatasetError` naming the line and the field; missing images are
reported (an error, or listed in ``Dataset.missing`` with ``allow_missing=True``), never skipped
silently. :func:`split_dataset` makes a stratified 80/20 split by source image.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ocrprep.errors import DatasetError, OcrprepError
from ocrprep.manifests import (
    CLASSIFICATION_TYPE,
    classification_row,
    json_lines,
    label_studio_image,
    label_studio_ref,
    label_studio_results,
    read_json_lines,
    read_label_studio_tasks,
    resolve_ref,
    source_ref,
)

if TYPE_CHECKING:
    from ocrprep.config import Settings

__all__ = [
    "FORMATS",
    "Dataset",
    "DatasetItem",
    "detect_format",
    "export_ground_truth",
    "group_of",
    "load_dataset",
    "merge_datasets",
    "parse_ground_truth",
    "parse_label_studio",
    "read_folder",
    "save_dataset",
    "split_dataset",
]

FORMATS = ("auto", "folder", "groundtruth", "rekognition", "labelstudio")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif")
_LABEL = re.compile(r"^[^\x00-\x1f]{1,100}$")


@dataclass(frozen=True)
class DatasetItem:
    """One labelled image.

    Attributes
    ----------
    ref : str
        Absolute local path or storage URI of the image.
    label : str
        Its class name.
    group : str
        The source image it derives from; items of one group never straddle a split.
    confidence : float or None
        The labeller's confidence 0..1, when the manifest gives one.
    """

    ref: str
    label: str
    group: str
    confidence: float | None = None


@dataclass(frozen=True)
class Dataset:
    """Labelled images, with the images that were listed but not found."""

    items: tuple[DatasetItem, ...]
    source: str = ""
    format: str = ""
    missing: tuple[str, ...] = field(default=())

    @property
    def labels(self) -> tuple[str, ...]:
        """The class names, sorted."""
        return tuple(sorted({item.label for item in self.items}))

    def counts(self) -> dict[str, int]:
        """Images per label."""
        counts = Counter(item.label for item in self.items)
        return {label: counts[label] for label in self.labels}

    def __len__(self) -> int:
        return len(self.items)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description: source, format, counts, groups, missing images."""
        return {
            "source": self.source,
            "format": self.format,
            "images": len(self.items),
            "labels": self.counts(),
            "groups": len({item.group for item in self.items}),
            "missing": list(self.missing),
        }


def group_of(name: str) -> str:
    """The source-image key of a file name: synth names ``kind__stem__severity`` give ``stem``.

    Examples
    --------
    >>> group_of("bad/blur__042__severe.png"), group_of("good/042.jpg")
    ('042', '042')
    """
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
    parts = stem.split("__")
    return parts[1] if len(parts) >= 3 else stem


# -- loading --------------------------------------------------------------------------------------


def load_dataset(
    source: str | os.PathLike[str],
    *,
    format: str = "auto",
    attribute: str | None = None,
    image_root: str | os.PathLike[str] | None = None,
    allow_missing: bool = False,
    settings: Settings | None = None,
) -> Dataset:
    """Read a dataset from a folder, an S3 prefix or a manifest file.

    Parameters
    ----------
    source : str or path
        Folder, ``s3://`` prefix, or manifest file (``.manifest``, ``.jsonl``, ``.json``).
    format : str
        One of :data:`FORMATS`; ``auto`` decides from the source.
    attribute : str, optional
        The label attribute of a Ground Truth / Rekognition manifest.
    image_root : str or path, optional
        Where relative image references (and Label Studio uploads) are found; default: the
        manifest's folder.
    allow_missing : bool
        Keep going when listed images do not exist; they are listed in ``Dataset.missing``.
    settings : Settings, optional
        Storage options for S3 sources.

    Raises
    ------
    DatasetError
        Unknown format, malformed line (naming the line and field), no images, or missing images
        when ``allow_missing`` is false.
    """
    source_str = os.fspath(source)
    chosen = detect_format(source_str) if format == "auto" else format
    if chosen not in FORMATS[1:]:
        raise DatasetError(f"unknown dataset format {format!r}; use one of {', '.join(FORMATS)}")
    if chosen == "folder":
        dataset = read_folder(source_str, settings=settings)
    else:
        text = _read_text(source_str, settings)
        root = os.fspath(image_root) if image_root is not None else _parent(source_str)
        if chosen == "labelstudio":
            items = parse_label_studio(text, root=root, source=source_str)
        else:
            items = parse_ground_truth(
                text.splitlines(), attribute=attribute, root=root, source=source_str
            )
        dataset = Dataset(tuple(items), source=source_str, format=chosen)
    if not dataset.items:
        raise DatasetError(f"dataset {source_str}: no labelled images found")
    return check_images(dataset, allow_missing=allow_missing)


def detect_format(source: str) -> str:
    """Guess the format of ``source`` from its name or first bytes."""
    if "://" in source and not source.startswith("file://"):
        lowered = source.lower()
        if lowered.endswith((".manifest", ".jsonl")):
            return "groundtruth"
        return "labelstudio" if lowered.endswith(".json") else "folder"
    path = Path(source.removeprefix("file://"))
    if path.is_dir():
        return "folder"
    if not path.exists():
        raise DatasetError(f"dataset {source}: no such file or folder")
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    if head.startswith(b"["):
        return "labelstudio"
    if head.startswith(b"{"):
        first = head.split(b"\n", 1)[0]
        try:
            json.loads(first)
        except ValueError:
            return "labelstudio"  # one JSON document over several lines
        return "rekognition" if _several_attributes(first) else "groundtruth"
    raise DatasetError(f"dataset {source}: not a folder, JSON Lines manifest or JSON export")


def _several_attributes(line: bytes) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and sum(k.endswith("-metadata") for k in record) > 1


def read_folder(source: str, *, settings: Settings | None = None) -> Dataset:
    """A dataset from a folder or S3 prefix whose first-level subfolders are the labels.

    Raises
    ------
    DatasetError
        If the folder does not exist or holds no labelled images.
    """
    if "://" in source and not source.startswith("file://"):
        refs = _list_remote(source, settings)
        base = source.rstrip("/") + "/"
        relative = [(ref, ref[len(base) :]) for ref in refs if ref.startswith(base)]
    else:
        root = Path(source.removeprefix("file://")).expanduser().resolve()
        if not root.is_dir():
            raise DatasetError(f"dataset {source}: no such folder")
        relative = [
            (str(path), path.relative_to(root).as_posix())
            for path in sorted(root.rglob("*"))
            if path.is_file() and path.suffix.lower() in _IMAGE_SUFFIXES
        ]
    groups = _synth_groups(source, settings)
    items = []
    for ref, rel in relative:
        parts = rel.split("/")
        if len(parts) < 2:
            continue  # images directly in the root have no label folder
        label = parts[0]
        items.append(DatasetItem(ref=ref, label=label, group=groups.get(rel) or group_of(rel)))
    return Dataset(tuple(items), source=source, format="folder")


def _synth_groups(source: str, settings: Settings | None) -> dict[str, str]:
    """``relative path -> source-image group`` from an ``ocrprep synth`` manifest, if present."""
    manifest = source.rstrip("/") + "/manifest.jsonl"
    try:
        text = _read_text(manifest, settings)
    except DatasetError:
        return {}
    groups = {}
    for where, record in read_json_lines(text.splitlines(), manifest):
        if "path" not in record or "source" not in record:
            raise DatasetError(f"{where}: field 'path'/'source' missing")
        groups[str(record["path"])] = group_of(str(record["source"]))
    return groups


def parse_ground_truth(
    lines: Iterable[str],
    *,
    attribute: str | None = None,
    root: str = "",
    source: str = "manifest",
) -> list[DatasetItem]:
    """Items of a Ground Truth / Rekognition image-classification manifest.

    Parameters
    ----------
    lines : iterable of str
        The JSON Lines; blank lines are ignored.
    attribute : str, optional
        The label attribute to use; default: the line's classification attribute (several that
        name different classes are an error unless ``attribute`` is given).
    root : str
        Folder that relative ``source-ref`` values are relative to.
    source : str
        Name of the manifest in error messages.

    Raises
    ------
    DatasetError
        Naming the line number and the field at fault.

    Examples
    --------
    >>> line = ('{"source-ref": "s3://b/a.jpg", "class": 1, "class-metadata": {"class-name": '
    ...         '"good", "type": "groundtruth/image-classification", "confidence": 0.9}}')
    >>> parse_ground_truth([line])[0].label
    'good'
    """
    items = []
    for where, record in read_json_lines(lines, source):
        ref = source_ref(record, where)
        names = [attribute] if attribute else [k[: -len("-metadata")] for k in record if k.endswith("-metadata")]
        if not names:
            raise DatasetError(f"{where}: no label attribute (a field '<name>' with '<name>-metadata')")
        labels: dict[str, tuple[str, float | None]] = {}
        for name in names:
            labels[name] = _gt_label(record, name, where)
        distinct = {label for label, _ in labels.values()}
        if len(distinct) > 1:
            raise DatasetError(
                f"{where}: attributes {', '.join(sorted(labels))} give different labels "
                f"({', '.join(sorted(distinct))}); choose one with attribute=..."
            )
        label, confidence = next(iter(labels.values()))
        group = record.get("ocrprep-group")
        if group is not None and not isinstance(group, str):
            raise DatasetError(f"{where}: field 'ocrprep-group' must be a string")
        resolved = resolve_ref(ref, root)
        items.append(DatasetItem(resolved, label, group or group_of(resolved), confidence))
    return items


def _gt_label(record: dict[str, Any], name: str, where: str) -> tuple[str, float | None]:
    meta_key = f"{name}-metadata"
    if name not in record:
        raise DatasetError(f"{where}: field {name!r} (the class index) is missing")
    value = record[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DatasetError(f"{where}: field {name!r} must be a non-negative integer class index")
    meta = record.get(meta_key)
    if not isinstance(meta, dict):
        raise DatasetError(f"{where}: field {meta_key!r} is missing or not an object")
    kind = meta.get("type")
    if kind is not None and kind != CLASSIFICATION_TYPE:
        raise DatasetError(
            f"{where}: field '{meta_key}.type' is {kind!r}; only {CLASSIFICATION_TYPE!r} is supported"
        )
    label = meta.get("class-name")
    if not isinstance(label, str) or not _LABEL.match(label):
        raise DatasetError(f"{where}: field '{meta_key}.class-name' is missing or not a label name")
    confidence = meta.get("confidence")
    if confidence is not None and (
        isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1
    ):
        raise DatasetError(f"{where}: field '{meta_key}.confidence' must be a number from 0 to 1")
    human = meta.get("human-annotated")
    if human is not None and human not in ("yes", "no"):
        raise DatasetError(f"{where}: field '{meta_key}.human-annotated' must be 'yes' or 'no'")
    for text_field in ("job-name", "creation-date"):
        if text_field in meta and not isinstance(meta[text_field], str):
            raise DatasetError(f"{where}: field '{meta_key}.{text_field}' must be a string")
    if "creation-date" in meta:
        try:
            datetime.fromisoformat(meta["creation-date"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise DatasetError(f"{where}: field '{meta_key}.creation-date' is not an ISO date") from exc
    return label, float(confidence) if confidence is not None else None


def parse_label_studio(text: str, *, root: str = "", source: str = "export") -> list[DatasetItem]:
    """Items of a Label Studio JSON export (full or JSON-MIN) of single image choices.

    Raises
    ------
    DatasetError
        Naming the task (its index and id) and the field at fault.

    Examples
    --------
    >>> export = '[{"id": 7, "data": {"image": "s3://b/x.png"}, "annotations": [{"result": ' \\
    ...          '[{"type": "choices", "value": {"choices": ["bad"]}}]}]}]'
    >>> parse_label_studio(export)[0].label
    'bad'
    """
    items = []
    for where, task in read_label_studio_tasks(text, source):
        image = label_studio_image(task, where)
        if "data" in task:
            label = _ls_choice(task, where)
        else:  # JSON-MIN: {"image": ..., "choice": ...}
            choice = task.get("choice", task.get("choices"))
            if isinstance(choice, dict):
                choice = choice.get("choices")
            if isinstance(choice, list):
                choice = choice[0] if len(choice) == 1 else None
            if not isinstance(choice, str):
                raise DatasetError(f"{where}: field 'choice' is missing or not one label")
            label = choice
        if label is None:
            continue  # a task nobody labelled (or every annotation cancelled)
        if not _LABEL.match(label):
            raise DatasetError(f"{where}: field 'choices' holds an invalid label {label!r}")
        ref = label_studio_ref(image, root, where)
        items.append(DatasetItem(ref, label, group_of(ref)))
    return items


def _ls_choice(task: dict[str, Any], where: str) -> str | None:
    for path, result in label_studio_results(task, where):
        if result.get("type", "choices") != "choices":
            continue
        value = result.get("value")
        choices = value.get("choices") if isinstance(value, dict) else None
        if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], str):
            raise DatasetError(f"{where}: field '{path}.value.choices' must hold exactly one label")
        return choices[0]
    return None


def check_images(dataset: Dataset, *, allow_missing: bool = False) -> Dataset:
    """Check that every local image exists; report the missing ones.

    Raises
    ------
    DatasetError
        Listing the missing images, unless ``allow_missing``; then they are dropped from the
        items and listed in ``Dataset.missing``.
    """
    missing = [item.ref for item in dataset.items if "://" not in item.ref and not Path(item.ref).is_file()]
    if not missing:
        return dataset
    if not allow_missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DatasetError(
            f"dataset {dataset.source}: {len(missing)} listed image(s) not found: {shown}"
        )
    gone = set(missing)
    kept = tuple(item for item in dataset.items if item.ref not in gone)
    return replace(dataset, items=kept, missing=tuple(missing))


def merge_datasets(datasets: Sequence[Dataset]) -> Dataset:
    """One dataset holding the items of all (for several sources of training data)."""
    items = tuple(item for dataset in datasets for item in dataset.items)
    missing = tuple(ref for dataset in datasets for ref in dataset.missing)
    source = " + ".join(d.source for d in datasets)
    formats = "+".join(sorted({d.format for d in datasets}))
    return Dataset(items, source=source, format=formats, missing=missing)


# -- export ---------------------------------------------------------------------------------------


def export_ground_truth(
    dataset: Dataset,
    *,
    attribute: str = "class",
    job_name: str = "ocrprep",
    created: datetime | None = None,
) -> str:
    """The dataset as a Ground Truth image-classification manifest (JSON Lines text).

    Each line also carries ``ocrprep-group`` (the source image), which other readers ignore.

    Examples
    --------
    >>> ds = Dataset((DatasetItem("/data/a.jpg", "good", "a"),))
    >>> line = json.loads(export_ground_truth(ds, created=datetime(2024, 1, 1, tzinfo=UTC)))
    >>> line["class"], line["class-metadata"]["class-name"]
    (0, 'good')
    """
    stamp = (created or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z")
    index = {label: i for i, label in enumerate(dataset.labels)}
    rows = (
        {
            **classification_row(
                item.ref, attribute, index[item.label], item.label,
                confidence=1.0 if item.confidence is None else item.confidence,
                job_name=job_name, created=stamp,
            ),
            "ocrprep-group": item.group,
        }
        for item in dataset.items
    )
    return json_lines(rows, ensure_ascii=True)


def save_dataset(dataset: Dataset, folder: str | os.PathLike[str], name: str) -> Path:
    """Save ``dataset`` as ``folder/<name>.manifest``, a Ground Truth manifest (job name ``name``).

    Raises
    ------
    MalformedRequest
        If ``name`` is not a valid name (letters, digits, ``_-.``).
    StorageError
        If the file cannot be written.
    """
    from ocrprep.errors import StorageError
    from ocrprep.registry import check_name

    target = Path(folder) / f"{check_name(name)}.manifest"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(export_ground_truth(dataset, job_name=name))
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc}") from exc
    return target


# -- splitting ------------------------------------------------------------------------------------


def split_dataset(
    dataset: Dataset, *, test_fraction: float = 0.2, seed: int = 0
) -> tuple[Dataset, Dataset]:
    """A stratified train/test split by group: items of one source image stay together.

    Groups are visited in a seeded order and each goes to the side that brings every label's
    test share closest to ``test_fraction``.

    Returns
    -------
    (Dataset, Dataset)
        Train and test.

    Raises
    ------
    DatasetError
        If ``test_fraction`` is not in (0, 1) or there are fewer than two groups.

    Examples
    --------
    >>> items = tuple(DatasetItem(f"/x/{l}/{g}.png", l, str(g)) for g in range(10) for l in ("a", "b"))
    >>> train, test = split_dataset(Dataset(items), test_fraction=0.2)
    >>> len(train), len(test), {i.group for i in train.items} & {i.group for i in test.items}
    (16, 4, set())
    """
    if not 0 < test_fraction < 1:
        raise DatasetError(f"test_fraction must be between 0 and 1, got {test_fraction}")
    by_group: dict[str, list[DatasetItem]] = defaultdict(list)
    for item in dataset.items:
        by_group[item.group].append(item)
    if len(by_group) < 2:
        raise DatasetError(f"dataset {dataset.source}: needs at least two source images to split")
    labels = dataset.labels
    position = {label: i for i, label in enumerate(labels)}
    totals = np.zeros(len(labels))
    composition = {}
    for group, members in by_group.items():
        vec = np.zeros(len(labels))
        for item in members:
            vec[position[item.label]] += 1
        composition[group] = vec
        totals += vec
    target = totals * test_fraction
    rng = np.random.default_rng(seed)
    names = sorted(by_group)
    order = [names[i] for i in rng.permutation(len(names))]
    test_counts = np.zeros(len(labels))
    test_groups: set[str] = set()
    for group in order:
        vec = composition[group]
        weights = 1 / np.maximum(totals, 1)
        before = np.abs(target - test_counts) @ weights
        after = np.abs(target - test_counts - vec) @ weights
        if after < before:
            test_groups.add(group)
            test_counts += vec
    if not test_groups:
        test_groups.add(order[0])
    if len(test_groups) == len(names):
        test_groups.discard(order[-1])
    train = tuple(item for item in dataset.items if item.group not in test_groups)
    test = tuple(item for item in dataset.items if item.group in test_groups)
    return (
        replace(dataset, items=train, source=f"{dataset.source} [train]"),
        replace(dataset, items=test, source=f"{dataset.source} [test]"),
    )


# -- reading bytes --------------------------------------------------------------------------------


def read_image_bytes(ref: str, settings: Settings | None = None) -> bytes:
    """The bytes of a dataset image: local files directly, URIs through ``ocrprep.storage``.

    Raises
    ------
    DatasetError
        Naming the image when it cannot be read.
    """
    if "://" not in ref or ref.startswith("file://"):
        path = Path(ref.removeprefix("file://"))
        try:
            return path.read_bytes()
        except OSError as exc:
            raise DatasetError(f"cannot read dataset image {ref}: {exc.strerror or exc}") from exc
    from ocrprep import storage

    try:
        return storage.read_bytes(ref, settings.storage if settings else None)
    except OcrprepError as exc:
        raise DatasetError(f"cannot read dataset image {ref}: {exc.message}") from exc


def content_hash(parts: Iterable[str]) -> str:
    """SHA-256 of the given lines, joined by newlines (dataset hashes)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _read_text(source: str, settings: Settings | None) -> str:
    if "://" in source and not source.startswith("file://"):
        data = read_image_bytes(source, settings)
    else:
        path = Path(source.removeprefix("file://"))
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DatasetError(f"cannot read {source}: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{source}: not UTF-8 text (byte {exc.start})") from exc


def _parent(source: str) -> str:
    if "://" in source and not source.startswith("file://"):
        return source.rsplit("/", 1)[0]
    return str(Path(source.removeprefix("file://")).resolve().parent)


def _list_remote(source: str, settings: Settings | None) -> list[str]:
    from ocrprep import storage

    try:
        return storage.list_images(source, settings.storage if settings else None)
    except OcrprepError as exc:
        raise DatasetError(f"cannot list dataset {source}: {exc.message}") from exc
