"""Labelling, the pure core: assignments, consensus, agreement statistics and the output manifest.

No I/O here: the database adapter (:mod:`ocrprep.server.labelling_db`) loads a job's rows into
these values and the routes format them. A job asks ``workers_per_image`` workers to label each
image, either with one class (``classification``) or with boxes (``boxes``).

Consensus, per image:

* classification: majority vote; ``confidence`` is the share of workers that agreed with it. A tie
  for first place, or a confidence under ``min_agreement``, flags the image for review; a reviewer's
  resolution then decides the label.
* boxes: boxes of the same class from different workers are matched greedily by IoU; a group drawn
  by at least half the workers is kept (its box is the coordinate-wise median), its confidence is
  the share of workers that drew it. Any group short of unanimity flags the image for review.

Agreement statistics live in :mod:`ocrprep.server.agreement`, the output manifest in
:mod:`ocrprep.server.manifest`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ocrprep.errors import MalformedRequest
from ocrprep.regions.annotations import Box

__all__ = [
    "DEFAULT_LABELS",
    "Annotation",
    "Box",
    "Consensus",
    "Job",
    "check_attribute_name",
    "consensus",
    "consensus_boxes",
    "consensus_label",
    "iou",
    "latest_per_worker",
    "answered_and_skipped",
    "next_images",
    "pairwise_agreement",
]

#: The label list of a classification job when none is given.
DEFAULT_LABELS: tuple[str, ...] = ("good", "bad")

Kind = Literal["classification", "boxes"]

_ATTRIBUTE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,126}$")


def check_attribute_name(name: str) -> str:
    """Return ``name`` if it is a valid manifest attribute (and job) name.

    Ground Truth's label attribute names are 1-127 letters, digits, ``-`` and ``_``, and must not
    end in ``-metadata`` or ``-ref``.

    Examples
    --------
    >>> check_attribute_name("receipt-quality")
    'receipt-quality'
    """
    if not _ATTRIBUTE.match(name or "") or name.endswith(("-metadata", "-ref")):
        raise MalformedRequest(
            f"invalid name {name!r}: use 1-127 letters, digits, '-' or '_', starting with a "
            "letter or digit, not ending in '-metadata' or '-ref'"
        )
    return name


@dataclass(frozen=True)
class Annotation:
    """One worker's answer for one image: a label, boxes, or a skip.

    ``image_size`` is ``(width, height)`` as the worker saw it (box jobs).
    """

    image: int
    worker: str
    label: str | None = None
    boxes: tuple[Box, ...] = ()
    skipped: bool = False
    image_size: tuple[int, int] | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Job:
    """A labelling job: which images, which labels, how many workers per image."""

    name: str
    images: tuple[str, ...]
    labels: tuple[str, ...] = DEFAULT_LABELS
    kind: Kind = "classification"
    workers_per_image: int = 1
    min_agreement: float = 0.6
    attribute: str = ""
    created_at: datetime | None = None

    def __post_init__(self) -> None:
        check_attribute_name(self.name)
        if self.attribute:
            check_attribute_name(self.attribute)
        if self.kind not in ("classification", "boxes"):
            raise MalformedRequest(f"unknown job kind {self.kind!r}; use classification or boxes")
        if not self.labels or len(set(self.labels)) != len(self.labels):
            raise MalformedRequest("a job needs a non-empty list of distinct labels")
        if any(not label.strip() for label in self.labels):
            raise MalformedRequest("labels must not be empty")
        if not 1 <= self.workers_per_image <= 50:
            raise MalformedRequest("workers_per_image must be between 1 and 50")
        if not 0 < self.min_agreement <= 1:
            raise MalformedRequest("min_agreement must be in (0, 1]")
        if not self.images:
            raise MalformedRequest(f"job {self.name!r} has no images")

    @property
    def label_attribute(self) -> str:
        """The manifest attribute holding the label (the job name unless set)."""
        return self.attribute or self.name


# ---------------------------------------------------------------- assignment


def next_images(
    job: Job,
    worker: str,
    answered: Mapping[int, set[str]],
    leased: Mapping[int, set[str]] | None = None,
    *,
    skipped: Mapping[int, set[str]] | None = None,
    count: int = 1,
    after: int = -1,
) -> list[int]:
    """The next images (indices) to show ``worker``, at most ``count``, in job order.

    An image is offered while fewer than ``workers_per_image`` workers have answered it or hold
    a lease on it, and never again to a worker who answered or skipped it. A skip does not count
    as one of the answers an image needs, so a skipped image goes to another worker. A worker's
    own lease does not count against them, so reloading the page offers the same images again.

    Parameters
    ----------
    answered : mapping of image index to the workers that answered it (skips excluded)
    leased : mapping of image index to the workers currently holding an unexpired lease
    skipped : mapping of image index to the workers whose latest answer is a skip
    after : only images with a larger index (to prefetch past the one on screen)

    Examples
    --------
    >>> job = Job("q", images=("a", "b", "c"), workers_per_image=2)
    >>> next_images(job, "w1", {0: {"w1"}, 1: {"w2", "w3"}}, count=2)
    [2]
    >>> next_images(job, "w4", {1: {"w2"}}, skipped={1: {"w3"}}, count=3)
    [0, 1, 2]
    """
    leased = leased or {}
    skipped = skipped or {}
    chosen: list[int] = []
    for index in range(max(after + 1, 0), len(job.images)):
        done = answered.get(index, set())
        if worker in done or worker in skipped.get(index, set()):
            continue
        holders = (leased.get(index, set()) - done) - {worker}
        if len(done) + len(holders) >= job.workers_per_image:
            continue
        chosen.append(index)
        if len(chosen) >= count:
            break
    return chosen


def answered_and_skipped(
    states: Iterable[tuple[int, str, bool]],
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """From (image, worker, skipped) of a job's answers, oldest first: who answered each image,
    and whose latest answer was a skip.

    Examples
    --------
    >>> answered_and_skipped([(0, "a", False), (0, "b", True), (1, "b", True), (1, "b", False)])
    ({0: {'a'}, 1: {'b'}}, {0: {'b'}})
    """
    latest: dict[tuple[int, str], bool] = {}
    for image, worker, was_skipped in states:
        latest[(image, worker)] = was_skipped
    answered: dict[int, set[str]] = {}
    skipped: dict[int, set[str]] = {}
    for (image, worker), was_skipped in latest.items():
        (skipped if was_skipped else answered).setdefault(image, set()).add(worker)
    return answered, skipped


# ---------------------------------------------------------------- consensus


@dataclass(frozen=True)
class Consensus:
    """The consolidated answer for one image.

    ``label`` is the majority class (None when nobody labelled it or on an unresolved tie);
    ``boxes`` the kept box groups with their support; ``confidence`` the share of workers that
    agreed (for boxes, the mean support of the kept groups, 1.0 when nobody drew any).
    """

    image: int
    uri: str
    votes: dict[str, int]
    answers: int
    skips: int
    label: str | None = None
    boxes: tuple[tuple[Box, float], ...] = ()
    confidence: float = 0.0
    agreement: float | None = None
    complete: bool = False
    review: bool = False
    reasons: tuple[str, ...] = ()
    resolved: bool = False
    image_size: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "uri": self.uri,
            "votes": self.votes,
            "answers": self.answers,
            "skips": self.skips,
            "label": self.label,
            "boxes": [{**box.to_dict(), "confidence": round(share, 4)} for box, share in self.boxes],
            "confidence": round(self.confidence, 4),
            "agreement": None if self.agreement is None else round(self.agreement, 4),
            "complete": self.complete,
            "review": self.review,
            "reasons": list(self.reasons),
            "resolved": self.resolved,
            "image_size": list(self.image_size) if self.image_size else None,
        }


def consensus_label(
    votes: Sequence[str], labels: Sequence[str], min_agreement: float = 0.6
) -> tuple[str | None, float, list[str]]:
    """Majority vote over ``votes``: (label, share agreeing, reasons to review).

    A tie for first place gives no label. Votes outside ``labels`` are ignored.

    Examples
    --------
    >>> consensus_label(["good", "good", "bad"], ["good", "bad"])
    ('good', 0.6666666666666666, [])
    >>> consensus_label(["good", "bad"], ["good", "bad"])
    (None, 0.5, ['tie between bad, good'])
    """
    counts = Counter(vote for vote in votes if vote in labels)
    total = sum(counts.values())
    if total == 0:
        return None, 0.0, []
    top = max(counts.values())
    leaders = sorted(name for name, n in counts.items() if n == top)
    share = top / total
    if len(leaders) > 1:
        return None, share, [f"tie between {', '.join(leaders)}"]
    reasons = []
    if share < min_agreement:
        reasons.append(f"low agreement: {share:.0%} agreed, needs {min_agreement:.0%}")
    return leaders[0], share, reasons


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes (0 when either is empty).

    Examples
    --------
    >>> iou(Box("x", 0, 0, 10, 10), Box("x", 5, 0, 10, 10))
    0.3333333333333333
    """
    left, top = max(a.left, b.left), max(a.top, b.top)
    right = min(a.left + a.width, b.left + b.width)
    bottom = min(a.top + a.height, b.top + b.height)
    inter = max(0.0, right - left) * max(0.0, bottom - top)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0


