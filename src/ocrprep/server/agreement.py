"""Agreement statistics of a labelling job, free: Krippendorff's alpha (nominal; it copes with
images labelled by different numbers of workers), Fleiss' kappa (over images with the most common
number of labels), per-image pairwise agreement, and each worker's agreement with the consensus.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ocrprep.server.labelling import (
    Annotation,
    Job,
    consensus,
    latest_per_worker,
    pairwise_agreement,
)

__all__ = ["Agreement", "agreement", "fleiss_kappa", "krippendorff_alpha"]



@dataclass(frozen=True)
class Agreement:
    """Agreement across a classification job's images and workers."""

    images: int
    labelled: int
    complete: int
    review: int
    krippendorff_alpha: float | None
    fleiss_kappa: float | None
    mean_pairwise: float | None
    per_worker: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def r(value: float | None) -> float | None:
            return None if value is None else round(value, 4)

        return {
            "images": self.images,
            "labelled": self.labelled,
            "complete": self.complete,
            "review": self.review,
            "krippendorff_alpha": r(self.krippendorff_alpha),
            "fleiss_kappa": r(self.fleiss_kappa),
            "mean_pairwise": r(self.mean_pairwise),
            "per_worker": {k: round(v, 4) for k, v in self.per_worker.items()},
        }


def krippendorff_alpha(units: Sequence[Sequence[str]]) -> float | None:
    """Krippendorff's alpha for nominal data; each unit lists the values its coders gave.

    Units with fewer than two values are not pairable and are ignored. Returns None when there is
    nothing to compare, and 1.0 when every pairable value is the same (no disagreement possible).

    Examples
    --------
    >>> krippendorff_alpha([["a", "a"], ["b", "b"], ["a", "b"]])
    0.4444444444444444
    """
    pairable = [list(u) for u in units if len(u) >= 2]
    if not pairable:
        return None
    coincidence: Counter[tuple[str, str]] = Counter()
    for unit in pairable:
        m = len(unit)
        counts = Counter(unit)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nk - 1) if c == k else nc * nk
                coincidence[(c, k)] += pairs / (m - 1)
    totals: Counter[str] = Counter()
    for (c, _k), value in coincidence.items():
        totals[c] += value
    n = sum(totals.values())
    observed = sum(v for (c, k), v in coincidence.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k) / (n - 1)
    if expected == 0:
        return 1.0
    return 1.0 - observed / expected


def fleiss_kappa(units: Sequence[Sequence[str]]) -> float | None:
    """Fleiss' kappa over units that all have the same number (at least 2) of ratings.

    Units with another number of ratings than the most common one are left out. Returns None
    when nothing is left, and 1.0 when every rating is the same category.

    Examples
    --------
    >>> round(fleiss_kappa([["a", "a"], ["b", "b"], ["a", "b"]]), 4)
    0.3333
    """
    sizes = Counter(len(u) for u in units if len(u) >= 2)
    if not sizes:
        return None
    n = sizes.most_common(1)[0][0]
    kept = [Counter(u) for u in units if len(u) == n]
    categories = sorted({c for counts in kept for c in counts})
    total = len(kept) * n
    p_j = [sum(counts.get(c, 0) for counts in kept) / total for c in categories]
    p_i = [(sum(v * v for v in counts.values()) - n) / (n * (n - 1)) for counts in kept]
    p_bar = sum(p_i) / len(p_i)
    p_e = sum(p * p for p in p_j)
    if math.isclose(p_e, 1.0):
        return 1.0
    return (p_bar - p_e) / (1 - p_e)


def agreement(job: Job, annotations: Iterable[Annotation]) -> Agreement:
    """Job-wide agreement: alpha, kappa, mean pairwise agreement and each worker's agreement
    with the consensus (the share of their answers that match the majority label)."""
    annotations = list(annotations)
    results = consensus(job, annotations)
    per_image: dict[int, list[Annotation]] = {}
    for item in annotations:
        per_image.setdefault(item.image, []).append(item)
    units: list[list[str]] = []
    for index in range(len(job.images)):
        answered = [a for a in latest_per_worker(per_image.get(index, [])) if not a.skipped]
        if job.kind == "classification":
            units.append([a.label for a in answered if a.label in job.labels])
        else:  # boxes: agreement on the number of boxes each worker drew
            units.append([str(len(a.boxes)) for a in answered])
    pairwise = [pairwise_agreement(u) for u in units]
    pairwise_known = [p for p in pairwise if p is not None]
    matches: Counter[str] = Counter()
    given: Counter[str] = Counter()
    by_image = {c.image: c for c in results}
    for index, items in per_image.items():
        decided = by_image[index].label
        if decided is None:
            continue
        for a in latest_per_worker(items):
            if a.skipped:
                continue
            given[a.worker] += 1
            matches[a.worker] += a.label == decided
    return Agreement(
        images=len(job.images),
        labelled=sum(1 for c in results if c.answers > 0),
        complete=sum(1 for c in results if c.complete),
        review=sum(1 for c in results if c.review),
        krippendorff_alpha=krippendorff_alpha(units),
        fleiss_kappa=fleiss_kappa(units),
        mean_pairwise=(sum(pairwise_known) / len(pairwise_known)) if pairwise_known else None,
        per_worker={w: matches[w] / given[w] for w in sorted(given)},
    )
