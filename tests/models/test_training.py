"""Features, a tiny training run, determinism, the model folder, loading and detect_labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from _models_support import TINY_PARAMS, synthetic_page, tiny_dataset, tiny_dataset_dir, tiny_model_dir  # noqa: F401

from ocrprep.datasets import Dataset, split_dataset
from ocrprep.errors import DatasetError, MalformedRequest, ModelError
from ocrprep.models import detect_labels, load_model
from ocrprep.models.features import extract_features, feature_names, working_gray
from ocrprep.models.training import TrainingParams, train_model


def test_features_are_finite_named_and_leave_the_input_alone() -> None:
    page = synthetic_page(3, 300, 220)
    before = page.copy()
    values = extract_features(page)
    assert values.shape == (len(feature_names()),)
    assert np.isfinite(values).all()
    assert np.array_equal(page, before)
    gray = extract_features(page[:, :, 0])
    assert gray.shape == values.shape


def test_features_tell_blur_from_sharp() -> None:
    import cv2

    page = synthetic_page(4, 400, 300)
    blurred = cv2.GaussianBlur(page, (0, 0), 3)
    names = feature_names()
    sharp_v, blur_v = extract_features(page), extract_features(blurred)
    i = names.index("grad_ratio_s1_s2")
    assert blur_v[i] < sharp_v[i]


def test_working_image_is_never_enlarged_and_bad_input_is_refused() -> None:
    assert working_gray(np.zeros((100, 50), np.uint8)).shape == (100, 50)
    with pytest.raises(MalformedRequest):
        extract_features(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(MalformedRequest):
        extract_features(np.zeros((40, 40, 3), np.float32))
    with pytest.raises(MalformedRequest):
        extract_features(np.zeros((40, 40, 3), np.uint8), "nope")


def test_tiny_training_writes_a_self_describing_folder(tiny_model_dir: Path) -> None:
    files = {p.name for p in tiny_model_dir.iterdir()}
    assert {"model.txt", "labels.json", "model.json", "evaluation.json"} <= files
    meta = json.loads((tiny_model_dir / "model.json").read_text())
    assert meta["labels"] == ["bad", "good"]
    assert meta["feature_set"] == "quality-v2"
    assert len(meta["dataset"]["hash"]) == 64
    assert meta["training_params"]["seed"] == 0
    assert {"python", "numpy", "lightgbm"} <= set(meta["library_versions"])
    assert meta["created_at"]
    counts = meta["dataset"]["label_counts_train"]
    assert sum(counts.values()) + sum(meta["dataset"]["label_counts_test"].values()) == 36
    assert (tiny_model_dir / "model.txt").read_text().startswith("tree")  # LightGBM text, not pickle
    evaluation = json.loads((tiny_model_dir / "evaluation.json").read_text())
    assert 0 <= evaluation["macro_f1"] <= 1 and evaluation["images"]


def test_tiny_model_separates_sharp_from_degraded(tiny_model_dir: Path) -> None:
    from ocrprep.degrade import degrade

    model = load_model(tiny_model_dir)
    assert model.name == "tiny:1"
    assert model.labels == ("bad", "good")
    good = [model.predict_proba(synthetic_page(900 + i))[1] for i in range(4)]
    bad = [model.predict_proba(degrade(synthetic_page(900 + i), "blur", "severe", seed=i))[1] for i in range(4)]
    assert min(good) > max(bad)


def test_detect_labels_sorting_and_thresholds(tiny_model_dir: Path) -> None:
    model = load_model(tiny_model_dir)
    page = synthetic_page(77)
    every = model.detect_labels(page, min_confidence=0)
    assert [label.name for label in every] in (["good", "bad"], ["bad", "good"])
    assert every[0].confidence >= every[1].confidence
    assert sum(label.confidence for label in every) == pytest.approx(100)
    assert model.detect_labels(page, min_confidence=100.0001) == []
    default = model.detect_labels(page)
    for label in default:
        assert label.confidence >= model.thresholds[label.name]
    as_dicts = detect_labels(page, model, min_confidence=0)
    assert [d["Name"] for d in as_dicts] == [label.name for label in every]
    assert all(0 <= d["Confidence"] <= 100 for d in as_dicts)


def test_training_is_deterministic(tiny_dataset: Dataset, tmp_path: Path) -> None:
    a = train_model(tiny_dataset, tmp_path / "a", params=TINY_PARAMS, name="t:1")
    b = train_model(tiny_dataset, tmp_path / "b", params=TINY_PARAMS, name="t:1")
    pages = [synthetic_page(500 + i) for i in range(3)]
    pa = [load_model(a.path).predict_proba(p) for p in pages]
    pb = [load_model(b.path).predict_proba(p) for p in pages]
    assert np.array_equal(np.array(pa), np.array(pb))
    assert (a.path / "model.txt").read_text() == (b.path / "model.txt").read_text()
    assert a.meta["dataset"]["hash"] == b.meta["dataset"]["hash"]


def test_explicit_test_set_and_missing_label(tiny_dataset: Dataset, tmp_path: Path) -> None:
    train, test = split_dataset(tiny_dataset, seed=1)
    result = train_model(train, tmp_path / "m", params=TINY_PARAMS, test=test)
    assert result.evaluation["num_test_images"] == len(test.items)
    only_good = Dataset(tuple(i for i in train.items if i.label == "good"))
    with pytest.raises(DatasetError, match="bad"):
        train_model(only_good, tmp_path / "n", params=TINY_PARAMS, test=test)


def test_unknown_feature_set_and_broken_folders(tmp_path: Path, tiny_model_dir: Path) -> None:
    with pytest.raises(MalformedRequest):
        TrainingParams(feature_set="nope")
    with pytest.raises(ModelError, match="missing"):
        load_model(tmp_path / "nothing-here")
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_model_dir, copy)
    meta = json.loads((copy / "model.json").read_text())
    meta["feature_names"] = meta["feature_names"][:-1]
    (copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="retrain"):
        load_model(copy)


@pytest.mark.slow
def test_layout_features_see_text_with_the_bundled_detector() -> None:
    page = synthetic_page(8, 480, 360)
    blank = np.full_like(page, 235)
    names = feature_names("layout-v1")
    with_text = extract_features(page, "layout-v1")
    without = extract_features(blank, "layout-v1")
    assert with_text.shape == (len(names),) and names[: len(feature_names())] == feature_names()
    i = names.index("text_area_share")
    assert with_text[i] > without[i]


def test_layout_features_open_the_one_bundled_text_detector(
    receipt: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layout features use ocr/bundled.py's session of the wheel's only text detector, and
    their values equal those of a separately opened single-threaded session of that file (what
    features.py opened itself before the two were folded)."""
    import onnxruntime as ort

    from ocrprep.models import features
    from ocrprep.ocr.bundled import TEXT_DETECTOR, bundled_model_path, onnx_session

    assert features._detector() is onnx_session(TEXT_DETECTOR)
    path = bundled_model_path(TEXT_DETECTOR)
    assert sorted(p.name for p in path.parent.glob("*det*.onnx")) == [TEXT_DETECTOR]
    shared = extract_features(receipt, "layout-v1")
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    own = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    monkeypatch.setattr(features, "_detector", lambda: own)
    separate = extract_features(receipt, "layout-v1")
    text = [i for i, name in enumerate(feature_names("layout-v1")) if name.startswith("text_")]
    assert len(text) == 67 and np.array_equal(shared[text], separate[text])


