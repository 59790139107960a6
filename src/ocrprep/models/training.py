"""Training: image features for a dataset, a LightGBM classifier, evaluation, the model folder.

:func:`train_model` is the one code path behind ``ocrprep train``, ``make model`` and the
benchmark. It is deterministic under ``TrainingParams.seed`` (LightGBM ``deterministic=True``,
fixed thread count, seeded split and bagging).

The model folder it writes describes itself::

    model.txt        LightGBM text model (not pickle)
    labels.json      labels in model order, assumed thresholds (confidence 0-100)
    model.json       name, feature set and names, training parameters, dataset hash and counts,
                     metrics, library versions, git commit, creation time, timings
    evaluation.json  see :mod:`ocrprep.models.evaluation`
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ocrprep.datasets import Dataset, content_hash, read_image_bytes, split_dataset
from ocrprep.errors import DatasetError, MalformedRequest, OcrprepError, StorageError
from ocrprep.models.evaluation import evaluate
from ocrprep.models.features import FEATURE_SETS, WORK_SIDE, extract_features, feature_names

if TYPE_CHECKING:
    import lightgbm

    from ocrprep.config import Settings

__all__ = [
    "FORMAT_VERSION",
    "TrainResult",
    "TrainingParams",
    "compute_features",
    "fit",
    "predict_proba",
    "train_model",
]

#: Version of the model folder layout.
FORMAT_VERSION = 1

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TrainingParams:
    """How to train; every field is recorded in ``model.json``."""

    seed: int = 0
    feature_set: str = "quality-v2"
    num_boost_round: int = 300
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 10
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    balance_classes: bool = True
    test_fraction: float = 0.2
    #: LightGBM threads. One by default: on the few thousand rows a custom-labels set has, a
    #: second OpenMP thread saves little, and on a busy machine its spin-waiting made a fit
    #: 7-10x slower (measured: 2.2 s on one thread, 14.5 s on two, with two other jobs running).
    num_threads: int = 1
    workers: int = 2
    #: 0: each label's threshold maximises its F1 on the test split (the managed service's
    #: convention). k >= 2: thresholds are chosen on the training split alone, from out-of-fold
    #: probabilities of a k-fold cross-validation grouped by source image; the test split then
    #: only measures.
    threshold_folds: int = 0
    #: ``(label, recall)`` floors for the cross-validated thresholds: the label's threshold is
    #: lowered, if need be, until that share of its out-of-fold training images is detected as
    #: the top label (with two labels the other label's threshold becomes ``1 - threshold``).
    min_recall: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.feature_set not in FEATURE_SETS:
            raise MalformedRequest(
                f"unknown feature set {self.feature_set!r}; known: {', '.join(FEATURE_SETS)}"
            )
        if self.num_boost_round < 1 or self.num_leaves < 2 or self.num_threads < 1 or self.workers < 1:
            raise MalformedRequest("num_boost_round, num_threads and workers must be >= 1, num_leaves >= 2")
        if not 0 < self.test_fraction < 1:
            raise MalformedRequest(f"test_fraction must be in (0, 1), got {self.test_fraction}")
        if self.threshold_folds == 1 or self.threshold_folds < 0:
            raise MalformedRequest(f"threshold_folds must be 0 or >= 2, got {self.threshold_folds}")
        if self.min_recall and not self.threshold_folds:
            raise MalformedRequest("min_recall needs threshold_folds >= 2 (thresholds chosen on training data)")
        if any(not 0 < r <= 1 for _, r in self.min_recall):
            raise MalformedRequest(f"min_recall values must be in (0, 1], got {self.min_recall}")


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train_model` wrote and measured."""

    path: Path
    name: str
    evaluation: dict[str, Any]
    meta: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def macro_f1(self) -> float:
        return float(self.evaluation["macro_f1"])


# -- features -------------------------------------------------------------------------------------