def consensus_boxes(
    answers: Mapping[str, Sequence[Box]], *, min_iou: float = 0.5
) -> list[tuple[Box, float, int]]:
    """Group the workers' boxes and return (median box, support share, workers) per group.

    Boxes of the same label from different workers join a group when their IoU with the group's
    first box is at least ``min_iou`` (greedy, largest boxes first; one box per worker per group).
    Groups are returned largest support first.

    Examples
    --------
    >>> a = {"w1": [Box("r", 0, 0, 10, 10)], "w2": [Box("r", 1, 0, 10, 10)]}
    >>> [(box.left, share) for box, share, _ in consensus_boxes(a)]
    [(0.5, 1.0)]
    """
    workers = [name for name in answers]
    if not workers:
        return []
    pool = sorted(
        ((box, worker) for worker in workers for box in answers[worker]),
        key=lambda item: -(item[0].width * item[0].height),
    )
    groups: list[list[tuple[Box, str]]] = []
    for box, worker in pool:
        for group in groups:
            seed = group[0][0]
            if seed.label == box.label and worker not in {w for _, w in group} and (
                iou(seed, box) >= min_iou
            ):
                group.append((box, worker))
                break
        else:
            groups.append([(box, worker)])
    result = []
    for group in groups:
        boxes = [box for box, _ in group]
        median = Box(
            boxes[0].label,
            _median([b.left for b in boxes]),
            _median([b.top for b in boxes]),
            _median([b.width for b in boxes]),
            _median([b.height for b in boxes]),
        )
        result.append((median, len(group) / len(workers), len(group)))
    result.sort(key=lambda item: (-item[1], item[0].top, item[0].left))
    return result


