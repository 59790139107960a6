"""Dataset import (folder, Ground Truth, Rekognition, Label Studio), export and grouped split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrprep.datasets import (
    Dataset,
    DatasetItem,
    detect_format,
    export_ground_truth,
    group_of,
    load_dataset,
    parse_ground_truth,
    split_dataset,
)
from ocrprep.errors import DatasetError


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG fake")
    return path


def _gt_line(ref: str, label: str, index: int, attribute: str = "class", **meta: object) -> dict:
    metadata = {
        "class-name": label,
        "confidence": 0.93,
        "type": "groundtruth/image-classification",
        "job-name": "labeling-job/receipts",
        "human-annotated": "yes",
        "creation-date": "2024-03-01T10:00:00.000000",
    }
    metadata.update(meta)
    return {"source-ref": ref, attribute: index, f"{attribute}-metadata": metadata}


def _write_lines(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def test_folder_labels_come_from_subfolders(tmp_path: Path) -> None:
    _touch(tmp_path / "good" / "000.jpg")
    _touch(tmp_path / "good" / "001.jpg")
    _touch(tmp_path / "bad" / "blur__000__severe.png")
    _touch(tmp_path / "bad" / "deep" / "x.png")
    _touch(tmp_path / "unlabelled.jpg")
    (tmp_path / "good" / "notes.txt").write_text("not an image")
    dataset = load_dataset(tmp_path)
    assert dataset.format == "folder"
    assert dataset.counts() == {"bad": 2, "good": 2}
    groups = {Path(i.ref).name: i.group for i in dataset.items}
    assert groups["blur__000__severe.png"] == groups["000.jpg"] == "000"


def test_folder_uses_the_synth_manifest_for_groups(tmp_path: Path) -> None:
    _touch(tmp_path / "good" / "a.jpg")
    _touch(tmp_path / "bad" / "weird-name.png")
    (tmp_path / "manifest.jsonl").write_text(
        json.dumps({"path": "bad/weird-name.png", "label": "bad", "source": "/data/in/a.jpg"}) + "\n"
    )
    dataset = load_dataset(tmp_path)
    assert {i.group for i in dataset.items} == {"a"}


def test_ground_truth_manifest(tmp_path: Path) -> None:
    _touch(tmp_path / "imgs" / "a.jpg")
    _touch(tmp_path / "imgs" / "b.jpg")
    manifest = _write_lines(tmp_path / "out.manifest", [
        _gt_line("imgs/a.jpg", "good", 0),
        "",
        _gt_line(str(tmp_path / "imgs" / "b.jpg"), "bad", 1),
        _gt_line("s3://bucket/c.jpg", "bad", 1),
    ])
    dataset = load_dataset(manifest)
    assert dataset.format == "groundtruth"
    assert [(Path(i.ref).name, i.label) for i in dataset.items] == [("a.jpg", "good"), ("b.jpg", "bad"), ("c.jpg", "bad")]
    assert dataset.items[0].ref == str((tmp_path / "imgs" / "a.jpg").resolve())
    assert dataset.items[2].ref == "s3://bucket/c.jpg"
    assert dataset.items[0].confidence == pytest.approx(0.93)


MALFORMED = [
    ("{not json", "not valid JSON"),
    ('["a list"]', "expected a JSON object"),
    ({"class": 0, "class-metadata": {"class-name": "good"}}, "'source-ref'"),
    ({"source-ref": "a.jpg"}, "no label attribute"),
    ({"source-ref": "a.jpg", "class-metadata": {"class-name": "good"}}, "'class'"),
    ({"source-ref": "a.jpg", "class": "zero", "class-metadata": {"class-name": "good"}}, "'class'"),
    ({"source-ref": "a.jpg", "class": 0, "class-metadata": "good"}, "'class-metadata'"),
    ({"source-ref": "a.jpg", "class": 0, "class-metadata": {"confidence": 1}}, "'class-metadata.class-name'"),
    (_gt_line("a.jpg", "good", 0, confidence=1.5), "'class-metadata.confidence'"),
    (_gt_line("a.jpg", "good", 0, type="groundtruth/object-detection"), "'class-metadata.type'"),
    (_gt_line("a.jpg", "good", 0, **{"human-annotated": "maybe"}), "'class-metadata.human-annotated'"),
    (_gt_line("a.jpg", "good", 0, **{"creation-date": "yesterday"}), "'class-metadata.creation-date'"),
    (_gt_line("a.jpg", "good", 0, **{"job-name": 7}), "'class-metadata.job-name'"),
]


@pytest.mark.parametrize(("record", "field"), MALFORMED)
def test_malformed_manifest_line_names_line_and_field(tmp_path: Path, record: object, field: str) -> None:
    _touch(tmp_path / "ok.jpg")
    manifest = _write_lines(tmp_path / "m.manifest", [_gt_line("ok.jpg", "good", 0), record])
    with pytest.raises(DatasetError) as caught:
        load_dataset(manifest, format="groundtruth")
    assert "line 2" in caught.value.message
    assert field in caught.value.message


def test_rekognition_manifest_with_several_attributes(tmp_path: Path) -> None:
    _touch(tmp_path / "a.jpg")
    agreeing = {**_gt_line("a.jpg", "good", 0, attribute="quality"), **_gt_line("a.jpg", "good", 0, attribute="review")}
    manifest = _write_lines(tmp_path / "rek.manifest", [agreeing])
    assert detect_format(str(manifest)) == "rekognition"
    assert load_dataset(manifest).items[0].label == "good"
    disagreeing = {**_gt_line("a.jpg", "good", 0, attribute="quality"), **_gt_line("a.jpg", "bad", 1, attribute="review")}
    manifest = _write_lines(tmp_path / "rek2.manifest", [disagreeing])
    with pytest.raises(DatasetError, match="line 1.*quality, review"):
        load_dataset(manifest)
    assert load_dataset(manifest, attribute="review").items[0].label == "bad"


def test_label_studio_full_and_min_exports(tmp_path: Path) -> None:
    _touch(tmp_path / "pics" / "a.jpg")
    _touch(tmp_path / "pics" / "b.jpg")
    full = [
        {"id": 1, "data": {"image": "/data/local-files/?d=pics/a.jpg"},
         "annotations": [{"result": [{"type": "choices", "value": {"choices": ["good"]}}]}]},
        {"id": 2, "data": {"image": "s3://bucket/b.jpg"},
         "annotations": [{"was_cancelled": True, "result": []},
                         {"result": [{"type": "choices", "value": {"choices": ["bad"]}}]}]},
        {"id": 3, "data": {"image": "pics/b.jpg"}, "annotations": []},  # not labelled yet
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(full))
    dataset = load_dataset(path)
    assert dataset.format == "labelstudio"
    assert [(i.ref.rsplit("/", 1)[-1], i.label) for i in dataset.items] == [("a.jpg", "good"), ("b.jpg", "bad")]
    minimal = [{"image": "pics/a.jpg", "choice": "good"}, {"image": "pics/b.jpg", "choice": "bad"}]
    path.write_text(json.dumps(minimal))
    assert load_dataset(path).counts() == {"bad": 1, "good": 1}


@pytest.mark.parametrize(
    ("task", "field"),
    [
        ({"id": 9, "data": {"image": "a.jpg"}, "annotations": [{"result": [{"type": "choices", "value": {"choices": ["a", "b"]}}]}]}, "value.choices"),
        ({"id": 9, "data": "a.jpg"}, "'data'"),
        ({"id": 9, "data": {}, "annotations": [{"result": [{"type": "choices", "value": {"choices": ["a"]}}]}]}, "'data.image'"),
        ({"id": 9, "data": {"image": "a.jpg"}, "annotations": {"result": []}}, "'annotations'"),
    ],
)
def test_malformed_label_studio_task_names_task_and_field(tmp_path: Path, task: dict, field: str) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps([task]))
    with pytest.raises(DatasetError) as caught:
        load_dataset(path, format="labelstudio")
    assert "task 1 (id 9)" in caught.value.message
    assert field in caught.value.message


def test_missing_images_are_reported(tmp_path: Path) -> None:
    _touch(tmp_path / "a.jpg")
    manifest = _write_lines(tmp_path / "m.manifest", [
        _gt_line("a.jpg", "good", 0), _gt_line("gone.jpg", "bad", 1),
    ])
    with pytest.raises(DatasetError, match="1 listed image.*gone.jpg"):
        load_dataset(manifest)
    dataset = load_dataset(manifest, allow_missing=True)
    assert [Path(i.ref).name for i in dataset.items] == ["a.jpg"]
    assert [Path(m).name for m in dataset.missing] == ["gone.jpg"]
    assert dataset.summary()["missing"] == list(dataset.missing)


def test_export_round_trip(tmp_path: Path) -> None:
    for name in ("good/1.jpg", "good/2.jpg", "bad/blur__1__severe.png"):
        _touch(tmp_path / "data" / name)
    original = load_dataset(tmp_path / "data")
    text = export_ground_truth(original, attribute="quality", job_name="rt")
    lines = [json.loads(line) for line in text.splitlines()]
    assert all(line["quality-metadata"]["type"] == "groundtruth/image-classification" for line in lines)
    assert {line["quality-metadata"]["class-name"]: line["quality"] for line in lines} == {"bad": 0, "good": 1}
    path = tmp_path / "export.manifest"
    path.write_text(text)
    again = load_dataset(path)
    key = lambda d: sorted((i.ref, i.label, i.group) for i in d.items)  # noqa: E731
    assert key(again) == key(original)


def _grouped(groups: int, variants: int, seed: int = 0) -> Dataset:
    items = []
    for g in range(groups):
        items.append(DatasetItem(f"/d/good/{g:03d}.jpg", "good", f"{g:03d}"))
        items.extend(DatasetItem(f"/d/bad/k{v}__{g:03d}__severe.png", "bad", f"{g:03d}") for v in range(variants))
    return Dataset(tuple(items), source="mem")


def test_split_keeps_groups_together_and_stratifies() -> None:
    train, test = split_dataset(_grouped(50, 5), test_fraction=0.2, seed=3)
    train_groups = {i.group for i in train.items}
    test_groups = {i.group for i in test.items}
    assert not train_groups & test_groups
    assert len(train.items) + len(test.items) == 300
    counts = Counter(i.label for i in test.items)
    assert counts["good"] == 10 and counts["bad"] == 50
    again = split_dataset(_grouped(50, 5), test_fraction=0.2, seed=3)
    assert again[1].items == test.items
    other = split_dataset(_grouped(50, 5), test_fraction=0.2, seed=4)
    assert other[1].items != test.items


@settings(max_examples=30, deadline=None)
@given(groups=st.integers(2, 40), variants=st.integers(0, 4), fraction=st.floats(0.1, 0.5), seed=st.integers(0, 99))
def test_split_never_straddles_and_leaves_both_sides(groups: int, variants: int, fraction: float, seed: int) -> None:
    train, test = split_dataset(_grouped(groups, variants), test_fraction=fraction, seed=seed)
    assert train.items and test.items
    assert not {i.group for i in train.items} & {i.group for i in test.items}


def test_split_refuses_single_group() -> None:
    with pytest.raises(DatasetError, match="two source images"):
        split_dataset(_grouped(1, 3))


def test_group_of() -> None:
    assert group_of("s3://b/bad/noise__X12__mild__3.png") == "X12"
    assert group_of("/data/good/receipt.final.jpg") == "receipt.final"


def test_parse_ground_truth_is_usable_without_files() -> None:
    items = parse_ground_truth([json.dumps(_gt_line("s3://b/k.png", "invoice", 2))])
    assert items[0].label == "invoice" and items[0].group == "k"


def test_folder_dataset_from_an_object_store_prefix() -> None:
    from ocrprep import storage

    for key in ("good/a.png", "good/b.png", "bad/blur__a__severe.png", "readme.txt"):
        storage.write_bytes(f"mem://datasets-test/set1/{key}", b"x")
    dataset = load_dataset("mem://datasets-test/set1")
    assert dataset.format == "folder"
    assert dataset.counts() == {"bad": 1, "good": 2}
    assert all(item.ref.startswith("mem://datasets-test/set1/") for item in dataset.items)
    assert {i.group for i in dataset.items} == {"a", "b"}
