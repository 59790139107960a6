"""Evaluation of a classifier on a test set, the way the managed custom-labels service reports it.

Each label is scored one-vs-rest: its *assumed threshold* is the confidence that maximises its F1
on the test set (a label is detected when its confidence reaches the threshold), and precision,
recall and F1 are reported at that threshold. The macro F1 is the mean of the labels' F1. The
confusion matrix counts the top label (highest confidence) against the true label.

:func:`evaluate` returns a plain dict, saved as ``evaluation.json``. Beside our snake_case fields
it carries the managed service's summary-file fields: ``F1Score``, ``Summary``, ``Version``,
``EvaluationDetails``, ``AggregatedEvaluationResults`` (``Precision``, ``Recall``, ``F1Score``,
``ConfusionMatrix`` rows ``{GroundTruthLabel, PredictedLabel, Value}`` normalised per true label),
``LabelEvaluationResults`` / ``LabelMetrics`` (``Label``, ``NumberOfTestingImages``, ``Metrics``
with ``Precision``, ``Recall``, ``F1Score``, ``Threshold`` (0..1) and ``AssumedThreshold``
(0..100, the unit of ``min_confidence``)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ocrprep.errors import MalformedRequest

__all__ = ["LabelScore", "assumed_threshold", "evaluate", "format_evaluation", "label_scores"]


@dataclass(frozen=True)
class LabelScore:
    """One label's one-vs-rest result at its assumed threshold (``threshold`` is 0..1)."""

    label: str
    threshold: float
    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else 0.0


def assumed_threshold(scores: np.ndarray, positive: np.ndarray) -> float:
    """The score threshold (0..1) that maximises F1 of ``score >= threshold`` against ``positive``.

    Among equally good cut points the one with the widest gap between the scores on either side
    wins, and the threshold sits in the middle of that gap, so it is not tuned to one image.

    Parameters
    ----------
    scores : ndarray
        float (n,), the label's probability per image.
    positive : ndarray
        bool (n,), True where the label is the true one.

    Examples
    --------
    >>> assumed_threshold(np.array([0.9, 0.8, 0.3, 0.1]), np.array([True, True, False, False]))
    0.55
    """
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    if scores.shape != positive.shape or scores.ndim != 1:
        raise MalformedRequest("scores and positive must be 1-d arrays of the same length")
    if not positive.any():
        return 1.0
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    tp = np.cumsum(positive[order])
    fp = np.cumsum(~positive[order])
    total_pos = positive.sum()
    # cut after index i: everything up to i is detected; only cut where the score changes
    distinct = np.r_[ranked[1:] < ranked[:-1], True]
    f1 = 2 * tp / (tp + fp + total_pos)
    f1 = np.where(distinct, f1, -1.0)
    best = f1.max()
    candidates = np.flatnonzero(f1 >= best - 1e-12)
    below = np.r_[ranked[1:], 0.0]
    gaps = ranked[candidates] - below[candidates]
    pick = candidates[int(np.argmax(gaps))]
    return round(float((ranked[pick] + below[pick]) / 2), 6)


def label_scores(
    probabilities: np.ndarray, truth: np.ndarray, labels: Sequence[str],
    thresholds: Sequence[float] | None = None,
) -> list[LabelScore]:
    """Per-label counts at the assumed thresholds (computed here unless given, 0..1)."""
    results = []
    for k, label in enumerate(labels):
        positive = truth == k
        threshold = assumed_threshold(probabilities[:, k], positive) if thresholds is None else thresholds[k]
        detected = probabilities[:, k] >= threshold
        results.append(
            LabelScore(
                label=label,
                threshold=float(threshold),
                tp=int((detected & positive).sum()),
                fp=int((detected & ~positive).sum()),
                fn=int((~detected & positive).sum()),
                tn=int((~detected & ~positive).sum()),
            )
        )
    return results


