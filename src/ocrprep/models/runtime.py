"""Loading, resolving and calling models: ``resolve_model``, ``LoadedModel.detect_labels``,
``resolve_detector``.

The registry holds two kinds of model version (read from each folder's ``model.json``):
classifiers (:class:`LoadedModel`, used by ``validate``) and region detectors
(:class:`~ocrprep.regions.detector.DetectorModel`, used by ``extract`` in regions mode). Both
are started, cached and stopped the same way; asking for one kind where a version holds the
other is a :class:`~ocrprep.errors.ModelError` that leaves the version's status alone.

Which classifier answers a call (first that applies):

1. the reference passed in (``project``, ``project:version`` or a model folder path);
2. the parameter named ``settings.process.model_parameter`` (default ``preprocess/model``) in the
   parameter store, read on every call, so a change takes effect on the next call;
3. the bundled default quality model, :data:`DEFAULT_MODEL_DIR` (``quality-default``).

A registry version that is not ``RUNNING`` is started on first use (``STARTING`` -> ``RUNNING``):
loading a local model takes milliseconds, so the first call never fails for want of a deployment.
A version that cannot be started is marked ``FAILED`` and :class:`~ocrprep.errors.ModelError`
names it. Loaded models (and detectors) are cached by folder and file modification times.

A detector reference (:func:`resolve_detector`) is a detector folder, ``project:version``, or
``project`` (its running version, else its newest usable one), started the same way.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from ocrprep.datasets import Dataset
from ocrprep.errors import DatasetError, ModelError, OcrprepError
from ocrprep.models.evaluation import evaluate
from ocrprep.models.features import FEATURE_SETS, extract_features, feature_names
from ocrprep.models.training import compute_features
from ocrprep.models.trees import TreeEnsemble, load_lightgbm_text
from ocrprep.quality.report import Label
from ocrprep.registry import CLASSIFIER, REGION_DETECTOR, Registry, Status, model_kind, parse_ref

if TYPE_CHECKING:
    from ocrprep.config import Settings
    from ocrprep.registry import ModelVersion
    from ocrprep.regions.detector import DetectorModel

__all__ = [
    "DEFAULT_MODEL_DIR",
    "DEFAULT_MODEL_NAME",
    "LoadedModel",
    "detect_labels",
    "evaluate_model",
    "load_detector_folder",
    "load_model",
    "resolve_detector",
    "resolve_model",
    "start_model",
]

#: The bundled default quality model (labels ``good`` / ``bad``), committed inside the package.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "models" / "quality-default"
DEFAULT_MODEL_NAME = "quality-default"

_REQUIRED = ("model.txt", "labels.json", "model.json")
_DETECTOR_REQUIRED = ("model.txt", "model.json")


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model ready to answer calls.

    Attributes
    ----------
    name : str
        ``project:version``.
    path : Path
        The model folder.
    labels : tuple of str
        Label names in model order.
    thresholds : dict[str, float]
        Each label's assumed threshold, as a confidence 0-100.
    feature_set : str
        The feature set the model was trained on.
    meta : dict
        The folder's ``model.json``.
    """

    name: str
    path: Path
    labels: tuple[str, ...]
    thresholds: dict[str, float]
    feature_set: str
    trees: TreeEnsemble = field(repr=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def predict_proba(
        self, image: np.ndarray, *, measurements: dict[str, float] | None = None
    ) -> np.ndarray:
        """Probabilities of the labels (k,), in :attr:`labels` order, for one image.

        ``measurements`` is ``ocrprep.quality.measure(image)`` when the caller already took it.
        """
        features = extract_features(image, self.feature_set, measurements=measurements)[None, :]
        return self.predict_features(features)[0]

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """Label probabilities (n, k) for a feature matrix (n, number of features)."""
        raw = self.trees.predict(features)
        if len(self.labels) == 2:
            return np.stack([1 - raw, raw], axis=1)
        return raw

    def detect_labels(
        self,
        image: np.ndarray,
        min_confidence: float | None = None,
        *,
        measurements: dict[str, float] | None = None,
    ) -> list[Label]:
        """The labels whose confidence reaches the threshold, best first.

        Parameters
        ----------
        image : ndarray
            uint8 (H, W) or (H, W, 3) RGB; not modified.
        min_confidence : float, optional
            Threshold 0-100 for every label; default: each label's assumed threshold.
        measurements : dict, optional
            ``ocrprep.quality.measure(image)`` (no ``source_size``), when already taken.

        Returns
        -------
        list of Label
            Sorted by confidence, highest first; may be empty.
        """
        probabilities = self.predict_proba(image, measurements=measurements)
        found = []
        for label, p in zip(self.labels, probabilities, strict=True):
            confidence = 100.0 * float(p)
            limit = self.thresholds.get(label, 50.0) if min_confidence is None else float(min_confidence)
            if confidence >= limit:
                found.append(Label(label, confidence))
        return sorted(found, key=lambda lab: (-lab.confidence, lab.name))


def detect_labels(
    image: np.ndarray, model: LoadedModel, min_confidence: float | None = None
) -> list[dict[str, Any]]:
    """The managed service's call: ``[{"Name": ..., "Confidence": ...}]``, best first.

    Confidence is 0-100; with ``min_confidence=None`` each label's assumed threshold applies.
    """
    return [label.to_dict() for label in model.detect_labels(image, min_confidence)]


def evaluate_model(
    model: LoadedModel, dataset: Dataset, *, settings: Settings | None = None, workers: int = 1
) -> dict[str, Any]:
    """Evaluate ``model`` on a labelled dataset with the assumed thresholds it ships with.

    Raises
    ------
    DatasetError
        If the dataset has a label the model does not know, or an image cannot be read.
    """
    unknown = sorted(set(dataset.labels) - set(model.labels))
    if unknown:
        raise DatasetError(
            f"dataset labels {', '.join(unknown)} are not labels of model {model.name} "
            f"({', '.join(model.labels)})"
        )
    refs = [item.ref for item in dataset.items]
    features, _ = compute_features(refs, feature_set=model.feature_set, settings=settings, workers=workers)
    probabilities = model.predict_features(features)
    index = {label: i for i, label in enumerate(model.labels)}
    truth = np.array([index[item.label] for item in dataset.items], dtype=np.int64)
    thresholds = [model.thresholds.get(label, 50.0) / 100 for label in model.labels]
    return evaluate(probabilities, truth, model.labels, refs=refs, model_name=model.name,
                    thresholds=thresholds)


# -- loading --------------------------------------------------------------------------------------

_CACHE: dict[tuple[str, tuple[int, ...]], Any] = {}
_CACHE_LOCK = threading.Lock()
_Model = TypeVar("_Model")


def load_model(path: str | Path, name: str | None = None) -> LoadedModel:
    """Load a model folder (cached by path and file modification times).

    Raises
    ------
    ModelError
        If the folder is missing, incomplete, or was trained with other features.
    """
    return _load_cached(Path(path).expanduser(), _REQUIRED, _load, name)


def load_detector_folder(path: str | Path, name: str | None = None) -> DetectorModel:
    """Load a region-detector folder (cached by path and file modification times, as classifiers).

    Raises
    ------
    ModelError
        If the folder is missing, incomplete, not a detector, or of another feature version.
    """
    from ocrprep.regions.detector import read_detector

    return _load_cached(Path(path).expanduser(), _DETECTOR_REQUIRED, read_detector, name)


def _load_cached(
    folder: Path,
    required: tuple[str, ...],
    read: Callable[[Path, str | None], _Model],
    name: str | None,
) -> _Model:
    """``read(folder, name)``, cached by the folder and its files' modification times."""
    try:
        stamps = tuple((folder / f).stat().st_mtime_ns for f in required)
    except OSError as exc:
        missing = [f for f in required if not (folder / f).is_file()]
        raise ModelError(
            f"model folder {folder} is missing or incomplete (missing: {', '.join(missing) or exc})"
        ) from exc
    key = (str(folder.resolve()), stamps)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None and (name is None or cached.name == name):
        return cached  # type: ignore[no-any-return]
    model = read(folder, name)
    with _CACHE_LOCK:
        for old in [k for k in _CACHE if k[0] == key[0]]:
            del _CACHE[old]
        _CACHE[key] = model
    return model


def _load(folder: Path, name: str | None) -> LoadedModel:
    try:
        meta = json.loads((folder / "model.json").read_text())
        labels_doc = json.loads((folder / "labels.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"model folder {folder}: cannot read model.json/labels.json: {exc}") from exc
    feature_set = meta.get("feature_set")
    if feature_set not in FEATURE_SETS:
        raise ModelError(f"model {folder}: unknown feature set {feature_set!r}; retrain it")
    if list(meta.get("feature_names", [])) != list(feature_names(feature_set)):
        raise ModelError(
            f"model {folder} was trained with another version of feature set {feature_set!r}; retrain it"
        )
    labels = tuple(labels_doc.get("labels") or ())
    if len(labels) < 2:
        raise ModelError(f"model {folder}: labels.json lists fewer than two labels")
    thresholds = {str(k): float(v) for k, v in (labels_doc.get("thresholds") or {}).items()}
    try:
        trees = load_lightgbm_text(folder / "model.txt")
    except ModelError as exc:
        raise ModelError(f"model {folder}: model.txt cannot be loaded: {exc.message}") from exc
    expected = len(labels) if len(labels) > 2 else 1
    if trees.num_class != expected or trees.num_features != len(feature_names(feature_set)):
        raise ModelError(f"model {folder}: model.txt does not match labels.json / the feature set")
    return LoadedModel(
        name=name or str(meta.get("name") or folder.name),
        path=folder,
        labels=labels,
        thresholds=thresholds,
        feature_set=feature_set,
        trees=trees,
        meta=meta,
    )


# -- resolving ------------------------------------------------------------------------------------


def resolve_model(settings: Settings, ref: str | None = None) -> LoadedModel:
    """The classifier that answers a call, started if needed (see the module docstring for the order).

    Parameters
    ----------
    settings : Settings
        Database URL, home folder, ``process.model_parameter``.
    ref : str, optional
        ``project``, ``project:version`` or a model folder path; wins over the parameter.

    Raises
    ------
    ModelError
        If the named model does not exist, is not trained, is not a classifier, or cannot be
        started.
    """
    source = "argument"
    if ref is None:
        ref = _parameter_value(settings)
        source = f"parameter {settings.process.model_parameter}"
    if ref is None or ref.strip() == "":
        return load_model(DEFAULT_MODEL_DIR, name=_default_name())
    ref = ref.strip()
    if _looks_like_path(ref):
        _check_kind(ref, model_kind(Path(ref).expanduser()), CLASSIFIER)
        return load_model(Path(ref), name=None)
    try:
        return start_model(settings, ref, kind=CLASSIFIER)  # type: ignore[no-any-return]
    except ModelError as exc:
        if source == "argument":
            raise
        raise ModelError(f"{exc.message} (model named by {source})") from exc


def resolve_detector(settings: Settings, ref: str) -> DetectorModel:
    """The region detector a reference names, started if needed, like :func:`resolve_model`.

    Parameters
    ----------
    settings : Settings
        The registry's database URL and home folder.
    ref : str
        A detector folder, ``project:version``, or ``project`` (its running version, else its
        newest usable one).

    Raises
    ------
    ModelError
        If the detector does not exist, is not trained, is a classifier, or cannot be started
        (a registry version is then marked ``FAILED``).
    """
    ref = ref.strip()
    if not ref:
        raise ModelError("no region detector named: set process.regions_model")
    if _looks_like_path(ref):
        _check_kind(ref, model_kind(Path(ref).expanduser()), REGION_DETECTOR)
        return load_detector_folder(ref)
    return start_model(settings, ref, kind=REGION_DETECTOR)  # type: ignore[no-any-return]


def start_model(settings: Settings, ref: str, *, kind: str | None = None) -> Any:
    """Load a registry model version, moving it to ``RUNNING`` (``STARTING`` first) if needed.

    ``quality-default`` (or ``quality-default:N`` of the bundled version) names the bundled model
    unless the registry holds a project of that name.

    Parameters
    ----------
    settings : Settings
        The registry's database URL and home folder.
    ref : str
        ``project:version``, or ``project`` for its running (else newest usable) version.
    kind : str, optional
        ``"classifier"`` or ``"region-detector"`` to insist on one kind; default: either.

    Returns
    -------
    LoadedModel or DetectorModel
        By the version's kind (``model.json``); both have ``.name`` (``project:version``).

    Raises
    ------
    ModelError
        Unknown project or version, a version that is not trained, one of another ``kind``
        (its status is left alone), or one that fails to load (then marked ``FAILED``).
    """
    try:
        project, version = parse_ref(ref)
    except OcrprepError as exc:
        raise ModelError(f"model {ref!r}: {exc.message}") from exc
    registry = Registry.from_settings(settings)
    try:
        current = registry.get(project, version)
    except OcrprepError as exc:
        if project == DEFAULT_MODEL_NAME and (version is None or f"{project}:{version}" == _default_name()):
            _check_kind(ref, CLASSIFIER, kind)
            return load_model(DEFAULT_MODEL_DIR, name=_default_name())
        raise ModelError(f"model {ref!r} not found: {exc.message}") from exc
    return _ensure_running(registry, current, kind)


def _check_kind(name: str, actual: str, wanted: str | None) -> None:
    """Refuse a model of another kind than ``wanted`` (an unknown kind passes to the loader)."""
    if wanted is None or not actual or actual == wanted:
        return
    use = ("name it in process.regions_model (extract_mode=regions)" if actual == REGION_DETECTOR
           else "name it in process.model")
    raise ModelError(f"model {name} is a {actual}, not a {wanted}; {use}")


def _loader(kind: str) -> Callable[[str | Path, str | None], Any]:
    return load_detector_folder if kind == REGION_DETECTOR else load_model


def _ensure_running(registry: Registry, current: ModelVersion, kind: str | None = None) -> Any:
    name = current.name
    status = current.status
    if status in (Status.TRAINING_IN_PROGRESS, Status.TRAINING_FAILED, Status.DELETING):
        detail = f": {current.status_message}" if current.status_message else ""
        raise ModelError(f"model {name} is {status.value}{detail}; it cannot be started")
    if status == Status.STOPPING:
        raise ModelError(f"model {name} is STOPPING; start it again when it has stopped")
    _check_kind(name, current.kind, kind)
    load = _loader(current.kind or kind or CLASSIFIER)
    if status == Status.RUNNING:
        try:
            return load(current.path, name)
        except ModelError as exc:
            _mark_failed(registry, current, Status.RUNNING, exc)
            raise ModelError(f"model {name} cannot be used: {exc.message}") from exc
    if status != Status.STARTING:
        try:
            registry.transition(current.project, current.version, Status.STARTING, "starting")
        except OcrprepError:
            pass  # another caller is starting it at the same moment; load it anyway
    try:
        model = load(current.path, name)
    except ModelError as exc:
        _mark_failed(registry, current, Status.STARTING, exc)
        raise ModelError(f"model {name} cannot be started: {exc.message}") from exc
    try:
        registry.transition(current.project, current.version, Status.RUNNING, "running")
    except OcrprepError:
        pass  # already RUNNING through another caller
    return model


def _mark_failed(registry: Registry, current: ModelVersion, status: Status, exc: ModelError) -> None:
    try:
        if status == Status.RUNNING:
            registry.transition(current.project, current.version, Status.STOPPING, "failing")
        registry.transition(current.project, current.version, Status.FAILED, exc.message)
    except OcrprepError:
        pass  # the status could not be recorded; the ModelError still reaches the caller


def _parameter_value(settings: Settings) -> str | None:
    url = settings.db_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        database = Path(url.removeprefix("sqlite:///"))
        if not database.exists():
            return None  # no registry yet, so no parameter: do not create one on a read
    from ocrprep.params import ParameterStore

    try:
        found = ParameterStore(url).find(settings.process.model_parameter)
    except OcrprepError as exc:
        raise ModelError(
            f"cannot read parameter {settings.process.model_parameter}: {exc.message}"
        ) from exc
    return found.value if found is not None else None


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.startswith(("~", ".")) or Path(ref, "model.json").is_file()


def _default_name() -> str:
    try:
        meta = json.loads((DEFAULT_MODEL_DIR / "model.json").read_text())
    except (OSError, ValueError):
        return f"{DEFAULT_MODEL_NAME}:1"
    return str(meta.get("name") or f"{DEFAULT_MODEL_NAME}:1")
