"""A small, dependency-free evaluator for LightGBM text models (``model.txt``).

Importing LightGBM pulls in scikit-learn and takes about a second (several on a busy machine),
which a one-shot ``ocrprep process`` call should not pay. Prediction only needs the trees, so the
runtime parses ``model.txt`` into numpy arrays and walks them here; LightGBM is needed for
training only. Numerical splits with LightGBM's missing-value rules are supported; categorical
splits and linear trees are refused with :class:`~ocrprep.errors.ModelError`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocrprep.errors import ModelError

__all__ = ["TreeEnsemble", "load_lightgbm_text"]

_ZERO = 1e-35
_MISSING_NONE, _MISSING_ZERO, _MISSING_NAN = 0, 1, 2


@dataclass(eq=False)
class _Tree:
    feature: np.ndarray  # int (n_internal,)
    threshold: np.ndarray  # float64
    default_left: np.ndarray  # bool
    missing: np.ndarray  # int: 0 none, 1 zero, 2 nan
    left: np.ndarray  # int; negative: ~leaf index
    right: np.ndarray
    leaf_value: np.ndarray  # float64 (n_leaves,)

    @functools.cached_property
    def lists(self) -> tuple[list, ...]:
        """The arrays as Python lists, for the one-row path."""
        return (self.feature.tolist(), self.threshold.tolist(), self.left.tolist(),
                self.right.tolist(), self.leaf_value.tolist(), self.default_left.tolist(),
                self.missing.tolist())


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """Trees of a LightGBM model: ``num_class`` raw scores, then sigmoid or softmax."""

    trees: tuple[_Tree, ...]
    num_class: int
    num_features: int
    objective: str
    sigmoid: float = 1.0
    text: str = ""  # the model.txt it was parsed from, so that it can be written out again

    def save_model(self, path: str | Path) -> None:
        """Write the LightGBM text model back (the same call as ``lightgbm.Booster.save_model``).

        Raises
        ------
        ModelError
            When the ensemble was not parsed from a model text.
        """
        if not self.text:
            raise ModelError("this tree ensemble has no model text to save")
        Path(path).write_text(self.text)

    def raw_score(self, features: np.ndarray) -> np.ndarray:
        """Summed leaf values, (n, num_class)."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ModelError(f"expected (n, {self.num_features}) features, got {x.shape}")
        if x.shape[0] == 1:
            return self._raw_one(x[0].tolist())[None, :]
        scores = np.zeros((x.shape[0], self.num_class))
        rows = np.arange(x.shape[0])
        for index, tree in enumerate(self.trees):
            scores[:, index % self.num_class] += _walk(tree, x, rows)
        return scores

    def _raw_one(self, row: list[float]) -> np.ndarray:
        """One row in plain Python: far cheaper than numpy for a single image."""
        scores = [0.0] * self.num_class
        for index, tree in enumerate(self.trees):
            feature, threshold, left, right, leaf_value, default_left, missing = tree.lists
            if not feature:
                scores[index % self.num_class] += leaf_value[0]
                continue
            node = 0
            while True:
                value = row[feature[node]]
                kind = missing[node]
                if value != value:  # NaN
                    if kind == _MISSING_NAN:
                        node = left[node] if default_left[node] else right[node]
                        if node < 0:
                            break
                        continue
                    value = 0.0
                if kind == _MISSING_ZERO and -_ZERO <= value <= _ZERO:
                    node = left[node] if default_left[node] else right[node]
                else:
                    node = left[node] if value <= threshold[node] else right[node]
                if node < 0:
                    break
            scores[index % self.num_class] += leaf_value[~node]
        return np.array(scores)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """LightGBM's ``predict``: (n,) probabilities for binary, (n, k) for multiclass."""
        raw = self.raw_score(features)
        if self.objective.startswith("binary"):
            return 1.0 / (1.0 + np.exp(-self.sigmoid * raw[:, 0]))
        if self.objective.startswith(("multiclass", "softmax")):
            shifted = raw - raw.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            return exp / exp.sum(axis=1, keepdims=True)
        raise ModelError(f"unsupported LightGBM objective {self.objective!r}")


