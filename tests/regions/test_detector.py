from __future__ import annotations

import cv2
import numpy as np
import pytest

from _models_support import stamp_page, train_stamp_detector

from ocrprep.regions.annotations import Box, BoxItem
from ocrprep.regions.detector import detect_regions, load_detector
from ocrprep.regions.detector_train import average_precision, train_detector

_page = stamp_page


@pytest.fixture(scope="module")
def trained():
    return train_stamp_detector()


def test_detector_trains_and_finds_an_obvious_region(trained):
    model, evaluation = trained
    page, truth = _page(99)
    found = detect_regions(page, model)
    assert found, "the stamp was not found"
    best = found[0]
    assert best["Name"] == "stamp"
    bb = best["Geometry"]["BoundingBox"]
    h, w = page.shape[:2]
    x0, y0, x1, y1 = bb["Left"] * w, bb["Top"] * h, (bb["Left"] + bb["Width"]) * w, (bb["Top"] + bb["Height"]) * h
    tx0, ty0, tx1, ty1 = truth.xyxy()
    inter = max(0, min(x1, tx1) - max(x0, tx0)) * max(0, min(y1, ty1) - max(y0, ty0))
    union = (x1 - x0) * (y1 - y0) + truth.width * truth.height - inter
    assert inter / union >= 0.5
    assert evaluation["mAP50"] >= 0.5


def test_detect_regions_output_shape_and_ratios(trained):
    model, _ = trained
    page, _ = _page(7)
    for region in detect_regions(page, model, min_confidence=0.0):
        assert set(region) == {"Name", "Confidence", "Geometry"}
        assert 0.0 <= region["Confidence"] <= 100.0
        bb = region["Geometry"]["BoundingBox"]
        assert set(bb) == {"Left", "Top", "Width", "Height"}
        assert 0.0 <= bb["Left"] <= 1.0 and 0.0 <= bb["Top"] <= 1.0
        assert 0.0 < bb["Width"] <= 1.0 - bb["Left"] + 1e-6
        assert 0.0 < bb["Height"] <= 1.0 - bb["Top"] + 1e-6


def test_evaluation_has_the_classifier_shape(trained):
    _, evaluation = trained
    assert {"F1Score", "mAP50", "Summary", "AggregatedEvaluationResults", "LabelEvaluationResults"} <= set(evaluation)
    (stamp,) = evaluation["LabelEvaluationResults"]
    assert stamp["Label"] == "stamp"
    assert {"Precision", "Recall", "F1Score", "Threshold", "AssumedThreshold"} <= set(stamp["Metrics"])


def test_saved_model_round_trips(trained, tmp_path):
    model, _ = trained
    folder = model.save(tmp_path / "detector")
    assert (folder / "model.txt").is_file() and (folder / "model.json").is_file()
    loaded = load_detector(folder)
    page, _ = _page(5)
    assert detect_regions(page, loaded) == detect_regions(page, model)
    # a loaded detector (trees parsed without LightGBM) saves to a new folder as it was read
    again = loaded.save(tmp_path / "copy")
    assert (again / "model.txt").read_text() == (folder / "model.txt").read_text()
    assert detect_regions(page, load_detector(again)) == detect_regions(page, model)


def test_average_precision_of_a_perfect_ranking_is_one():
    assert average_precision(np.array([0.9, 0.8]), np.array([True, True]), 2) == 1.0
    assert average_precision(np.array([0.9]), np.array([False]), 1) == 0.0


@pytest.mark.slow
def test_text_cues_find_a_region_told_apart_only_by_its_words():
    """Every line looks alike; only the TOTAL line is the region. Visual features cannot tell."""
    rng = np.random.default_rng(3)
    pages = {}
    for i in range(12):
        page = np.full((360, 300, 3), 235, np.uint8)
        rows = list(range(30, 340, 30))
        target = int(rng.integers(2, len(rows) - 1))
        box = None
        for k, y in enumerate(rows):
            text = "TOTAL 9.00" if k == target else str(rng.choice(["CASH 9.00", "ITEM 4.50", "TAX 0.54", "SUB 8.46"]))
            cv2.putText(page, text, (20, y), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (20, 20, 20), 2)
            if k == target:
                (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.7, 2)
                box = Box("total", 18, y - th - 3, tw + 4, th + base + 6)
        pages[f"p{i}"] = (page, box)
    items = [BoxItem(name, (box,)) for name, (_, box) in pages.items()]
    model, evaluation = train_detector(items[:8], test_items=items[8:], load=lambda r: pages[r][0],
                                       rounds=60, text_features=True)
    assert model.meta["text_features"] is True
    assert evaluation["mAP50"] >= 0.5
