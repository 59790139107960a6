"""One reader and writer per manifest format, shared by classification datasets, box annotations
and the labelling server's output."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from ocrprep.datasets import Dataset, DatasetItem, export_ground_truth, parse_ground_truth, parse_label_studio
from ocrprep.errors import DatasetError
from ocrprep.manifests import detection_row, json_lines, read_json_lines, read_label_studio_tasks
from ocrprep.regions.annotations import load_rgb, parse_detection_manifest, parse_label_studio_boxes


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{oops", "m line 2: not valid JSON"), ("[1, 2]", "m line 2: expected a JSON object, got list")],
)
def test_json_lines_errors_name_the_line_for_every_reader(text: str, expected: str) -> None:
    lines = ["  ", text]  # a blank line is skipped but counted
    for parse in (lambda: list(read_json_lines(lines, "m")),
                  lambda: parse_ground_truth(lines, source="m"),
                  lambda: parse_detection_manifest("\n".join(lines), source="m")):
        with pytest.raises(DatasetError, match=expected):
            parse()


def test_label_studio_tasks_are_named_and_resolved_alike_by_both_readers(tmp_path: Path) -> None:
    task = {"id": 41, "data": {"image": "/data/local-files/?d=photos/a%20b.jpg"},
            "annotations": [{"result": [
                {"type": "choices", "value": {"choices": ["receipt"]}},
                {"type": "rectanglelabels", "original_width": 200, "original_height": 100,
                 "value": {"x": 10, "y": 20, "width": 50, "height": 10, "rectanglelabels": ["total"]}},
            ]}]}
    text = json.dumps([task])
    (choice,) = parse_label_studio(text, root=str(tmp_path))
    (boxes,) = parse_label_studio_boxes(text, root=str(tmp_path))
    assert choice.ref == boxes.ref == str((tmp_path / "photos" / "a b.jpg").resolve())
    assert (choice.label, boxes.boxes[0].label) == ("receipt", "total")
    broken = dict(task, data={"picture": "x.jpg"})
    for parse in (parse_label_studio, parse_label_studio_boxes):
        with pytest.raises(DatasetError, match=r"ls.json task 1 \(id 41\): field 'data.image'"):
            parse(json.dumps([task, broken][1:]), source="ls.json")
    assert [w for w, _ in read_label_studio_tasks(json.dumps([{}, {"id": 3}]), "e")] == ["e task 1", "e task 2 (id 3)"]


def test_cancelled_label_studio_annotations_are_left_out_of_boxes() -> None:
    result = {"type": "rectanglelabels", "original_width": 100, "original_height": 100,
              "value": {"x": 1, "y": 1, "width": 5, "height": 5, "rectanglelabels": ["logo"]}}
    task = {"data": {"image": "s3://b/a.png"},
            "annotations": [{"was_cancelled": True, "result": [result]}, {"result": []}]}
    (item,) = parse_label_studio_boxes(json.dumps([task]))
    assert item.boxes == ()


def test_classification_export_and_detection_rows_read_back() -> None:
    dataset = Dataset((DatasetItem("s3://b/a.jpg", "good", "a", 0.75), DatasetItem("s3://b/é.jpg", "bad", "e")))
    text = export_ground_truth(dataset, created=datetime(2026, 1, 1, tzinfo=UTC))
    assert text.isascii()  # the export stays ASCII JSON, as before
    back = parse_ground_truth(text.splitlines())
    assert [(i.ref, i.label, i.group, i.confidence) for i in back] == [
        ("s3://b/a.jpg", "good", "a", 0.75), ("s3://b/é.jpg", "bad", "e", 1.0)]
    row = detection_row("s3://b/a.jpg", "boxes", [(1, 10.4, 20, 30, 40)], image_size=(100, 200),
                        class_names=["logo", "total"], confidences=[0.5], job_name="j", created="2026-01-01T00:00:00")
    (item,) = parse_detection_manifest(json_lines([row]))
    assert item.size == (100, 200)
    assert (item.boxes[0].label, item.boxes[0].xyxy()) == ("total", (10.0, 20.0, 40.0, 60.0))


def test_dataset_images_decode_like_the_pipeline(tmp_path: Path) -> None:
    """A transparent PNG is composited on white, as ocrprep.imageio does for process()."""
    from PIL import Image

    from ocrprep.imageio import decode_image

    rgba = np.zeros((8, 10, 4), np.uint8)
    rgba[:, :5] = (200, 10, 10, 255)
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path)
    image = load_rgb(str(path))
    assert np.array_equal(image, decode_image(path.read_bytes()))
    assert image[0, 9].tolist() == [255, 255, 255] and image[0, 0].tolist() == [200, 10, 10]
    with pytest.raises(DatasetError, match="gone.png"):
        load_rgb(str(tmp_path / "gone.png"))


def test_saved_datasets_read_back_and_bad_names_are_refused(tmp_path: Path) -> None:
    from ocrprep.datasets import load_dataset, save_dataset
    from ocrprep.errors import MalformedRequest

    dataset = Dataset((DatasetItem("s3://b/a.jpg", "good", "a"), DatasetItem("s3://b/b.jpg", "bad", "b")))
    target = save_dataset(dataset, tmp_path / "datasets", "mine")
    assert target == tmp_path / "datasets" / "mine.manifest"
    back = load_dataset(target)
    assert [(i.ref, i.label, i.group) for i in back.items] == [(i.ref, i.label, i.group) for i in dataset.items]
    with pytest.raises(MalformedRequest, match="invalid project name"):
        save_dataset(dataset, tmp_path, "../escape")
