"""ocrprep: prepare document images for OCR.

Validate (or classify) an image, enhance it, extract the regions that matter, and get back the URI
that OCR should read — or a typed error that says why not.

>>> import numpy as np
>>> import ocrprep
>>> ocrprep.assess(np.full((400, 300, 3), 255, np.uint8)).top_defect
'blank'
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ocrprep.errors import (
    AccessDenied,
    AuthError,
    DatasetError,
    ImageDecodeError,
    ImageTooLarge,
    MalformedRequest,
    ModelError,
    ObjectNotFound,
    OcrEngineError,
    OcrprepError,
    PoorQualityImage,
    RegistryError,
    StorageError,
)

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "AuthError",
    "DatasetError",
    "ImageDecodeError",
    "ImageTooLarge",
    "Label",
    "MalformedRequest",
    "ModelError",
    "ObjectNotFound",
    "OcrEngineError",
    "OcrprepError",
    "PoorQualityImage",
    "ProcessResult",
    "QualityReport",
    "RegistryError",
    "Settings",
    "StorageError",
    "assess",
    "auto_enhance",
    "crop_to_content",
    "deskew",
    "detect_labels",
    "detect_orientation",
    "detect_regions",
    "estimate_skew",
    "find_document",
    "flatten_document",
    "load_image",
    "load_settings",
    "process",
    "__version__",
]

# Public names that live in heavier modules, imported on first use so that `import ocrprep`
# (and the CLI's start) stays fast.
_LAZY = {
    "assess": ("ocrprep.api", "assess_source"),
    "detect_labels": ("ocrprep.models", "detect_labels"),
    "load_image": ("ocrprep.imageio", "load_image"),
    "load_settings": ("ocrprep.config", "load_settings"),
    "Settings": ("ocrprep.config", "Settings"),
    "process": ("ocrprep.pipeline", "process"),
    "ProcessResult": ("ocrprep.pipeline", "ProcessResult"),
    "QualityReport": ("ocrprep.quality.report", "QualityReport"),
    "Label": ("ocrprep.quality.report", "Label"),
    "auto_enhance": ("ocrprep.enhance", "auto_enhance"),
    "deskew": ("ocrprep.enhance", "deskew"),
    "detect_orientation": ("ocrprep.enhance", "detect_orientation"),
    "estimate_skew": ("ocrprep.enhance", "estimate_skew"),
    "crop_to_content": ("ocrprep.regions", "crop_to_content"),
    "find_document": ("ocrprep.regions", "find_document"),
    "flatten_document": ("ocrprep.regions", "flatten_document"),
    "detect_regions": ("ocrprep.regions.detector", "detect_regions"),
}

if TYPE_CHECKING:
    from ocrprep.api import assess_source as assess
    from ocrprep.config import Settings, load_settings
    from ocrprep.enhance import auto_enhance, deskew, detect_orientation, estimate_skew
    from ocrprep.regions import crop_to_content, find_document, flatten_document
    from ocrprep.regions.detector import detect_regions
    from ocrprep.imageio import load_image
    from ocrprep.models import detect_labels
    from ocrprep.pipeline import ProcessResult, process
    from ocrprep.quality.report import Label, QualityReport


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'ocrprep' has no attribute {name!r}") from None
    value = getattr(import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