def _decode_side() -> int:
    """The size images are decoded at: what ``process`` hands the model (its preview size)."""
    try:
        from ocrprep.quality import ASSESS_MAX_SIDE  # type: ignore[attr-defined]
    except ImportError:
        return WORK_SIDE
    return max(int(ASSESS_MAX_SIDE), WORK_SIDE)


def feature_code_hash() -> str:
    """Hash of the code that computes features (``features.py`` and the quality measurements)."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in (here / "features.py", here.parent / "quality" / "measures.py", here.parent / "quality" / "text.py"):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()[:16]


def _one(args: tuple[str, str, Settings | None, str | None]) -> tuple[str, np.ndarray]:
    ref, feature_set, settings, cache_dir = args
    data = read_image_bytes(ref, settings)
    digest = hashlib.sha256(data).hexdigest()
    cached = Path(cache_dir, digest[:2], f"{digest}.npy") if cache_dir else None
    if cached is not None and cached.is_file():
        try:
            return digest, np.load(cached)
        except (OSError, ValueError):
            pass  # unreadable cache entry: recompute and overwrite
    from ocrprep.imageio import decode_image

    try:
        image = decode_image(data, limits=settings.limits if settings else None, max_side=_decode_side())
    except OcrprepError as exc:
        raise DatasetError(f"dataset image {ref}: {exc.message}") from exc
    values = extract_features(image, feature_set)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, values)
            os.replace(tmp, cached)
        except OSError:
            pass  # the cache is an optimisation only
    return digest, values


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)


def compute_features(
    refs: Sequence[str],
    *,
    feature_set: str = "quality-v2",
    settings: Settings | None = None,
    workers: int = 1,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Features of every image, in order, and the SHA-256 of each image's bytes.

    Parameters
    ----------
    refs : sequence of str
        Local paths or URIs.
    workers : int
        Processes to spread the work over (1: in this process).
    cache_dir : Path, optional
        Folder caching features by image content, feature set and feature code.

    Raises
    ------
    DatasetError
        Naming the image that cannot be read or decoded.
    """
    cache = None
    if cache_dir is not None:
        cache = str(Path(cache_dir) / f"{feature_set}-{feature_code_hash()}")
    jobs = [(ref, feature_set, settings, cache) for ref in refs]
    results: list[tuple[str, np.ndarray]] = []
    total = len(jobs)
    if workers <= 1 or total < 8:
        _init_worker()
        for i, job in enumerate(jobs):
            results.append(_one(job))
            if progress and (i % 25 == 0 or i + 1 == total):
                progress("features", i + 1, total)
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
            for i, result in enumerate(pool.map(_one, jobs, chunksize=8)):
                results.append(result)
                if progress and (i % 25 == 0 or i + 1 == total):
                    progress("features", i + 1, total)
    if not results:
        return np.zeros((0, len(feature_names(feature_set))), np.float32), []
    return np.stack([r[1] for r in results]), [r[0] for r in results]


# -- fitting --------------------------------------------------------------------------------------


def _lgb_params(params: TrainingParams, num_classes: int) -> dict[str, Any]:
    base: dict[str, Any] = {
        "learning_rate": params.learning_rate,
        "num_leaves": params.num_leaves,
        "min_data_in_leaf": params.min_data_in_leaf,
        "feature_fraction": params.feature_fraction,
        "bagging_fraction": params.bagging_fraction,
        "bagging_freq": 1 if params.bagging_fraction < 1 else 0,
        "lambda_l2": params.lambda_l2,
        "seed": params.seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": params.num_threads,
        "verbosity": -1,
    }
    if num_classes == 2:
        base.update(objective="binary")
    else:
        base.update(objective="multiclass", num_class=num_classes)
    return base


