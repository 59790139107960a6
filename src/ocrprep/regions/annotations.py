"""Box annotations for the region detector: Ground Truth object-detection manifests, Label Studio.

Both parse to :class:`BoxItem` (an image reference and its boxes in *pixels* of the image as
displayed, that is after its EXIF orientation is applied). Malformed input raises
:class:`~ocrprep.errors.DatasetError` naming the line (or task) and the field.

Ground Truth object detection, one JSON object per line::

    {"source-ref": "s3://b/1.jpg",
     "boxes": {"image_size": [{"width": 800, "height": 1200, "depth": 3}],
               "annotations": [{"class_id": 0, "left": 10, "top": 20, "width": 100, "height": 40}]},
     "boxes-metadata": {"class-map": {"0": "total"}, "type": "groundtruth/object-detection"}}

Label Studio JSON export: a list of tasks whose ``annotations[].result[]`` hold
``rectanglelabels`` with ``value.x/y/width/height`` in percent of ``original_width/height``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ocrprep.errors import DatasetError, OcrprepError
from ocrprep.manifests import (
    label_studio_image,
    label_studio_ref,
    label_studio_results,
    number,
    read_json_lines,
    read_label_studio_tasks,
    resolve_ref,
    source_ref,
)

if TYPE_CHECKING:
    from ocrprep.config import Settings

__all__ = ["Box", "BoxItem", "load_rgb", "parse_detection_manifest", "parse_label_studio_boxes"]


@dataclass(frozen=True)
class Box:
    """One labelled box in pixels (left, top, width, height) of the image as shown (EXIF
    orientation applied): what a manifest holds, a worker draws and a detector is trained on."""

    label: str
    left: float
    top: float
    width: float
    height: float

    def xyxy(self) -> tuple[float, float, float, float]:
        return self.left, self.top, self.left + self.width, self.top + self.height

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "left": round(self.left, 2),
            "top": round(self.top, 2),
            "width": round(self.width, 2),
            "height": round(self.height, 2),
        }


@dataclass(frozen=True)
class BoxItem:
    """An image reference with its boxes; ``size`` is (width, height) when the source gave it."""

    ref: str
    boxes: tuple[Box, ...]
    size: tuple[int, int] | None = None


def parse_detection_manifest(text: str, *, root: str = "", source: str = "manifest") -> list[BoxItem]:
    """Parse a Ground Truth object-detection manifest (JSON lines).

    The label attribute is the key whose value holds ``annotations``; its ``<attr>-metadata``
    gives the ``class-map`` (class ids without an entry are named by their id). Image references
    resolve as :func:`ocrprep.manifests.resolve_ref` does.

    Raises
    ------
    DatasetError
        On a line that is not JSON or lacks a field, with the line number and the field.

    Examples
    --------
    >>> line = ('{"source-ref": "s3://b/a.jpg", "b": {"image_size": [{"width": 10, "height": 20}], '
    ...         '"annotations": [{"class_id": 0, "left": 1, "top": 2, "width": 3, "height": 4}]}, '
    ...         '"b-metadata": {"class-map": {"0": "total"}}}')
    >>> item = parse_detection_manifest(line)[0]
    >>> item.ref, item.size, item.boxes[0].label, item.boxes[0].xyxy()
    ('s3://b/a.jpg', (10, 20), 'total', (1.0, 2.0, 4.0, 6.0))
    """
    items = []
    for where, record in read_json_lines(text.splitlines(), source):
        ref = source_ref(record, where)
        attrs = [k for k, v in record.items() if isinstance(v, dict) and "annotations" in v]
        if len(attrs) != 1:
            raise DatasetError(
                f"{where}: expected one label attribute holding 'annotations', found {attrs or 'none'}"
            )
        attr = attrs[0]
        body = record[attr]
        metadata = record.get(f"{attr}-metadata", {})
        class_map = metadata.get("class-map", {}) if isinstance(metadata, dict) else {}
        if not isinstance(class_map, dict):
            raise DatasetError(f"{where}: field '{attr}-metadata.class-map' must be an object")
        size = None
        sizes = body.get("image_size")
        if sizes is not None:
            if not isinstance(sizes, list) or not sizes or not isinstance(sizes[0], dict):
                raise DatasetError(f"{where}: field '{attr}.image_size' must be a list of objects")
            at = f"{where}: {attr}.image_size[0]"
            size = (int(number(sizes[0], "width", at)), int(number(sizes[0], "height", at)))
        annotations = body["annotations"]
        if not isinstance(annotations, list):
            raise DatasetError(f"{where}: field '{attr}.annotations' must be a list")
        boxes = []
        for index, ann in enumerate(annotations):
            at = f"{where}: {attr}.annotations[{index}]"
            if not isinstance(ann, dict):
                raise DatasetError(f"{at} must be an object")
            class_id = ann.get("class_id")
            if isinstance(class_id, bool) or not isinstance(class_id, int | str):
                raise DatasetError(f"{at}: field 'class_id' is missing")
            label = str(class_map.get(str(class_id), class_id))
            left, top = number(ann, "left", at), number(ann, "top", at)
            width, height = number(ann, "width", at), number(ann, "height", at)
            if width <= 0 or height <= 0:
                raise DatasetError(f"{at}: 'width' and 'height' must be positive")
            boxes.append(Box(label, left, top, width, height))
        items.append(BoxItem(resolve_ref(ref, root), tuple(boxes), size))
    return items


def parse_label_studio_boxes(text: str, *, root: str = "", source: str = "export") -> list[BoxItem]:
    """Parse a Label Studio JSON export of ``rectanglelabels`` (percent coordinates).

    Coordinates are percent of the image as Label Studio displays it, which applies the EXIF
    orientation; :func:`load_rgb` loads images the same way, so the pixel boxes match. Tasks are
    named as :func:`ocrprep.manifests.read_label_studio_tasks` does (from 1, with their id);
    cancelled annotations are left out.

    Examples
    --------
    >>> export = ('[{"data": {"image": "s3://b/x.png"}, "annotations": [{"result": [{"type": '
    ...           '"rectanglelabels", "original_width": 200, "original_height": 100, "value": '
    ...           '{"x": 10, "y": 20, "width": 50, "height": 10, "rectanglelabels": ["logo"]}}]}]}]')
    >>> parse_label_studio_boxes(export)[0].boxes[0]
    Box(label='logo', left=20.0, top=20.0, width=100.0, height=10.0)
    """
    items = []
    for where, task in read_label_studio_tasks(text, source):
        image = label_studio_image(task, where)
        boxes: list[Box] = []
        size = None
        for path, result in label_studio_results(task, where):
            if result.get("type") != "rectanglelabels":
                continue
            at = f"{where}: {path}"
            value = result.get("value")
            if not isinstance(value, dict):
                raise DatasetError(f"{at}: field 'value' is missing")
            labels = value.get("rectanglelabels")
            if not isinstance(labels, list) or not labels:
                raise DatasetError(f"{at}: field 'value.rectanglelabels' is missing")
            ow, oh = number(result, "original_width", at), number(result, "original_height", at)
            size = (int(ow), int(oh))
            x, y = number(value, "x", at), number(value, "y", at)
            w, h = number(value, "width", at), number(value, "height", at)
            if abs(float(value.get("rotation", 0) or 0)) > 1e-6:
                raise DatasetError(f"{at}: rotated rectangles are not supported (value.rotation)")
            boxes.append(Box(str(labels[0]), x * ow / 100, y * oh / 100, w * ow / 100, h * oh / 100))
        items.append(BoxItem(label_studio_ref(image, root, where), tuple(boxes), size))
    return items


def load_rgb(ref: str, settings: Settings | None = None) -> np.ndarray:
    """A dataset image (a local path or a storage URI) as RGB uint8, with its EXIF orientation
    applied (as annotators saw it), decoded as everywhere else by :func:`ocrprep.imageio.decode_image`.

    Raises
    ------
    DatasetError
        Naming the image when it cannot be read or decoded.
    """
    from ocrprep.datasets import read_image_bytes
    from ocrprep.imageio import decode_image

    data = read_image_bytes(ref, settings)
    try:
        return decode_image(data, limits=settings.limits if settings else None)
    except OcrprepError as exc:
        raise DatasetError(f"cannot read image {ref}: {exc.message}") from exc
