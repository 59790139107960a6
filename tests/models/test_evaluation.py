"""Evaluation numbers on a confusion matrix small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from ocrprep.errors import MalformedRequest
from ocrprep.models.evaluation import assumed_threshold, evaluate, format_evaluation

LABELS = ["bad", "good"]
# p(good) for 8 images; truth: 4 good then 4 bad
P_GOOD = np.array([0.95, 0.90, 0.60, 0.30, 0.70, 0.20, 0.10, 0.05])
TRUTH = np.array([1, 1, 1, 1, 0, 0, 0, 0])
PROBS = np.stack([1 - P_GOOD, P_GOOD], axis=1)


def test_assumed_threshold_maximises_f1_and_sits_mid_gap() -> None:
    # good ranked: .95 T, .90 T, .70 F, .60 T, .30 T, .20 F, ...
    # cut after .30 -> tp 4, fp 1 -> F1 8/9, the best; next score below is .20 -> threshold .25
    assert assumed_threshold(P_GOOD, TRUTH == 1) == pytest.approx(0.25)
    # no positive at all: nothing should be detected
    assert assumed_threshold(P_GOOD, np.zeros(8, bool)) == 1.0
    with pytest.raises(MalformedRequest):
        assumed_threshold(P_GOOD, np.ones(3, bool))


def test_evaluation_matches_hand_computation() -> None:
    result = evaluate(PROBS, TRUTH, LABELS, refs=[f"img{i}" for i in range(8)], num_training_images=40)
    good = next(r for r in result["label_metrics"] if r["label"] == "good")
    assert (good["tp"], good["fp"], good["fn"], good["tn"]) == (4, 1, 0, 3)
    assert good["precision"] == pytest.approx(0.8)
    assert good["recall"] == pytest.approx(1.0)
    assert good["f1"] == pytest.approx(8 / 9, abs=1e-6)
    assert good["assumed_threshold"] == pytest.approx(25.0)
    bad = next(r for r in result["label_metrics"] if r["label"] == "bad")
    # p(bad) ranked: .95 T, .90 T, .80 T, .70 F, .40 F, .30 T(=img4), ...: best cut after .80 -> tp 3, fp 0, F1 6/7
    assert (bad["tp"], bad["fp"], bad["fn"]) == (3, 0, 1)
    assert bad["f1"] == pytest.approx(6 / 7, abs=1e-6)
    assert result["macro_f1"] == pytest.approx((8 / 9 + 6 / 7) / 2, abs=1e-6)
    # top label (argmax): img2 .60 good ok, img3 .30 -> bad (wrong), img4 .70 -> good (wrong)
    assert result["confusion_matrix"]["matrix"] == [[3, 1], [1, 3]]
    assert result["top_label_accuracy"] == pytest.approx(6 / 8)
    assert result["num_test_images"] == 8 and result["num_training_images"] == 40
    img4 = result["images"][4]
    assert img4["true_label"] == "bad" and img4["top_label"] == "good"
    assert img4["outcomes"] == {"bad": "FN", "good": "FP"}


def test_evaluation_carries_the_managed_service_fields() -> None:
    result = evaluate(PROBS, TRUTH, LABELS, model_name="receipts:3")
    assert result["F1Score"] == pytest.approx(result["macro_f1"], abs=1e-6)
    assert result["EvaluationDetails"]["NumberOfTestingImages"] == 8
    assert result["EvaluationDetails"]["ProjectVersionArn"] == "receipts:3"
    metrics = {r["Label"]: r["Metrics"] for r in result["LabelMetrics"]}
    assert metrics["good"]["Threshold"] == pytest.approx(0.25)
    assert metrics["good"]["AssumedThreshold"] == pytest.approx(25.0)
    assert metrics["good"]["Precision"] == pytest.approx(0.8)
    cells = {(c["GroundTruthLabel"], c["PredictedLabel"]): c["Value"]
             for c in result["AggregatedEvaluationResults"]["ConfusionMatrix"]}
    assert cells[("good", "good")] == pytest.approx(0.75)
    f1s = [r["Metrics"]["F1Score"] for r in result["LabelEvaluationResults"]]
    assert f1s == sorted(f1s, reverse=True)


def test_fixed_thresholds_are_used_when_given() -> None:
    result = evaluate(PROBS, TRUTH, LABELS, thresholds=[0.5, 0.5])
    good = next(r for r in result["label_metrics"] if r["label"] == "good")
    assert (good["tp"], good["fp"], good["fn"]) == (3, 1, 1)
    assert good["assumed_threshold"] == pytest.approx(50.0)


def test_table_lists_every_label_and_the_matrix() -> None:
    text = format_evaluation(evaluate(PROBS, TRUTH, LABELS))
    assert "macro" in text and "confusion" in text
    assert sum(line.startswith(("bad", "good")) for line in text.splitlines()) == 4


def test_shape_errors() -> None:
    with pytest.raises(MalformedRequest):
        evaluate(PROBS, TRUTH[:3], LABELS)
    with pytest.raises(MalformedRequest):
        evaluate(PROBS, TRUTH, ["only"])