def fit(features: np.ndarray, targets: np.ndarray, num_classes: int, params: TrainingParams) -> lightgbm.Booster:
    """A LightGBM booster for ``targets`` (class indices 0..num_classes-1).

    Raises
    ------
    DatasetError
        If a class has no training image.
    """
    import lightgbm as lgb

    counts = np.bincount(targets, minlength=num_classes)
    if (counts == 0).any() or num_classes < 2:
        raise DatasetError(f"every label needs training images; counts per label: {counts.tolist()}")
    weights = None
    if params.balance_classes:
        weights = (len(targets) / (num_classes * counts))[targets]
    data = lgb.Dataset(
        features, label=targets, weight=weights, feature_name=list(feature_names(params.feature_set)),
        params={"verbosity": -1, "max_bin": 255, "data_random_seed": params.seed},
        free_raw_data=True,
    )
    return lgb.train(_lgb_params(params, num_classes), data, num_boost_round=params.num_boost_round)


def predict_proba(booster: lightgbm.Booster, features: np.ndarray, num_classes: int, num_threads: int = 1) -> np.ndarray:
    """Label probabilities, (n, num_classes), from a booster of :func:`fit`."""
    raw = np.asarray(booster.predict(features, num_threads=num_threads), dtype=np.float64)
    if num_classes == 2:
        positive = raw.reshape(-1)
        return np.stack([1 - positive, positive], axis=1)
    return raw.reshape(-1, num_classes)


def _recall_floor(scores: np.ndarray, positive: np.ndarray, recall: float) -> float:
    """The highest threshold detecting at least ``recall`` of the positives, mid-gap below."""
    pos = np.sort(scores[positive])
    misses = int(np.floor((1 - recall) * len(pos) + 1e-9))
    cut = float(pos[min(misses, len(pos) - 1)])
    lower = scores[scores < cut]
    return (cut + float(lower.max())) / 2 if lower.size else cut


def cross_validated_thresholds(
    features: np.ndarray, targets: np.ndarray, groups: Sequence[str], labels: Sequence[str],
    params: TrainingParams,
) -> tuple[list[float], dict[str, Any]]:
    """Per-label thresholds (0..1) chosen on training data only, and a record of how.

    The training images are split into ``params.threshold_folds`` folds by group (a source image
    and all its variants stay in one fold); a booster fitted on the other folds scores each fold.
    On these out-of-fold probabilities each label's threshold maximises its F1
    (:func:`~ocrprep.models.evaluation.assumed_threshold`), then is lowered to meet any
    ``params.min_recall`` floor. With two labels, a floored label's partner gets ``1 - t`` so
    the top detected label follows the same cut.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(60, len(feature_names("quality-v2")))).astype(np.float32)
    >>> y = np.r_[np.zeros(30, int), np.ones(30, int)]; x[y == 1, 0] += 3
    >>> p = TrainingParams(num_boost_round=20, threshold_folds=3, min_recall=(("good", 0.9),))
    >>> t, info = cross_validated_thresholds(x, y, [str(i % 12) for i in range(60)], ["bad", "good"], p)
    >>> info["oof_top_label_recall"]["good"] >= 0.9
    True
    """
    from ocrprep.models.evaluation import assumed_threshold

    k = len(labels)
    unique = sorted(set(groups))
    order = np.random.default_rng(params.seed).permutation(len(unique))
    fold_of_group = {unique[g]: i % params.threshold_folds for i, g in enumerate(order)}
    folds = np.array([fold_of_group[g] for g in groups])
    oof = np.zeros((len(targets), k))
    for f in range(params.threshold_folds):
        held = folds == f
        if not held.any():
            continue
        booster = fit(features[~held], targets[~held], k, params)
        oof[held] = predict_proba(booster, features[held], k, params.num_threads)
    thresholds = [assumed_threshold(oof[:, j], targets == j) for j in range(k)]
    f1_thresholds = list(thresholds)
    for label, recall in params.min_recall:
        if label not in labels:
            raise MalformedRequest(f"min_recall names {label!r}, not a label ({', '.join(labels)})")
        j = list(labels).index(label)
        floor = _recall_floor(oof[:, j], targets == j, recall)
        if floor < thresholds[j]:
            thresholds[j] = round(floor, 6)
            if k == 2:
                thresholds[1 - j] = round(1 - floor, 6)
    info = {
        "method": f"{params.threshold_folds}-fold cross-validation on the training split, grouped by source image",
        "folds": params.threshold_folds,
        "min_recall": {label: r for label, r in params.min_recall},
        "f1_thresholds": {labels[j]: round(100 * f1_thresholds[j], 4) for j in range(k)},
        "thresholds": {labels[j]: round(100 * thresholds[j], 4) for j in range(k)},
        "oof_top_label_recall": _top_label_recall(oof, targets, labels, thresholds),
    }
    return thresholds, info


