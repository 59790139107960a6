"""The labelling core: assignment, consensus, agreement statistics, the Ground Truth manifest."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocrprep.errors import MalformedRequest
from ocrprep.server.agreement import agreement, fleiss_kappa, krippendorff_alpha
from ocrprep.server.labelling import Annotation, Box, Job, consensus, consensus_boxes, next_images
from ocrprep.server.manifest import manifest_lines, write_manifest

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def job(n: int = 4, workers: int = 2, **kw: object) -> Job:
    return Job("receipt-quality", images=tuple(f"s3://b/{i}.jpg" for i in range(n)),
               workers_per_image=workers, **kw)  # type: ignore[arg-type]


def test_default_labels_are_good_and_bad() -> None:
    assert job().labels == ("good", "bad")


@pytest.mark.parametrize("name", ["", "bad name", "x-metadata", "y-ref", "-lead"])
def test_job_names_follow_ground_truth_attribute_rules(name: str) -> None:
    with pytest.raises(MalformedRequest):
        Job(name, images=("a",))


def test_each_image_goes_to_n_distinct_workers() -> None:
    j = job(n=3, workers=2)
    answered: dict[int, set[str]] = {}
    leased: dict[int, set[str]] = {}
    for worker in ("w1", "w2", "w3"):
        for index in next_images(j, worker, answered, leased, count=3):
            leased.setdefault(index, set()).add(worker)
    assert all(len(holders) == 2 for holders in leased.values())
    assert next_images(j, "w3", answered, leased, count=3) == []
    # a worker never gets an image twice, and their own lease does not block them
    answered = {0: {"w1"}}
    assert 0 not in next_images(j, "w1", answered, {1: {"w1"}}, count=3)
    assert next_images(j, "w1", answered, {1: {"w1"}}, count=3) == [1, 2]
    assert next_images(j, "w1", answered, None, count=3, after=1) == [2]


def test_majority_vote_with_share_agreeing_and_flags() -> None:
    j = job(n=4, workers=3)
    votes = {0: ["good", "good", "good"], 1: ["good", "good", "bad"], 2: ["good", "bad"], 3: []}
    answers = [Annotation(i, f"w{k}", label) for i, labels in votes.items() for k, label in enumerate(labels)]
    answers.append(Annotation(2, "w9", skipped=True))
    results = consensus(j, answers)
    assert [(c.label, round(c.confidence, 3), c.complete, c.review) for c in results] == [
        ("good", 1.0, True, False),
        ("good", 0.667, True, False),
        (None, 0.5, False, False),  # incomplete: two answers of three, one skip
        (None, 0.0, False, False),
    ]
    assert results[2].skips == 1


def test_ties_and_low_agreement_are_flagged_and_left_out_until_resolved() -> None:
    j = job(n=2, workers=2, min_agreement=0.75)
    answers = [Annotation(0, "a", "good"), Annotation(0, "b", "bad"),
               Annotation(1, "a", "good"), Annotation(1, "b", "good")]
    tie = consensus(j, answers)[0]
    assert tie.label is None and tie.review and "tie" in tie.reasons[0]
    rows = manifest_lines(j, consensus(j, answers), created=NOW)
    assert [r["source-ref"] for r in rows] == ["s3://b/1.jpg"]
    resolved = consensus(j, answers, {0: "bad"})
    assert resolved[0].label == "bad" and not resolved[0].review and resolved[0].confidence == 0.5
    assert len(manifest_lines(j, resolved, created=NOW)) == 2
    three = job(n=1, workers=3, min_agreement=0.75)
    low = consensus(three, [Annotation(0, "a", "good"), Annotation(0, "b", "good"), Annotation(0, "c", "bad")])[0]
    assert low.label == "good" and low.review and low.reasons[0].startswith("low agreement")


def test_a_later_answer_replaces_the_earlier_one() -> None:
    j = job(n=1, workers=1)
    result = consensus(j, [Annotation(0, "a", "bad"), Annotation(0, "a", "good")])[0]
    assert (result.label, result.answers) == ("good", 1)


def test_classification_manifest_has_the_ground_truth_shape() -> None:
    j = job(n=2, workers=1)
    rows = manifest_lines(j, consensus(j, [Annotation(0, "a", "good"), Annotation(1, "a", "bad")]),
                          created=NOW)
    first = json.loads(write_manifest(rows).decode().splitlines()[0])
    assert first["source-ref"] == "s3://b/0.jpg"
    assert first["receipt-quality"] == 0
    meta = first["receipt-quality-metadata"]
    assert meta == {"class-name": "good", "confidence": 1.0, "type": "groundtruth/image-classification",
                    "job-name": "labeling-job/receipt-quality", "human-annotated": "yes",
                    "creation-date": "2026-11-24T10:00:00.000000"}
    assert rows[1]["receipt-quality"] == 1


def test_box_consensus_keeps_boxes_most_workers_drew() -> None:
    a = [Box("receipt", 10, 10, 100, 200), Box("stamp", 150, 20, 30, 30)]
    b = [Box("receipt", 14, 8, 98, 204)]
    c = [Box("receipt", 12, 12, 100, 198), Box("stamp", 400, 400, 10, 10)]
    groups = consensus_boxes({"a": a, "b": b, "c": c})
    receipt = groups[0]
    assert receipt[0].label == "receipt" and receipt[1] == 1.0 and receipt[2] == 3
    assert (receipt[0].left, receipt[0].top, receipt[0].width, receipt[0].height) == (12, 10, 100, 200)
    assert sorted(share for _, share, _ in groups[1:]) == [pytest.approx(1 / 3)] * 2


def test_object_detection_manifest_has_the_ground_truth_shape() -> None:
    j = Job("boxes-job", images=("s3://b/0.jpg",), labels=("receipt", "stamp"), kind="boxes",
            workers_per_image=2)
    answers = [
        Annotation(0, "a", boxes=(Box("receipt", 10, 10, 100, 200),), image_size=(300, 400)),
        Annotation(0, "b", boxes=(Box("receipt", 12, 10, 100, 200), Box("stamp", 5, 5, 9, 9)),
                   image_size=(300, 400)),
    ]
    result = consensus(j, answers)[0]
    assert result.review  # the stamp was drawn by one worker of two
    row = manifest_lines(j, [result], created=NOW, include_review=True)[0]
    assert row["boxes-job"]["image_size"] == [{"width": 300, "height": 400, "depth": 3}]
    assert row["boxes-job"]["annotations"][0] == {"class_id": 0, "left": 11, "top": 10, "width": 100, "height": 200}
    meta = row["boxes-job-metadata"]
    assert meta["type"] == "groundtruth/object-detection"
    assert meta["class-map"] == {"0": "receipt", "1": "stamp"}
    assert len(meta["objects"]) == len(row["boxes-job"]["annotations"]) == 2
    assert manifest_lines(j, [result], created=NOW) == []


def test_krippendorff_alpha_matches_the_published_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example: 0.743
    units = [["1", "1", "1"], ["2", "2", "3", "2"], ["3"] * 4, ["3"] * 4, ["2"] * 4,
             ["1", "2", "3", "4"], ["4"] * 4, ["1", "1", "2", "1"], ["2"] * 4, ["5"] * 3,
             ["1", "1"], ["3"]]
    assert krippendorff_alpha(units) == pytest.approx(0.743, abs=5e-4)


def test_fleiss_kappa_matches_the_published_example() -> None:
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories: 0.210
    counts = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
              [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    units = [[str(c) for c, n in enumerate(row) for _ in range(n)] for row in counts]
    assert fleiss_kappa(units) == pytest.approx(0.210, abs=5e-4)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abc"), min_size=2, max_size=5), min_size=2, max_size=20))
def test_agreement_statistics_are_bounded_and_perfect_when_all_agree(units: list[list[str]]) -> None:
    alpha = krippendorff_alpha(units)
    assert alpha is not None and alpha <= 1.0 + 1e-9
    same = [[u[0]] * len(u) for u in units]
    assert krippendorff_alpha(same) == pytest.approx(1.0)


def test_job_agreement_reports_per_worker_match_with_consensus() -> None:
    j = job(n=3, workers=3)
    answers = [Annotation(i, w, "good") for i in range(3) for w in ("a", "b")]
    answers += [Annotation(0, "c", "good"), Annotation(1, "c", "bad"), Annotation(2, "c", "bad")]
    stats = agreement(j, answers)
    assert stats.complete == 3
    assert stats.per_worker == {"a": 1.0, "b": 1.0, "c": pytest.approx(1 / 3)}
    assert stats.krippendorff_alpha is not None and stats.krippendorff_alpha < 0.5
