"""The trainable custom-region detector: text-detector candidates classified by LightGBM.

Design (CPU, minutes to train on tens to hundreds of images, no weights from a hub):

1. **Candidates.** The text detector that ships in the ``rapidocr`` wheel (PP-OCR DB detector,
   ONNX, run here with onnxruntime on one thread) gives text-line boxes; lines on the same row are
   merged into row boxes (a label and its value: ``TOTAL ... 9.00``), consecutive rows into
   two-row blocks, and large ink blobs (logos, stamps) come from connected components.
2. **Features** (:data:`FEATURES`): position and size as ratios of the image, size relative to
   the median text line, ink density, intensity, saturation and texture, the number of text lines
   inside, the candidate kind, and its rank among the lines from the top and from the bottom.
   Optionally (``text_features=True`` at training) text cues of what the candidate says, read by
   the rapidocr recogniser (:mod:`ocrprep.regions.textcues`): slower, much better on fields
   such as a total or a date.
3. **Classifier.** LightGBM, multiclass: each user class plus ``background``.
4. **Boxes.** Each candidate's best class with its probability (0-100) as ``Confidence``,
   non-maximum suppression per class, and the class's assumed threshold from evaluation unless
   the caller passes ``min_confidence``.

A model is a folder: ``model.txt`` (LightGBM text format) and ``model.json`` (classes, feature
set version, thresholds, training parameters, dataset hash, metrics, library versions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from ocrprep.ocr.bundled import TEXT_DETECTOR, onnx_session
from ocrprep.errors import ModelError

if TYPE_CHECKING:
    from ocrprep.config import Settings

__all__ = [
    "FEATURES",
    "FEATURE_VERSION",
    "DetectorModel",
    "candidate_boxes",
    "candidate_features",
    "detect_regions",
    "detect_text_boxes",
    "load_detector",
    "model_features",
    "read_detector",
    "nms",
]

FEATURE_VERSION = "regions-1"
BACKGROUND = "background"
DET_SIDE = 960

FEATURES: tuple[str, ...] = (
    "x0", "y0", "x1", "y1", "cx", "cy", "w", "h", "log_aspect", "area",
    "h_rel_line", "w_rel_maxline", "kind", "n_lines",
    "rank_top", "rank_bottom", "ink", "mean", "std", "saturation", "edges",
    "left_gap", "right_gap", "ink_left", "ink_right",
)
KINDS = {"line": 0, "row": 1, "block": 2, "blob": 3}

def _text_detector() -> Any:
    return onnx_session(TEXT_DETECTOR)


def detect_text_boxes(image: np.ndarray, *, side: int = DET_SIDE, threshold: float = 0.3) -> np.ndarray:
    """Axis-aligned text-line boxes ``(N, 4)`` float32 ``x0, y0, x1, y1`` in input pixels.

    Runs the PP-OCR DB text detector from the ``rapidocr`` wheel at most ``side`` px on the
    longer side; components of the probability map above ``threshold`` are grown by the DB
    "unclip" offset (area * 1.6 / perimeter).
    """
    session = _text_detector()
    rgb = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(h, w))
    dh, dw = max(32, round(h * scale / 32) * 32), max(32, round(w * scale / 32) * 32)
    x = cv2.resize(cv2.cvtColor(rgb[:, :, :3], cv2.COLOR_RGB2BGR), (dw, dh)).astype(np.float32)
    x = ((x / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    prob = session.run(None, {session.get_inputs()[0].name: x})[0][0, 0]  # run() is thread-safe
    binary = (prob > threshold).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=4)
    boxes = []
    for i in range(1, count):
        bx, by, bw, bh, area = stats[i]
        if bw < 3 or bh < 3:
            continue
        offset = area * 1.6 / max(1, 2 * (bw + bh))
        boxes.append([bx - offset, by - offset, bx + bw + offset, by + bh + offset])
    if not boxes:
        return np.zeros((0, 4), np.float32)
    out = np.array(boxes, np.float32)
    out[:, [0, 2]] = np.clip(out[:, [0, 2]] * w / dw, 0, w)
    out[:, [1, 3]] = np.clip(out[:, [1, 3]] * h / dh, 0, h)
    return out


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


def _rows(lines: np.ndarray) -> list[list[int]]:
    """Indices of lines grouped into rows (vertical overlap >= half the smaller height)."""
    order = np.argsort((lines[:, 1] + lines[:, 3]) / 2)
    rows: list[list[int]] = []
    for i in order:
        y0, y1 = lines[i, 1], lines[i, 3]
        if rows:
            last = lines[rows[-1]]
            ry0, ry1 = last[:, 1].min(), last[:, 3].max()
            overlap = min(y1, ry1) - max(y0, ry0)
            if overlap >= 0.5 * min(y1 - y0, ry1 - ry0):
                rows[-1].append(int(i))
                continue
        rows.append([int(i)])
    return rows


@dataclass(frozen=True)
class Candidates:
    """Candidate boxes of one image, their kinds, and the text lines they came from."""

    boxes: np.ndarray  # (N, 4) x0, y0, x1, y1 pixels
    kinds: np.ndarray  # (N,) int, values of KINDS
    lines: np.ndarray  # (M, 4) the text lines
    shape: tuple[int, int] = field(default=(0, 0))


def candidate_boxes(image: np.ndarray, lines: np.ndarray | None = None) -> Candidates:
    """Candidate regions: text lines, rows, two-row blocks and large ink blobs."""
    h, w = image.shape[:2]
    if lines is None:
        lines = detect_text_boxes(image)
    boxes: list[np.ndarray] = [b for b in lines]
    kinds = [KINDS["line"]] * len(lines)
    rows = _rows(lines) if len(lines) else []
    row_boxes = []
    for row in rows:
        sub = lines[row]
        box = np.array([sub[:, 0].min(), sub[:, 1].min(), sub[:, 2].max(), sub[:, 3].max()], np.float32)
        row_boxes.append(box)
        if len(row) > 1:
            boxes.append(box)
            kinds.append(KINDS["row"])
    for a, b in zip(row_boxes, row_boxes[1:], strict=False):
        boxes.append(np.array([min(a[0], b[0]), a[1], max(a[2], b[2]), b[3]], np.float32))
        kinds.append(KINDS["block"])
    # Large ink blobs (logos, stamps, barcodes), at a reduced scale.
    scale = min(1.0, 400 / max(h, w))
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    ink = (small < min(200, int(np.percentile(small, 90)) - 50)).astype(np.uint8)
    # Blobs two ways: ink grouped by a dilation (logos of letters), and solid ink that survives
    # an opening (stamps, pictures, barcodes) even when text runs next to it.
    for blobs in (cv2.dilate(ink, np.ones((5, 5), np.uint8)), cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))):
        count, _, stats, _ = cv2.connectedComponentsWithStats(blobs)
        for i in range(1, count):
            bx, by, bw, bh, _ = stats[i]
            if bw >= 0.08 * small.shape[1] and bh >= 0.03 * small.shape[0] and bw * bh < 0.5 * small.size:
                boxes.append(np.array([bx, by, bx + bw, by + bh], np.float32) / scale)
                kinds.append(KINDS["blob"])
    if not boxes:
        return Candidates(np.zeros((0, 4), np.float32), np.zeros(0, int), lines, (h, w))
    arr = np.array(boxes, np.float32)
    arr[:, [0, 2]] = np.clip(arr[:, [0, 2]], 0, w)
    arr[:, [1, 3]] = np.clip(arr[:, [1, 3]], 0, h)
    keep = (arr[:, 2] - arr[:, 0] >= 2) & (arr[:, 3] - arr[:, 1] >= 2)
    return Candidates(arr[keep], np.array(kinds)[keep], lines, (h, w))


def candidate_features(image: np.ndarray, cands: Candidates) -> np.ndarray:
    """The :data:`FEATURES` of each candidate, ``(N, len(FEATURES))`` float32."""
    h, w = image.shape[:2]
    boxes = cands.boxes
    n = len(boxes)
    out = np.zeros((n, len(FEATURES)), np.float32)
    if n == 0:
        return out
    rgb = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    paper = float(np.percentile(gray, 90))
    ink = (gray < paper - 50).astype(np.float64)
    sat = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[:, :, 1].astype(np.float64)
    edges = (cv2.Canny(gray, 50, 150) > 0).astype(np.float64)
    # Integral images make each box's mean O(1).
    sums = {name: cv2.integral(arr) for name, arr in
            (("ink", ink), ("gray", gray.astype(np.float64)), ("sq", gray.astype(np.float64) ** 2),
             ("sat", sat), ("edges", edges))}

    def mean(name: str, x0: int, y0: int, x1: int, y1: int) -> float:
        s = sums[name]
        area = max(1, (x1 - x0) * (y1 - y0))
        return float(s[y1, x1] - s[y0, x1] - s[y1, x0] + s[y0, x0]) / area

    lines = cands.lines
    line_h = float(np.median(lines[:, 3] - lines[:, 1])) if len(lines) else h / 40
    max_w = float((lines[:, 2] - lines[:, 0]).max()) if len(lines) else w
    centres = (lines[:, 1] + lines[:, 3]) / 2 if len(lines) else np.zeros(0)
    for i, (x0f, y0f, x1f, y1f) in enumerate(boxes):
        x0, y0 = int(np.clip(np.floor(x0f), 0, w - 1)), int(np.clip(np.floor(y0f), 0, h - 1))
        x1, y1 = int(np.clip(np.ceil(x1f), x0 + 1, w)), int(np.clip(np.ceil(y1f), y0 + 1, h))
        bw, bh = x1f - x0f, y1f - y0f
        inside = ((centres >= y0f) & (centres <= y1f)).sum() if len(lines) else 0
        above = (centres < y0f).sum() if len(lines) else 0
        below = (centres > y1f).sum() if len(lines) else 0
        m = mean("gray", x0, y0, x1, y1)
        var = max(0.0, mean("sq", x0, y0, x1, y1) - m * m)
        band = max(4, int(bw * 0.5))
        lx0, rx1 = max(0, x0 - band), min(w, x1 + band)
        out[i] = (
            x0f / w, y0f / h, x1f / w, y1f / h, (x0f + x1f) / 2 / w, (y0f + y1f) / 2 / h,
            bw / w, bh / h, np.log(max(bw, 1) / max(bh, 1)), bw * bh / (w * h),
            bh / max(line_h, 1), bw / max(max_w, 1), cands.kinds[i], inside,
            above / max(1, len(lines)), below / max(1, len(lines)),
            mean("ink", x0, y0, x1, y1), m / 255, np.sqrt(var) / 255, mean("sat", x0, y0, x1, y1) / 255,
            mean("edges", x0, y0, x1, y1), x0f / max(1, w - bw), (w - x1f) / max(1, w - bw),
            mean("ink", lx0, y0, x0, y1) if x0 > lx0 else 0.0, mean("ink", x1, y0, rx1, y1) if rx1 > x1 else 0.0,
        )
    return out


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.3) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first.

    Examples
    --------
    >>> b = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
    >>> nms(b, np.array([0.9, 0.8, 0.7]))
    [0, 2]
    """
    order = list(np.argsort(-scores, kind="stable"))
    keep: list[int] = []
    while order:
        i = int(order.pop(0))
        keep.append(i)
        if order:
            overlaps = _iou_matrix(boxes[[i]], boxes[order])[0]
            order = [j for j, o in zip(order, overlaps, strict=True) if o < iou]
    return keep