def _top_label_recall(probabilities: np.ndarray, targets: np.ndarray, labels: Sequence[str],
                      thresholds: Sequence[float]) -> dict[str, float]:
    """Per label: the share of its images whose top detected label (``detect_labels``) is it."""
    masked = np.where(probabilities >= np.asarray(thresholds)[None, :], probabilities, -1.0)
    top = np.where(masked.max(axis=1) >= 0, masked.argmax(axis=1), -1)
    return {label: round(float((top[targets == j] == j).mean()), 6) if (targets == j).any() else 0.0
            for j, label in enumerate(labels)}


# -- the whole run --------------------------------------------------------------------------------


def train_model(
    dataset: Dataset,
    out_dir: str | os.PathLike[str],
    *,
    params: TrainingParams | None = None,
    test: Dataset | None = None,
    name: str = "model:1",
    settings: Settings | None = None,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
    extra_meta: dict[str, Any] | None = None,
    display_root: Path | None = None,
) -> TrainResult:
    """Train, evaluate and write a model folder.

    Parameters
    ----------
    dataset : Dataset
        Labelled images; split 80/20 by source image unless ``test`` is given.
    out_dir : path
        The model folder to write (replaced atomically if it exists).
    params : TrainingParams
        Seed, feature set, booster settings.
    test : Dataset, optional
        An explicit test set.
    name : str
        ``project:version``, recorded in the folder.
    display_root : Path, optional
        Image references under this folder are recorded relative to it (portable reports).

    Raises
    ------
    DatasetError
        Bad or unreadable dataset, or a label with no training or test image.
    StorageError
        If the folder cannot be written.
    """
    params = params or TrainingParams()
    started = time.perf_counter()
    code_hash = feature_code_hash()  # the code the features are computed with, taken up front
    if test is None:
        train, test = split_dataset(dataset, test_fraction=params.test_fraction, seed=params.seed)
    else:
        train = dataset
    labels = tuple(sorted(set(train.labels) | set(test.labels)))
    missing_train = [label for label in labels if label not in train.labels]
    if missing_train:
        raise DatasetError(f"label(s) {', '.join(missing_train)} have no training image")
    index = {label: i for i, label in enumerate(labels)}
    refs = [item.ref for item in train.items] + [item.ref for item in test.items]
    features, digests = compute_features(
        refs, feature_set=params.feature_set, settings=settings, workers=params.workers,
        cache_dir=cache_dir, progress=progress,
    )
    t_features = time.perf_counter()
    n_train = len(train.items)
    y_train = np.array([index[item.label] for item in train.items], dtype=np.int64)
    y_test = np.array([index[item.label] for item in test.items], dtype=np.int64)
    if progress:
        progress("fit", 0, params.num_boost_round)
    chosen, threshold_info = None, None
    if params.threshold_folds:
        groups = [item.group for item in train.items]
        chosen, threshold_info = cross_validated_thresholds(features[:n_train], y_train, groups, labels, params)
    booster = fit(features[:n_train], y_train, len(labels), params)
    t_fit = time.perf_counter()
    probabilities = predict_proba(booster, features[n_train:], len(labels), params.num_threads)
    shown = [_display(item.ref, display_root) for item in test.items]
    evaluation = evaluate(
        probabilities, y_test, labels, refs=shown,
        num_training_images=n_train, model_name=name, thresholds=chosen,
    )
    thresholds = {row["label"]: row["assumed_threshold"] for row in evaluation["label_metrics"]}
    t_eval = time.perf_counter()
    dataset_hash = content_hash(
        f"{'train' if i < n_train else 'test'} {digest} {label}"
        for i, (digest, label) in enumerate(
            zip(digests, [it.label for it in train.items] + [it.label for it in test.items], strict=True)
        )
    )
    timings = {
        "features_seconds": round(t_features - started, 3),
        "fit_seconds": round(t_fit - t_features, 3),
        "evaluation_seconds": round(t_eval - t_fit, 3),
        "total_seconds": round(t_eval - started, 3),
    }
    meta = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "labels": list(labels),
        "thresholds": thresholds,
        "feature_set": params.feature_set,
        "feature_names": list(feature_names(params.feature_set)),
        "feature_code_hash": code_hash,
        "decode_max_side": _decode_side(),
        "work_side": WORK_SIDE,
        "classifier": "lightgbm",
        "training_params": asdict(params),
        "lightgbm_params": _lgb_params(params, len(labels)),
        "dataset": {
            "source": dataset.source,
            "test_source": test.source,
            "hash": dataset_hash,
            "label_counts_train": _counts(train.items),
            "label_counts_test": _counts(test.items),
            "num_training_images": n_train,
            "num_test_images": len(test.items),
            "groups_train": len({item.group for item in train.items}),
            "groups_test": len({item.group for item in test.items}),
        },
        "metrics": {
            "macro_f1": evaluation["macro_f1"],
            "top_label_accuracy": evaluation["top_label_accuracy"],
            "per_label": {row["label"]: {k: row[k] for k in ("precision", "recall", "f1", "assumed_threshold")}
                          for row in evaluation["label_metrics"]},
        },
        "library_versions": _versions(),
        "git_commit": _git_commit(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "timings": timings,
        "threshold_selection": threshold_info or {
            "method": "each label's F1-maximising threshold on the test split (the managed service's convention)"},
        **(extra_meta or {}),
    }
    path = write_model_folder(out_dir, booster, labels, thresholds, meta, evaluation)
    return TrainResult(path=path, name=name, evaluation=evaluation, meta=meta, timings=timings)