def _walk(tree: _Tree, x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    if tree.feature.size == 0:
        return np.full(x.shape[0], tree.leaf_value[0])
    node = np.zeros(x.shape[0], dtype=np.int64)
    active = np.ones(x.shape[0], dtype=bool)
    out = np.zeros(x.shape[0])
    while active.any():
        idx = rows[active]
        current = node[idx]
        values = x[idx, tree.feature[current]]
        missing = tree.missing[current]
        is_nan = np.isnan(values)
        values = np.where(is_nan & (missing != _MISSING_NAN), 0.0, values)
        go_default = ((missing == _MISSING_ZERO) & (np.abs(values) <= _ZERO)) | (
            (missing == _MISSING_NAN) & is_nan
        )
        go_left = np.where(go_default, tree.default_left[current], values <= tree.threshold[current])
        nxt = np.where(go_left, tree.left[current], tree.right[current])
        leaf = nxt < 0
        out[idx[leaf]] = tree.leaf_value[~nxt[leaf]]
        node[idx] = np.where(leaf, 0, nxt)
        active[idx[leaf]] = False
    return out


def load_lightgbm_text(path: str | Path) -> TreeEnsemble:
    """Parse a LightGBM ``model.txt``.

    Raises
    ------
    ModelError
        If the file cannot be read or uses what this evaluator does not support.
    """
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    header, _, body = text.partition("\nTree=")
    fields = _fields(header)
    if not header.startswith("tree") or "num_class" not in fields:
        raise ModelError(f"{path} is not a LightGBM text model")
    try:
        num_class = int(fields["num_class"])
        num_features = int(fields["max_feature_idx"]) + 1
        objective_parts = fields.get("objective", "").split()
        objective = objective_parts[0] if objective_parts else ""
        sigmoid = 1.0
        for part in objective_parts[1:]:
            if part.startswith("sigmoid:"):
                sigmoid = float(part.split(":", 1)[1])
        trees = []
        for block in ("Tree=" + body).split("\nTree=")[0:]:
            block = block.removeprefix("Tree=")
            if not block.strip():
                continue
            block = block.split("end of trees", 1)[0]
            trees.append(_tree(_fields(block), path))
    except (KeyError, ValueError, IndexError) as exc:
        raise ModelError(f"{path}: malformed LightGBM model ({exc})") from exc
    if not trees:
        raise ModelError(f"{path}: no trees")
    return TreeEnsemble(tuple(trees), num_class, num_features, objective, sigmoid, text)


def _fields(block: str) -> dict[str, str]:
    fields = {}
    for line in block.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def _tree(fields: dict[str, str], path: str | Path) -> _Tree:
    if int(fields.get("num_cat", "0")) > 0:
        raise ModelError(f"{path}: categorical splits are not supported")
    if int(fields.get("is_linear", "0")) != 0:
        raise ModelError(f"{path}: linear trees are not supported")
    leaves = np.array(fields["leaf_value"].split(), dtype=np.float64)
    if int(fields["num_leaves"]) <= 1:
        empty = np.zeros(0, dtype=np.int64)
        return _Tree(empty, np.zeros(0), np.zeros(0, bool), empty, empty, empty, leaves)
    decision = np.array(fields["decision_type"].split(), dtype=np.int64)
    if (decision & 1).any():
        raise ModelError(f"{path}: categorical splits are not supported")
    return _Tree(
        feature=np.array(fields["split_feature"].split(), dtype=np.int64),
        threshold=np.array(fields["threshold"].split(), dtype=np.float64),
        default_left=(decision & 2).astype(bool),
        missing=(decision >> 2) & 3,
        left=np.array(fields["left_child"].split(), dtype=np.int64),
        right=np.array(fields["right_child"].split(), dtype=np.int64),
        leaf_value=leaves,
    )
