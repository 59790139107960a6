"""Manifest formats, read and written in one place: SageMaker Ground Truth / Rekognition JSON Lines
and Label Studio JSON exports.

The readers turn text into records and say where each one is (``"train.manifest line 3"``,
``"export.json task 2 (id 17)"``), so every :class:`~ocrprep.errors.DatasetError` names the line
or task and the field. What the records mean is the callers' business:

- :mod:`ocrprep.datasets` reads image-classification labels (``<attr>`` = class index,
  ``<attr>-metadata.class-name``) and Label Studio ``choices``;
- :mod:`ocrprep.regions.annotations` reads object-detection boxes (``<attr>.annotations``,
  ``<attr>-metadata.class-map``) and Label Studio ``rectanglelabels``;
- :mod:`ocrprep.server.manifest` and :func:`ocrprep.datasets.export_ground_truth` write rows
  built by :func:`classification_row` and :func:`detection_row`.

Image references resolve the same way for every format (:func:`resolve_ref`,
:func:`label_studio_ref`). Images are decoded, with their EXIF orientation applied, by
:func:`ocrprep.imageio.decode_image` only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from ocrprep.errors import DatasetError

__all__ = [
    "CLASSIFICATION_TYPE",
    "DETECTION_TYPE",
    "classification_row",
    "detection_row",
    "json_lines",
    "label_studio_image",
    "label_studio_ref",
    "label_studio_results",
    "number",
    "read_json_lines",
    "read_label_studio_tasks",
    "resolve_ref",
    "source_ref",
]

CLASSIFICATION_TYPE = "groundtruth/image-classification"
DETECTION_TYPE = "groundtruth/object-detection"


# -- JSON Lines (Ground Truth, Rekognition) -------------------------------------------------------


def read_json_lines(lines: Iterable[str], source: str = "manifest") -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, record)`` for each non-blank line, ``where`` being ``"<source> line <n>"``.

    Raises
    ------
    DatasetError
        On a line that is not JSON, or not a JSON object, naming the line.

    Examples
    --------
    >>> list(read_json_lines(['{"a": 1}', '', '{"b": 2}'], "m"))
    [('m line 1', {'a': 1}), ('m line 3', {'b': 2})]
    """
    for index, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        where = f"{source} line {index}"
        try:
            record = json.loads(raw)
        except ValueError as exc:
            raise DatasetError(f"{where}: not valid JSON ({exc.args[0]})") from exc
        if not isinstance(record, dict):
            raise DatasetError(f"{where}: expected a JSON object, got {type(record).__name__}")
        yield where, record


def source_ref(record: Mapping[str, Any], where: str) -> str:
    """The record's ``source-ref``, stripped.

    Raises
    ------
    DatasetError
        When it is missing, empty or not a string.
    """
    ref = record.get("source-ref")
    if not isinstance(ref, str) or not ref.strip():
        raise DatasetError(f"{where}: field 'source-ref' is missing or not a string")
    return ref.strip()


def number(obj: Mapping[str, Any], key: str, where: str) -> float:
    """``obj[key]`` as a float; a bool, a string or a missing value is a :class:`DatasetError`.

    Examples
    --------
    >>> number({"left": 3}, "left", "m line 1")
    3.0
    """
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DatasetError(f"{where}: field {key!r} must be a number, got {value!r}")
    return float(value)


def classification_row(
    ref: str,
    attribute: str,
    class_index: int,
    class_name: str,
    *,
    confidence: float,
    job_name: str,
    created: str,
) -> dict[str, Any]:
    """A Ground Truth image-classification output row.

    Examples
    --------
    >>> row = classification_row("s3://b/a.jpg", "q", 1, "bad", confidence=1.0, job_name="q",
    ...                          created="2026-01-01T00:00:00")
    >>> row["q"], row["q-metadata"]["class-name"], row["q-metadata"]["job-name"]
    (1, 'bad', 'labeling-job/q')
    """
    return {
        "source-ref": ref,
        attribute: class_index,
        f"{attribute}-metadata": {
            "class-name": class_name,
            "confidence": confidence,
            "type": CLASSIFICATION_TYPE,
            "job-name": f"labeling-job/{job_name}",
            "human-annotated": "yes",
            "creation-date": created,
        },
    }


def detection_row(
    ref: str,
    attribute: str,
    boxes: Sequence[tuple[int, float, float, float, float]],
    *,
    image_size: tuple[int, int],
    class_names: Sequence[str],
    confidences: Sequence[float],
    job_name: str,
    created: str,
) -> dict[str, Any]:
    """A Ground Truth object-detection output row; ``boxes`` are ``(class_id, left, top, width,
    height)`` in pixels (rounded to whole pixels, as Ground Truth writes them).

    Examples
    --------
    >>> row = detection_row("a.jpg", "b", [(0, 1.2, 2, 3, 4)], image_size=(10, 20),
    ...                     class_names=["total"], confidences=[0.9], job_name="b", created="x")
    >>> row["b"]["annotations"][0]["left"], row["b-metadata"]["class-map"]
    (1, {'0': 'total'})
    """
    width, height = image_size
    return {
        "source-ref": ref,
        attribute: {
            "image_size": [{"width": width, "height": height, "depth": 3}],
            "annotations": [
                {"class_id": class_id, "left": round(left), "top": round(top),
                 "width": round(box_width), "height": round(box_height)}
                for class_id, left, top, box_width, box_height in boxes
            ],
        },
        f"{attribute}-metadata": {
            "objects": [{"confidence": round(share, 4)} for share in confidences],
            "class-map": {str(i): name for i, name in enumerate(class_names)},
            "type": DETECTION_TYPE,
            "job-name": f"labeling-job/{job_name}",
            "human-annotated": "yes",
            "creation-date": created,
        },
    }


