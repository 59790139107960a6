"""Train and evaluate the region detector (see :mod:`ocrprep.regions.detector`).

:func:`train_detector` labels each candidate box with the class of the annotated box it overlaps
at IoU >= 0.5 (else ``background``), fits a LightGBM multiclass model, and, given test items,
evaluates it: :func:`evaluate_detector` reports mAP at IoU 0.5 (all-point interpolated average
precision per class, averaged) and per-class precision, recall and F1 at each class's assumed
threshold (the confidence that maximises its F1), in the classifier's ``evaluation.json`` shape.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ocrprep.errors import DatasetError
from ocrprep.regions.annotations import BoxItem, load_rgb
from ocrprep.regions.detector import (
    BACKGROUND,
    FEATURE_VERSION,
    Candidates,
    DetectorModel,
    _iou_matrix,
    candidate_boxes,
    detect_regions,
    model_features,
)

__all__ = ["average_precision", "evaluate_detector", "format_detector_evaluation", "train_detector"]

Loader = Callable[[str], np.ndarray]

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "multiclass",
    "learning_rate": 0.08,
    "num_leaves": 15,
    "min_data_in_leaf": 3,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "verbose": -1,
    "deterministic": True,
    "force_row_wise": True,
}


def _prepare(items: Sequence[BoxItem], load: Loader) -> list[tuple[np.ndarray, Candidates, BoxItem]]:
    prepared = []
    for item in items:
        image = load(item.ref)
        prepared.append((image, candidate_boxes(image), item))
    return prepared


def _dataset_hash(items: Sequence[BoxItem]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.ref.encode())
        for b in item.boxes:
            digest.update(f"{b.label}:{b.left:.1f},{b.top:.1f},{b.width:.1f},{b.height:.1f}".encode())
    return digest.hexdigest()[:16]


def train_detector(
    items: Sequence[BoxItem],
    *,
    test_items: Sequence[BoxItem] = (),
    load: Loader = load_rgb,
    seed: int = 0,
    rounds: int = 150,
    params: dict[str, Any] | None = None,
    text_features: bool = False,
) -> tuple[DetectorModel, dict[str, Any] | None]:
    """Train a detector on ``items``; evaluate it on ``test_items`` when given.

    ``text_features`` adds what each candidate says (read by the rapidocr recogniser) to its
    visual features: about 40 ms per text line more, much better on text fields.

    Returns
    -------
    (DetectorModel, dict or None)
        The model (save it with :meth:`DetectorModel.save`) and its evaluation.

    Raises
    ------
    DatasetError
        When there are no boxes, or no candidate matches any box (nothing to learn).
    """
    import lightgbm as lgb

    started = time.perf_counter()
    classes = (BACKGROUND, *sorted({b.label for item in items for b in item.boxes}))
    if len(classes) < 2:
        raise DatasetError("the training set has no annotated boxes")
    index = {name: i for i, name in enumerate(classes)}
    rows, labels = [], []
    for image, cands, item in _prepare(items, load):
        feats = model_features(image, cands, text=text_features)
        y = np.zeros(len(cands.boxes), int)
        if item.boxes and len(cands.boxes):
            truth = np.array([b.xyxy() for b in item.boxes], np.float32)
            iou = _iou_matrix(cands.boxes, truth)
            best = iou.argmax(axis=1)
            hit = iou.max(axis=1) >= 0.5
            y[hit] = [index[item.boxes[j].label] for j in best[hit]]
        rows.append(feats)
        labels.append(y)
    x = np.concatenate(rows) if rows else np.zeros((0, 1))
    y = np.concatenate(labels) if labels else np.zeros(0, int)
    if not (y > 0).any():
        raise DatasetError("no candidate region overlaps an annotated box at IoU 0.5: nothing to learn")
    counts = np.bincount(y, minlength=len(classes)).astype(float)
    weight = np.where(y > 0, np.sqrt(counts[0] / np.maximum(counts[y], 1)), 1.0)
    config = dict(DEFAULT_PARAMS, num_class=len(classes), seed=seed, **(params or {}))
    booster = lgb.train(config, lgb.Dataset(x, y, weight=weight), num_boost_round=rounds)
    seconds = time.perf_counter() - started
    meta = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "training": {"params": config, "rounds": rounds, "images": len(items), "candidates": int(len(y)),
                     "positives": {c: int(counts[i]) for i, c in enumerate(classes) if i}, "seconds": round(seconds, 2)},
        "dataset_sha256": _dataset_hash(items),
        "text_features": text_features,
        "versions": {"lightgbm": lgb.__version__, "numpy": np.__version__, "python": platform.python_version()},
    }
    model = DetectorModel(booster, classes, {}, meta)
    evaluation = None
    if test_items:
        evaluation = evaluate_detector(model, test_items, load=load)
        thresholds = {r["Label"]: r["Metrics"]["AssumedThreshold"] for r in evaluation["LabelEvaluationResults"]}
        meta = dict(meta, metrics={"mAP50": evaluation["mAP50"], "F1Score": evaluation["F1Score"]},
                    test_dataset_sha256=_dataset_hash(test_items))
        model = DetectorModel(booster, classes, thresholds, meta)
    return model, evaluation


def average_precision(scores: np.ndarray, matched: np.ndarray, n_truth: int) -> float:
    """All-point interpolated average precision (PASCAL VOC 2010+).

    Examples
    --------
    >>> average_precision(np.array([0.9, 0.8, 0.7]), np.array([True, False, True]), 2)
    0.8333333333333333
    """
    if n_truth == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(matched[order])
    fp = np.cumsum(~matched[order])
    recall = tp / n_truth
    precision = tp / np.maximum(tp + fp, 1)
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    for i in range(len(p) - 2, -1, -1):
        p[i] = max(p[i], p[i + 1])
    steps = np.flatnonzero(r[1:] != r[:-1])
    return float(np.sum((r[steps + 1] - r[steps]) * p[steps + 1]))


def _best_cut(scores: np.ndarray, matched: np.ndarray, n_truth: int) -> tuple[float, float, int, int]:
    """(F1, threshold, tp, fp) of the confidence cut that maximises F1.

    The threshold sits halfway between the last accepted detection and the next one below it,
    so it is not tuned to one detection's exact score.
    """
    order = np.argsort(-scores, kind="stable")
    s, m = scores[order], matched[order]
    best = (0.0, 100.0, 0, 0)
    tp = fp = 0
    for k in range(len(s)):
        tp += int(m[k])
        fp += int(not m[k])
        f1 = 2 * tp / max(1, 2 * tp + fp + (n_truth - tp))
        if f1 > best[0]:
            below = s[k + 1] if k + 1 < len(s) else 0.0
            best = (f1, float((s[k] + below) / 2), tp, fp)
    return best


def evaluate_detector(model: DetectorModel, items: Sequence[BoxItem], *, load: Loader = load_rgb) -> dict[str, Any]:
    """mAP at IoU 0.5 and per-class precision/recall/F1 of ``model`` on ``items``.

    Each detection (every candidate's best class, any confidence) is matched greedily, best
    first, to an unmatched true box of its class at IoU >= 0.5. A class's assumed threshold is the
    confidence that maximises its F1; precision, recall and F1 are given at it.
    """
    classes = [c for c in model.classes if c != BACKGROUND]
    found: dict[str, list[tuple[float, bool]]] = {c: [] for c in classes}
    n_truth = dict.fromkeys(classes, 0)
    images_with = dict.fromkeys(classes, 0)
    for item in items:
        image = load(item.ref)
        h, w = image.shape[:2]
        detections = detect_regions(image, model, min_confidence=0.0)
        for c in classes:
            truth = np.array([b.xyxy() for b in item.boxes if b.label == c], np.float32).reshape(-1, 4)
            n_truth[c] += len(truth)
            images_with[c] += bool(len(truth))
            used = np.zeros(len(truth), bool)
            for det in (d for d in detections if d["Name"] == c):  # already best first
                bb = det["Geometry"]["BoundingBox"]
                box = np.array([[bb["Left"] * w, bb["Top"] * h, (bb["Left"] + bb["Width"]) * w,
                                 (bb["Top"] + bb["Height"]) * h]], np.float32)
                ok = False
                if len(truth):
                    iou = _iou_matrix(box, truth)[0]
                    iou[used] = 0
                    j = int(iou.argmax())
                    if iou[j] >= 0.5:
                        used[j] = ok = True
                found[c].append((det["Confidence"], ok))
    results, aps, f1s = [], {}, []
    for c in classes:
        scores = np.array([s for s, _ in found[c]], float)
        matched = np.array([m for _, m in found[c]], bool)
        aps[c] = average_precision(scores, matched, n_truth[c])
        f1, threshold, tp, fp = _best_cut(scores, matched, n_truth[c])
        precision = tp / max(1, tp + fp)
        recall = tp / max(1, n_truth[c])
        f1s.append(f1)
        results.append({
            "Label": c,
            "NumberOfTestingImages": images_with[c],
            "NumberOfTestingBoxes": n_truth[c],
            "Metrics": {
                "Precision": round(precision, 4), "Recall": round(recall, 4), "F1Score": round(f1, 4),
                "AveragePrecision50": round(aps[c], 4),
                "Threshold": round(threshold / 100, 4), "AssumedThreshold": round(threshold, 3),
            },
        })
    macro_f1 = float(np.mean(f1s)) if f1s else 0.0
    map50 = float(np.mean(list(aps.values()))) if aps else 0.0
    return {
        "F1Score": round(macro_f1, 4),
        "mAP50": round(map50, 4),
        "Summary": {"TestImages": len(items), "Classes": classes, "FeatureVersion": FEATURE_VERSION},
        "AggregatedEvaluationResults": {
            "Precision": round(float(np.mean([r["Metrics"]["Precision"] for r in results])) if results else 0.0, 4),
            "Recall": round(float(np.mean([r["Metrics"]["Recall"] for r in results])) if results else 0.0, 4),
            "F1Score": round(macro_f1, 4),
            "MeanAveragePrecision50": round(map50, 4),
        },
        "LabelEvaluationResults": results,
    }


def write_evaluation(evaluation: dict[str, Any], folder: Any) -> None:
    """Save ``evaluation.json`` beside a saved model."""
    from pathlib import Path

    (Path(folder) / "evaluation.json").write_text(json.dumps(evaluation, indent=2))


def format_detector_evaluation(evaluation: dict[str, Any]) -> str:
    """A detector's evaluation as a plain-text table (per class, then mAP and macro F1).

    Examples
    --------
    >>> row = {"Label": "total", "NumberOfTestingBoxes": 4, "Metrics": {"Precision": 1.0,
    ...        "Recall": 0.5, "F1Score": 0.6667, "AveragePrecision50": 0.5, "AssumedThreshold": 61.2}}
    >>> text = format_detector_evaluation({"LabelEvaluationResults": [row], "mAP50": 0.5,
    ...                                    "F1Score": 0.6667, "Summary": {"TestImages": 3}})
    >>> print(text.splitlines()[0])
    label            boxes  precision   recall       F1     AP50  threshold
    """
    lines = [f"{'label':<14}{'boxes':>8}{'precision':>11}{'recall':>9}{'F1':>9}{'AP50':>9}{'threshold':>11}"]
    for row in evaluation.get("LabelEvaluationResults", []):
        m = row["Metrics"]
        lines.append(
            f"{row['Label']:<14}{row.get('NumberOfTestingBoxes', 0):>8}{m['Precision']:>11.3f}"
            f"{m['Recall']:>9.3f}{m['F1Score']:>9.3f}{m.get('AveragePrecision50', 0.0):>9.3f}"
            f"{m['AssumedThreshold']:>10.1f}%"
        )
    images = evaluation.get("Summary", {}).get("TestImages", "?")
    lines.append(f"mAP@0.5 {evaluation.get('mAP50', 0.0):.3f}, macro F1 {evaluation.get('F1Score', 0.0):.3f} "
                 f"on {images} test images")
    return "\n".join(lines)
