"""The ONNX models that ship inside the ``rapidocr`` wheel, loaded once per process, offline.

One place loads them (text detector, text-line orientation classifier) for every area that uses
them as features or estimators, with one thread each, so that callers control parallelism.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ocrprep.errors import ModelError

__all__ = ["TEXT_DETECTOR", "TEXTLINE_CLASSIFIER", "bundled_model_path", "onnx_session"]

TEXT_DETECTOR = "PP-OCRv6_det_small.onnx"
TEXTLINE_CLASSIFIER = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"

_lock = threading.Lock()
_sessions: dict[str, Any] = {}


def bundled_model_path(name: str) -> Path:
    """The path of a model file shipped in the rapidocr wheel.

    Raises
    ------
    ModelError
        When rapidocr is not installed or the file is not in it.
    """
    try:
        import rapidocr
    except ImportError as exc:
        raise ModelError("rapidocr is not installed; it ships the text models") from exc
    path = Path(rapidocr.__file__).parent / "models" / name
    if not path.is_file():
        raise ModelError(f"the rapidocr model {name} is missing at {path}; reinstall rapidocr")
    return path


def onnx_session(name: str) -> Any:
    """A single-threaded onnxruntime session for a bundled model, created once per process."""
    with _lock:
        session = _sessions.get(name)
        if session is None:
            try:
                import onnxruntime as ort
            except ImportError as exc:
                raise ModelError("onnxruntime is not installed") from exc
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            session = ort.InferenceSession(
                str(bundled_model_path(name)), options, providers=["CPUExecutionProvider"]
            )
            _sessions[name] = session
        return session