def test_tree_evaluator_matches_lightgbm(tiny_model_dir: Path) -> None:
    import lightgbm as lgb

    from ocrprep.models.trees import load_lightgbm_text

    booster = lgb.Booster(model_file=str(tiny_model_dir / "model.txt"))
    trees = load_lightgbm_text(tiny_model_dir / "model.txt")
    rng = np.random.default_rng(0)
    features = np.stack([extract_features(synthetic_page(200 + i), "quality-v2") for i in range(6)])
    features = np.vstack([features, features * rng.uniform(0.5, 1.5, features.shape)])
    features[0, 0] = np.nan
    expected = booster.predict(features)
    assert np.allclose(trees.predict(features), expected, atol=1e-12)
    assert np.allclose([trees.predict(row[None])[0] for row in features], expected, atol=1e-12)


def test_tree_evaluator_refuses_other_files(tmp_path: Path) -> None:
    from ocrprep.models.trees import load_lightgbm_text

    (tmp_path / "m.txt").write_text("not a model")
    with pytest.raises(ModelError):
        load_lightgbm_text(tmp_path / "m.txt")


def test_cross_validated_thresholds_ignore_the_test_split_and_meet_the_recall_floor(
    tiny_dataset: Dataset, tmp_path: Path
) -> None:
    from dataclasses import replace

    params = replace(TINY_PARAMS, threshold_folds=3, min_recall=(("good", 1.0),))
    train, test = split_dataset(tiny_dataset, seed=1)
    result = train_model(train, tmp_path / "m", params=params, test=test)
    chosen = result.meta["threshold_selection"]
    assert chosen["folds"] == 3
    assert chosen["oof_top_label_recall"]["good"] == 1.0
    assert chosen["thresholds"]["good"] <= chosen["f1_thresholds"]["good"]
    assert result.meta["thresholds"] == chosen["thresholds"]
    assert chosen["thresholds"]["bad"] == pytest.approx(100 - chosen["thresholds"]["good"], abs=1e-3)
    # the thresholds come from the training split only: another test split leaves them alone
    other = Dataset(tuple(next(i for i in test.items if i.label == label) for label in ("bad", "good")))
    again = train_model(train, tmp_path / "n", params=params, test=other)
    assert again.meta["thresholds"] == result.meta["thresholds"]
    assert again.evaluation["num_test_images"] == 2


def test_threshold_selection_parameters_are_checked() -> None:
    with pytest.raises(MalformedRequest):
        TrainingParams(threshold_folds=1)
    with pytest.raises(MalformedRequest):
        TrainingParams(min_recall=(("good", 0.99),))
    with pytest.raises(MalformedRequest):
        TrainingParams(threshold_folds=3, min_recall=(("good", 1.5),))
