"""The labelling job's output: a SageMaker Ground Truth output manifest (JSON Lines) in the
image-classification or object-detection shape, which ``ocrprep train`` reads directly. The rows
are built by :mod:`ocrprep.manifests`, which also reads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ocrprep.manifests import classification_row, detection_row, json_lines
from ocrprep.server.labelling import Consensus, Job

__all__ = ["manifest_lines", "write_manifest"]



def manifest_lines(
    job: Job,
    results: Iterable[Consensus],
    *,
    created: datetime,
    include_review: bool = False,
) -> list[dict[str, Any]]:
    """The Ground Truth output manifest rows for the images that have a consensus.

    Incomplete images, images without a label, and (unless ``include_review``) images flagged for
    review are left out. Classification rows carry the class index in ``<attr>`` and
    ``class-name``/``confidence`` in ``<attr>-metadata``; box rows carry ``annotations`` and
    ``image_size`` in ``<attr>`` and ``class-map``/``objects`` in ``<attr>-metadata``.

    Examples
    --------
    >>> from datetime import datetime, UTC
    >>> from ocrprep.server.labelling import Annotation, consensus
    >>> job = Job("q", images=("s3://b/a.jpg",))
    >>> rows = manifest_lines(job, consensus(job, [Annotation(0, "w1", "bad")]),
    ...                       created=datetime(2026, 1, 1, tzinfo=UTC))
    >>> rows[0]["q"], rows[0]["q-metadata"]["class-name"]
    (1, 'bad')
    """
    attr = job.label_attribute
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S.%f")
    rows = []
    for item in results:
        if not item.complete or (item.review and not include_review):
            continue
        if job.kind == "classification":
            if item.label is None:
                continue
            rows.append(classification_row(
                item.uri, attr, job.labels.index(item.label), item.label,
                confidence=round(item.confidence, 4), job_name=job.name, created=stamp,
            ))
            continue
        rows.append(detection_row(
            item.uri, attr,
            [(job.labels.index(box.label), box.left, box.top, box.width, box.height) for box, _ in item.boxes],
            image_size=item.image_size or (0, 0), class_names=job.labels,
            confidences=[share for _, share in item.boxes], job_name=job.name, created=stamp,
        ))
    return rows


def write_manifest(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The rows as JSON Lines bytes (UTF-8, one object per line, trailing newline)."""
    return json_lines(rows).encode()