@dataclass(frozen=True)
class DetectorModel:
    """A trained detector: its trees and its description (``model.json``).

    ``booster`` is what predicts class probabilities ``(n, len(classes))`` from candidate
    features: the LightGBM booster right after training, or, for a loaded folder, the
    dependency-free :class:`~ocrprep.models.trees.TreeEnsemble` the classifiers use too (loading
    does not import LightGBM).
    """

    booster: Any
    classes: tuple[str, ...]  # index 0 is background
    thresholds: dict[str, float]  # class -> assumed confidence threshold, 0..100
    meta: dict[str, Any]
    path: Path | None = None
    name: str = ""  # project:version when it came from the registry, else the folder name

    def save(self, folder: str | Path) -> Path:
        """Write ``model.txt`` and ``model.json`` to ``folder`` (created) and return it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        # a LightGBM booster after training, a TreeEnsemble after loading: both write model.txt
        self.booster.save_model(str(folder / "model.txt"))
        meta = dict(self.meta, classes=list(self.classes), thresholds=self.thresholds,
                    feature_version=FEATURE_VERSION, features=list(FEATURES), kind="region-detector")
        (folder / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
        return folder


def read_detector(folder: str | Path, name: str | None = None) -> DetectorModel:
    """Read a detector folder (``model.txt`` + ``model.json``), uncached, without LightGBM.

    Callers want :func:`load_detector`, which caches loaded detectors and starts registry
    versions; this is the reader it uses.

    Raises
    ------
    ModelError
        When the folder is missing, malformed, not a detector, or of another feature version.
    """
    from ocrprep.models.trees import load_lightgbm_text
    from ocrprep.regions.textcues import TEXT_FEATURES

    folder = Path(folder)
    try:
        meta = json.loads((folder / "model.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the region detector at {folder}: {exc}") from exc
    kind = meta.get("kind") if isinstance(meta, dict) else None
    if kind != "region-detector":
        raise ModelError(f"{folder} is not a region detector (model.json kind={kind!r})")
    if meta.get("feature_version") != FEATURE_VERSION:
        raise ModelError(
            f"{folder} was trained with features {meta.get('feature_version')!r}, this ocrprep has "
            f"{FEATURE_VERSION!r}: retrain it"
        )
    classes = tuple(str(c) for c in meta.get("classes") or ())
    try:
        trees = load_lightgbm_text(folder / "model.txt")
    except ModelError as exc:
        raise ModelError(f"cannot load the region detector at {folder}: {exc.message}") from exc
    features = len(FEATURES) + (len(TEXT_FEATURES) if meta.get("text_features") else 0)
    if len(classes) < 2 or trees.num_class != len(classes) or trees.num_features != features:
        raise ModelError(f"the region detector at {folder}: model.txt does not match model.json "
                         f"({trees.num_class} classes, {trees.num_features} features)")
    return DetectorModel(trees, classes, dict(meta.get("thresholds", {})), meta,
                         folder, name or str(meta.get("name") or folder.name))


def load_detector(reference: str | Path, *, settings: Settings | None = None) -> DetectorModel:
    """The detector a reference names: a model folder, or a registry version started if needed.

    Parameters
    ----------
    reference : str or Path
        A detector folder, ``project:version``, or ``project`` (its running version, else its
        newest usable one), resolved as :func:`ocrprep.models.runtime.resolve_detector` does.
    settings : Settings, optional
        The registry to look in; default :func:`ocrprep.config.load_settings`.

    Raises
    ------
    ModelError
        When the folder is missing or malformed, the version does not exist, is not trained or
        is not a region detector, or cannot be started (it is then marked ``FAILED``).
    """
    from ocrprep.models.runtime import load_detector_folder, resolve_detector

    if Path(reference).is_dir():
        return load_detector_folder(reference)
    if settings is None:
        from ocrprep.config import load_settings

        settings = load_settings()
    return resolve_detector(settings, str(reference))


def model_features(image: np.ndarray, cands: Candidates, *, text: bool) -> np.ndarray:
    """The visual features of each candidate, and with ``text`` the text cues of what it says."""
    feats = candidate_features(image, cands)
    if not text:
        return feats
    from ocrprep.regions.textcues import candidate_texts, recognise_lines, text_features

    texts = candidate_texts(cands.boxes, cands.lines, recognise_lines(image, cands.lines))
    return np.hstack([feats, text_features(texts)])


def predict_candidates(image: np.ndarray, model: DetectorModel, cands: Candidates) -> np.ndarray:
    """Class probabilities per candidate, ``(N, len(classes))``."""
    feats = model_features(image, cands, text=bool(model.meta.get("text_features", False)))
    if len(feats) == 0:
        return np.zeros((0, len(model.classes)))
    prob = np.asarray(model.booster.predict(feats))
    return prob.reshape(len(feats), -1)


def detect_regions(
    image: np.ndarray,
    model: DetectorModel,
    min_confidence: float | None = None,
    *,
    lines: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Detect the model's regions in ``image``, as the managed custom-labels service reports them.

    Parameters
    ----------
    image : ndarray, (H, W, 3) RGB or (H, W), uint8
    model : DetectorModel
        From :func:`load_detector` or training.
    min_confidence : float, optional
        0..100; by default each class's assumed threshold from evaluation (50 when unknown).
    lines : ndarray, optional
        Precomputed text-line boxes (from :func:`detect_text_boxes`).

    Returns
    -------
    list of dict
        ``{"Name", "Confidence", "Geometry": {"BoundingBox": {"Left", "Top", "Width",
        "Height"}}}`` with box values as ratios of the image, best first.
    """
    h, w = image.shape[:2]
    cands = candidate_boxes(image, lines)
    prob = predict_candidates(image, model, cands)
    out: list[dict[str, Any]] = []
    for c, name in enumerate(model.classes):
        if name == BACKGROUND:
            continue
        scores = prob[:, c] if len(prob) else np.zeros(0)
        # A candidate counts for the class it is most likely to be.
        best = prob.argmax(axis=1) == c if len(prob) else np.zeros(0, bool)
        limit = (min_confidence if min_confidence is not None else model.thresholds.get(name, 50.0)) / 100
        idx = np.flatnonzero(best & (scores >= limit))
        for k in nms(cands.boxes[idx], scores[idx]):
            x0, y0, x1, y1 = (float(v) for v in cands.boxes[idx[k]])
            out.append({
                "Name": name,
                "Confidence": round(float(scores[idx[k]]) * 100, 3),
                "Geometry": {"BoundingBox": {
                    "Left": x0 / w, "Top": y0 / h, "Width": (x1 - x0) / w, "Height": (y1 - y0) / h,
                }},
            })
    out.sort(key=lambda r: -r["Confidence"])
    return out
