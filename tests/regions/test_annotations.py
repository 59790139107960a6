from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ocrprep.errors import DatasetError
from ocrprep.regions.annotations import load_rgb, parse_detection_manifest, parse_label_studio_boxes


def _line(**over):
    record = {
        "source-ref": "img/1.jpg",
        "regions": {
            "image_size": [{"width": 400, "height": 800, "depth": 3}],
            "annotations": [
                {"class_id": 0, "left": 10, "top": 20, "width": 100, "height": 30},
                {"class_id": 1, "left": 50, "top": 700, "width": 200, "height": 40},
            ],
        },
        "regions-metadata": {"class-map": {"0": "logo", "1": "total"}, "type": "groundtruth/object-detection"},
    }
    record.update(over)
    return json.dumps(record)


def test_ground_truth_manifest_is_parsed_with_class_names_and_root():
    items = parse_detection_manifest(_line() + "\n\n" + _line(), root="s3://bucket/data")
    assert len(items) == 2
    item = items[0]
    assert item.ref == "s3://bucket/data/img/1.jpg"
    assert item.size == (400, 800)
    assert [b.label for b in item.boxes] == ["logo", "total"]
    assert item.boxes[1].xyxy() == (50.0, 700.0, 250.0, 740.0)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"regions": {"annotations": []}}), "source-ref"),
        (json.dumps({"source-ref": "a.jpg"}), "annotations"),
        (json.dumps({"source-ref": "a.jpg", "r": {"annotations": [{"class_id": 0, "left": "x", "top": 1,
                                                                    "width": 1, "height": 1}]}}), "'left'"),
        (json.dumps({"source-ref": "a.jpg", "r": {"annotations": [{"left": 1, "top": 1, "width": 1,
                                                                    "height": 1}]}}), "class_id"),
    ],
)
def test_malformed_manifest_line_is_named(line, field):
    with pytest.raises(DatasetError) as info:
        parse_detection_manifest(_line() + "\n" + line, source="train.manifest")
    assert "train.manifest line 2" in info.value.message
    assert field in info.value.message


def _task(value, **result):
    return {
        "data": {"image": "/data/local-files/?d=photos/a.jpg"},
        "annotations": [{"result": [dict({"type": "rectanglelabels", "original_width": 1000,
                                          "original_height": 500, "value": value}, **result)]}],
    }


def test_label_studio_percent_boxes_become_pixels():
    value = {"x": 10, "y": 50, "width": 20, "height": 10, "rotation": 0, "rectanglelabels": ["stamp"]}
    items = parse_label_studio_boxes(json.dumps([_task(value)]), root="/data")
    assert items[0].ref == "/data/photos/a.jpg" or items[0].ref == "photos/a.jpg" or items[0].ref.endswith("a.jpg")
    box = items[0].boxes[0]
    assert (box.label, box.left, box.top, box.width, box.height) == ("stamp", 100.0, 250.0, 200.0, 50.0)


def test_label_studio_missing_labels_is_named():
    value = {"x": 10, "y": 50, "width": 20, "height": 10}
    with pytest.raises(DatasetError) as info:
        parse_label_studio_boxes(json.dumps([_task(value)]), source="ls.json")
    assert "ls.json task 1" in info.value.message and "rectanglelabels" in info.value.message


def test_images_load_in_exif_orientation(tmp_path):
    # A 40x20 (w x h) image stored with EXIF orientation 6 (rotate 90 CW to display): 20x40 shown.
    pixels = np.zeros((20, 40, 3), np.uint8)
    pixels[:, :10] = 255  # a white band on the stored left
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif)
    shown = load_rgb(str(path))
    assert shown.shape[:2] == (40, 20)
    assert shown[:10].mean() > 200  # the stored left band is on top once displayed