def write_model_folder(
    out_dir: str | os.PathLike[str],
    booster: lightgbm.Booster,
    labels: Sequence[str],
    thresholds: dict[str, float],
    meta: dict[str, Any],
    evaluation: dict[str, Any],
) -> Path:
    """Write the four files into ``out_dir`` atomically (a temporary sibling, then rename)."""
    target = Path(out_dir)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        booster.save_model(str(tmp / "model.txt"))
        _write_json(tmp / "labels.json", {"labels": list(labels), "thresholds": thresholds})
        _write_json(tmp / "model.json", meta)
        _write_json(tmp / "evaluation.json", evaluation)
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise StorageError(f"cannot write the model folder {target}: {exc}") from exc
    return target


def _display(ref: str, root: Path | None) -> str:
    if root is None or "://" in ref:
        return ref
    try:
        return Path(ref).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return ref


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def _counts(items: Sequence[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.label] = counts.get(item.label, 0) + 1
    return dict(sorted(counts.items()))


def _versions() -> dict[str, str]:
    import cv2
    import lightgbm

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "lightgbm": lightgbm.__version__,
        "opencv": cv2.__version__,
    }
    try:
        from importlib.metadata import version

        versions["ocrprep"] = version("ocrprep")
    except Exception:  # noqa: BLE001 - metadata is informative only
        versions["ocrprep"] = "unknown"
    return versions


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def relabel(dataset: Dataset, mapping: dict[str, str]) -> Dataset:
    """A copy of ``dataset`` with labels renamed by ``mapping`` (others unchanged)."""
    return replace(dataset, items=tuple(replace(i, label=mapping.get(i.label, i.label)) for i in dataset.items))

