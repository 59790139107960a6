"""Regions of interest: find the document in a photo, flatten it, crop it, detect custom regions.

>>> from ocrprep.regions import find_document, flatten_document, crop_to_content
"""

from __future__ import annotations

from ocrprep.regions.crop import ContentBox, crop_to_content, estimate_content_box
from ocrprep.regions.document import DocumentResult, find_document, locate_document, order_quad, quad_iou
from ocrprep.regions.flatten import estimate_aspect_ratio, flatten_document

__all__ = [
    "ContentBox",
    "DocumentResult",
    "crop_to_content",
    "estimate_aspect_ratio",
    "estimate_content_box",
    "find_document",
    "flatten_document",
    "locate_document",
    "order_quad",
    "quad_iou",
]