def evaluate(
    probabilities: np.ndarray,
    truth: np.ndarray,
    labels: Sequence[str],
    *,
    refs: Sequence[str] | None = None,
    num_training_images: int | None = None,
    model_name: str = "",
    thresholds: Sequence[float] | None = None,
) -> dict[str, Any]:
    """The evaluation of a classifier's probabilities against the true labels.

    Parameters
    ----------
    probabilities : ndarray
        float (n, k), each row the label probabilities of one test image.
    truth : ndarray
        int (n,), the index of each image's true label.
    labels : sequence of str
        The k label names.
    refs : sequence of str, optional
        Image references for the per-image details.
    num_training_images : int, optional
        Reported in ``EvaluationDetails``.
    model_name : str
        ``project:version`` for ``EvaluationDetails``.
    thresholds : sequence of float, optional
        Fixed thresholds (0..1) instead of the F1-maximising ones (to evaluate a trained model
        on new data with the thresholds it ships with).

    Returns
    -------
    dict
        JSON-ready; see the module docstring for the fields.

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6], [0.2, 0.8]])
    >>> result = evaluate(p, np.array([0, 0, 1, 0]), ["good", "bad"])
    >>> result["confusion_matrix"]["matrix"]
    [[2, 1], [0, 1]]
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.int64)
    n, k = probabilities.shape if probabilities.ndim == 2 else (0, 0)
    if probabilities.ndim != 2 or k != len(labels) or truth.shape != (n,) or n == 0:
        raise MalformedRequest("probabilities must be (n, k) with k labels and truth (n,), n > 0")
    scores = label_scores(probabilities, truth, labels, thresholds)
    top = probabilities.argmax(axis=1)
    matrix = np.zeros((k, k), dtype=np.int64)
    np.add.at(matrix, (truth, top), 1)
    macro_f1 = float(np.mean([s.f1 for s in scores]))
    macro_precision = float(np.mean([s.precision for s in scores]))
    macro_recall = float(np.mean([s.recall for s in scores]))
    top_f1 = []
    for j in range(k):
        tp = matrix[j, j]
        denom = matrix[j, :].sum() + matrix[:, j].sum()
        top_f1.append(2 * tp / denom if denom else 0.0)
    per_label = []
    for j, s in enumerate(scores):
        per_label.append({
            "label": s.label,
            "support": int((truth == j).sum()),
            "precision": round(s.precision, 6),
            "recall": round(s.recall, 6),
            "f1": round(s.f1, 6),
            "assumed_threshold": round(100 * s.threshold, 4),
            "tp": s.tp, "fp": s.fp, "fn": s.fn, "tn": s.tn,
        })
    images = []
    for i in range(n):
        detected = [labels[j] for j in range(k) if probabilities[i, j] >= scores[j].threshold]
        outcomes = {}
        for j in range(k):
            hit = labels[j] in detected
            outcomes[labels[j]] = ("TP" if hit else "FN") if truth[i] == j else ("FP" if hit else "TN")
        images.append({
            "ref": refs[i] if refs is not None else str(i),
            "true_label": labels[int(truth[i])],
            "top_label": labels[int(top[i])],
            "confidence": round(100 * float(probabilities[i, top[i]]), 3),
            "detected": detected,
            "outcomes": outcomes,
            "correct": bool(top[i] == truth[i]),
        })
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    label_results = [
        {
            "Label": s.label,
            "NumberOfTestingImages": int((truth == j).sum()),
            "Metrics": {
                "Precision": s.precision,
                "Recall": s.recall,
                "F1Score": s.f1,
                "Threshold": s.threshold,
                "AssumedThreshold": round(100 * s.threshold, 4),
            },
        }
        for j, s in enumerate(scores)
    ]
    row_sums = np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    return {
        "labels": list(labels),
        "num_test_images": n,
        "num_training_images": num_training_images,
        "macro_f1": round(macro_f1, 6),
        "macro_precision": round(macro_precision, 6),
        "macro_recall": round(macro_recall, 6),
        "top_label_accuracy": round(float((top == truth).mean()), 6),
        "top_label_macro_f1": round(float(np.mean(top_f1)), 6),
        "label_metrics": per_label,
        "confusion_matrix": {"labels": list(labels), "matrix": matrix.tolist(),
                             "rows": "true label", "columns": "top label"},
        "images": images,
        # the managed service's names
        "Version": 1,
        "F1Score": macro_f1,
        "Summary": {"Name": "evaluation.json"},
        "EvaluationDetails": {
            "ProjectVersionArn": model_name,
            "EvaluationEndTimestamp": stamp,
            "Labels": list(labels),
            "NumberOfTrainingImages": num_training_images,
            "NumberOfTestingImages": n,
        },
        "AggregatedEvaluationResults": {
            "Precision": macro_precision,
            "Recall": macro_recall,
            "F1Score": macro_f1,
            "ConfusionMatrix": [
                {"GroundTruthLabel": labels[a], "PredictedLabel": labels[b],
                 "Value": float(matrix[a, b] / row_sums[a, 0])}
                for a in range(k) for b in range(k)
            ],
        },
        "LabelEvaluationResults": sorted(label_results, key=lambda r: -r["Metrics"]["F1Score"]),
        "LabelMetrics": label_results,
    }


def format_evaluation(evaluation: dict[str, Any]) -> str:
    """The evaluation as a plain-text table (per-label metrics, macro F1, confusion matrix).

    Examples
    --------
    >>> p = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> print(format_evaluation(evaluate(p, np.array([0, 1]), ["good", "bad"])).splitlines()[0])
    label          support  precision   recall       F1  threshold
    """
    lines = [f"{'label':<14}{'support':>8}{'precision':>11}{'recall':>9}{'F1':>9}{'threshold':>11}"]
    for row in evaluation["label_metrics"]:
        lines.append(
            f"{row['label']:<14}{row['support']:>8}{row['precision']:>11.3f}{row['recall']:>9.3f}"
            f"{row['f1']:>9.3f}{row['assumed_threshold']:>10.1f}%"
        )
    lines.append(
        f"{'macro':<14}{evaluation['num_test_images']:>8}{evaluation['macro_precision']:>11.3f}"
        f"{evaluation['macro_recall']:>9.3f}{evaluation['macro_f1']:>9.3f}"
    )
    lines.append(f"top-label accuracy {evaluation['top_label_accuracy']:.3f}, "
                 f"top-label macro F1 {evaluation['top_label_macro_f1']:.3f}")
    labels = evaluation["confusion_matrix"]["labels"]
    width = max(8, *(len(label) + 2 for label in labels))
    lines.append("confusion (rows: true, columns: top label)")
    lines.append(" " * 14 + "".join(f"{label:>{width}}" for label in labels))
    for label, row in zip(labels, evaluation["confusion_matrix"]["matrix"], strict=True):
        lines.append(f"{label:<14}" + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)