def json_lines(rows: Iterable[Mapping[str, Any]], *, ensure_ascii: bool = False) -> str:
    """The rows as JSON Lines text: one object per line, each line ending in a newline.

    Examples
    --------
    >>> json_lines([{"a": 1}, {"b": "é"}])
    '{"a": 1}\\n{"b": "é"}\\n'
    """
    return "".join(json.dumps(row, ensure_ascii=ensure_ascii) + "\n" for row in rows)


# -- Label Studio exports -------------------------------------------------------------------------


def read_label_studio_tasks(text: str, source: str = "export") -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, task)`` for each task of a Label Studio JSON export (a list, or one task).

    ``where`` is ``"<source> task <n>"`` counted from 1, with ``" (id <id>)"`` when the task has one.

    Raises
    ------
    DatasetError
        When the text is not JSON, not a list of tasks, or a task is not an object.

    Examples
    --------
    >>> [where for where, _ in read_label_studio_tasks('[{"id": 7}, {}]', "ls.json")]
    ['ls.json task 1 (id 7)', 'ls.json task 2']
    """
    try:
        tasks = json.loads(text)
    except ValueError as exc:
        raise DatasetError(f"{source}: not valid JSON ({exc.args[0]})") from exc
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise DatasetError(f"{source}: expected a JSON list of tasks")
    for index, task in enumerate(tasks, 1):
        where = f"{source} task {index}"
        if not isinstance(task, dict):
            raise DatasetError(f"{where}: expected a JSON object")
        if "id" in task:
            where += f" (id {task['id']})"
        yield where, task


def label_studio_results(task: Mapping[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(path, result)`` for each result object of a task's annotations that were not cancelled,
    ``path`` being ``"annotations[i].result[j]"`` (older exports call them ``completions``).

    Raises
    ------
    DatasetError
        When ``annotations`` is not a list, an annotation not an object, or its ``result`` not a list.
    """
    annotations = task.get("annotations", task.get("completions", []))
    if not isinstance(annotations, list):
        raise DatasetError(f"{where}: field 'annotations' must be a list")
    for a_index, annotation in enumerate(annotations):
        if not isinstance(annotation, dict):
            raise DatasetError(f"{where}: field 'annotations[{a_index}]' must be an object")
        if annotation.get("was_cancelled"):
            continue
        results = annotation.get("result")
        if not isinstance(results, list):
            raise DatasetError(f"{where}: field 'annotations[{a_index}].result' must be a list")
        for r_index, result in enumerate(results):
            if isinstance(result, dict):
                yield f"annotations[{a_index}].result[{r_index}]", result


def label_studio_image(task: Mapping[str, Any], where: str) -> str:
    """The task's ``data.image`` (JSON-MIN exports: ``image`` at the top).

    Raises
    ------
    DatasetError
        When ``data`` is not an object, or the image is missing or not a string.
    """
    data = task.get("data", task)
    if not isinstance(data, dict):
        raise DatasetError(f"{where}: field 'data' must be an object")
    image = data.get("image")
    if not isinstance(image, str) or not image:
        raise DatasetError(f"{where}: field 'data.image' is missing or not a string")
    return image


def label_studio_ref(image: str, root: str, where: str) -> str:
    """The image a Label Studio ``data.image`` names: a storage URI, a local file under ``root``
    (local storage ``/data/local-files/?d=...``; uploads ``/data/upload/...`` copied next to the
    export), or a web address.

    Raises
    ------
    DatasetError
        For an upload that is not found under ``root``.

    Examples
    --------
    >>> label_studio_ref("/data/local-files/?d=photos/a%20b.jpg", "/data", "t")
    '/data/photos/a b.jpg'
    >>> label_studio_ref("s3://bucket/x.png", "/data", "t")
    's3://bucket/x.png'
    """
    parsed = urlparse(image)
    if parsed.scheme in ("s3", "gs", "file") and not image.startswith("/"):
        return image if parsed.scheme != "file" else resolve_ref(image, root)
    if parsed.scheme in ("http", "https") and not parsed.path.startswith("/data/"):
        return image
    query = parse_qs(parsed.query)
    if "d" in query:  # local storage: /data/local-files/?d=relative/path.jpg
        return resolve_ref(unquote(query["d"][0]), root)
    if parsed.path.startswith("/data/upload/"):
        name = parsed.path.rsplit("/", 1)[-1]
        candidates = [name, name.split("-", 1)[-1]] if "-" in name else [name]
        for candidate in candidates:
            path = Path(root or ".") / candidate
            if path.exists():
                return str(path.resolve())
        raise DatasetError(
            f"{where}: field 'data.image' is a Label Studio upload ({image}); copy the uploads "
            "next to the export or pass image_root"
        )
    return resolve_ref(unquote(parsed.path if not parsed.scheme else image), root)


# -- image references -----------------------------------------------------------------------------


def resolve_ref(ref: str, root: str) -> str:
    """A manifest's image reference made usable: URIs as they are, local paths absolute, paths
    relative to a URI ``root`` (a manifest in S3) joined onto it.

    Examples
    --------
    >>> resolve_ref("img/1.jpg", "s3://bucket/data"), resolve_ref("s3://b/k.png", "/x")
    ('s3://bucket/data/img/1.jpg', 's3://b/k.png')
    >>> resolve_ref("img/1.jpg", "/data")
    '/data/img/1.jpg'
    """
    if "://" in ref and not ref.startswith("file://"):
        return ref
    path = Path(unquote(ref.removeprefix("file://"))).expanduser()
    if not path.is_absolute():
        if "://" in root and not root.startswith("file://"):
            return root.rstrip("/") + "/" + path.as_posix()
        path = Path(root.removeprefix("file://") or ".") / path
    return str(path.resolve())
