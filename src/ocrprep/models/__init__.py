"""Trainable classifiers: features, training, evaluation, and the models ``process`` calls.

``resolve_model(settings, ref=None)`` returns the :class:`LoadedModel` that answers a call (the
reference given, else the model named by the ``preprocess/model`` parameter, else the bundled
default quality model), starting a registry version that is not running. ``LoadedModel`` has
``.name``, ``.labels`` and ``.detect_labels(image, min_confidence=None)``.
``resolve_detector(settings, ref)`` does the same for a region detector (a folder, ``project`` or
``project:version``) and returns a :class:`~ocrprep.regions.detector.DetectorModel`.
"""

from __future__ import annotations

from ocrprep.models.runtime import (
    DEFAULT_MODEL_DIR,
    DEFAULT_MODEL_NAME,
    LoadedModel,
    detect_labels,
    load_model,
    resolve_detector,
    resolve_model,
    start_model,
)

__all__ = [
    "DEFAULT_MODEL_DIR",
    "DEFAULT_MODEL_NAME",
    "LoadedModel",
    "detect_labels",
    "load_model",
    "resolve_detector",
    "resolve_model",
    "start_model",
]