def consensus(
    job: Job,
    annotations: Iterable[Annotation],
    resolutions: Mapping[int, str] | None = None,
) -> list[Consensus]:
    """Consolidate every image's answers (see the module notes for the rules).

    ``resolutions`` maps an image index to a reviewer's label; it decides a flagged image.

    Examples
    --------
    >>> job = Job("q", images=("a", "b"), workers_per_image=2)
    >>> answers = [Annotation(0, "w1", "good"), Annotation(0, "w2", "good"),
    ...            Annotation(1, "w1", "good"), Annotation(1, "w2", "bad")]
    >>> [(c.label, c.confidence, c.review) for c in consensus(job, answers)]
    [('good', 1.0, False), (None, 0.5, True)]
    """
    resolutions = resolutions or {}
    by_image: dict[int, list[Annotation]] = {}
    for item in annotations:
        by_image.setdefault(item.image, []).append(item)
    out = []
    for index, uri in enumerate(job.images):
        items = latest_per_worker(by_image.get(index, []))
        answered = [a for a in items if not a.skipped]
        skips = len(items) - len(answered)
        complete = len(answered) >= job.workers_per_image
        size = next((a.image_size for a in answered if a.image_size), None)
        if job.kind == "classification":
            votes = [a.label for a in answered if a.label is not None]
            label, share, reasons = consensus_label(votes, job.labels, job.min_agreement)
            counts = Counter(v for v in votes if v in job.labels)
            kept: tuple[tuple[Box, float], ...] = ()
        else:
            groups = consensus_boxes({a.worker: a.boxes for a in answered})
            kept = tuple((box, share) for box, share, _ in groups if share >= 0.5)
            counts = Counter(box.label for a in answered for box in a.boxes)
            label = None
            share = (sum(s for _, s in kept) / len(kept)) if kept else (1.0 if answered else 0.0)
            reasons = []
            partial = [s for _, s, _ in groups if s < 1.0]
            if partial:
                reasons.append(
                    f"{len(partial)} box(es) not drawn by every worker "
                    f"(lowest support {min(partial):.0%})"
                )
        resolved = index in resolutions
        if resolved and job.kind == "classification":
            label = resolutions[index]
            total = sum(counts.values())
            share = counts.get(label, 0) / total if total else 0.0
            reasons = []
        if answered and not complete:
            reasons = [f"{len(answered)} of {job.workers_per_image} answers so far", *reasons]
        review = bool(reasons) and complete and not resolved
        out.append(
            Consensus(
                image=index,
                uri=uri,
                votes=dict(sorted(counts.items())),
                answers=len(answered),
                skips=skips,
                label=label,
                boxes=kept,
                confidence=share,
                agreement=pairwise_agreement(votes) if job.kind == "classification" else None,
                complete=complete,
                review=review,
                reasons=tuple(reasons),
                resolved=resolved,
                image_size=size,
            )
        )
    return out


def latest_per_worker(items: list[Annotation]) -> list[Annotation]:
    """One answer per worker: the last one given (undo and back replace earlier answers)."""
    latest: dict[str, Annotation] = {}
    for item in items:
        latest[item.worker] = item
    return list(latest.values())


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def pairwise_agreement(votes: Sequence[str]) -> float | None:
    """Observed agreement of one image: the share of ordered worker pairs that agree."""
    n = len(votes)
    if n < 2:
        return None
    counts = Counter(votes)
    return sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))
