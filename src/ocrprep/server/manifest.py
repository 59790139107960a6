"""The labelling job's output: a SageMaker Ground Truth output manifest (JSON Lines) in the
image-classification or object-detection shape, which ``ocrprep train`` reads directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

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
    job_name = f"labeling-job/{job.name}"
    rows = []
    for item in results:
        if not item.complete or (item.review and not include_review):
            continue
        if job.kind == "classification":
            if item.label is None:
                continue
            rows.append(
                {
                    "source-ref": item.uri,
                    attr: job.labels.index(item.label),
                    f"{attr}-metadata": {
                        "class-name": item.label,
                        "confidence": round(item.confidence, 4),
                        "type": "groundtruth/image-classification",
                        "job-name": job_name,
                        "human-annotated": "yes",
                        "creation-date": stamp,
                    },
                }
            )
            continue
        width, height = item.image_size or (0, 0)
        rows.append(
            {
                "source-ref": item.uri,
                attr: {
                    "image_size": [{"width": width, "height": height, "depth": 3}],
                    "annotations": [
                        {
                            "class_id": job.labels.index(box.label),
                            "left": round(box.left),
                            "top": round(box.top),
                            "width": round(box.width),
                            "height": round(box.height),
                        }
                        for box, _ in item.boxes
                    ],
                },
                f"{attr}-metadata": {
                    "objects": [{"confidence": round(share, 4)} for _, share in item.boxes],
                    "class-map": {str(i): name for i, name in enumerate(job.labels)},
                    "type": "groundtruth/object-detection",
                    "job-name": job_name,
                    "human-annotated": "yes",
                    "creation-date": stamp,
                },
            }
        )
    return rows


def write_manifest(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """The rows as JSON Lines bytes (UTF-8, one object per line, trailing newline)."""
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
