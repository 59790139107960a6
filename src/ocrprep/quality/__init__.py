"""Quality assessment: is a document image good enough for OCR, and why not?

``assess(image) -> QualityReport`` measures the image (:func:`measure`: cheap document-imaging
measurements, reused as classifier features), compares each measurement with its calibrated limit
(:class:`QualityLimits`) and explains every defect in plain words with the measured value and the
limit. No trained model is needed; a trained classifier plugs into the same report.

Decode inputs with ``decode_image(data, max_side=ASSESS_MAX_SIDE, as_gray=True)`` and pass the original
``(height, width)`` as ``source_size``.
"""

from ocrprep.quality.assess import ASSESS_MAX_SIDE, assess, judge
from ocrprep.quality.limits import QualityLimits, step_score
from ocrprep.quality.measures import MEASURES, WORK_SIDE, measure
from ocrprep.quality.report import DEFECTS, Label, QualityReport

__all__ = [
    "ASSESS_MAX_SIDE",
    "DEFECTS",
    "MEASURES",
    "WORK_SIDE",
    "Label",
    "QualityLimits",
    "QualityReport",
    "assess",
    "judge",
    "measure",
    "step_score",
]
