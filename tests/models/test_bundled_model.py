"""The bundled default quality model: it loads, and it behaves on real receipts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ocrprep.imageio import decode_image
from ocrprep.models import DEFAULT_MODEL_DIR, load_model

RECEIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "receipts"


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    if not (DEFAULT_MODEL_DIR / "model.txt").is_file():
        pytest.fail("the bundled model is missing: run `make model` and commit src/ocrprep/data/models")
    return load_model(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="module")
def previews() -> list[np.ndarray]:
    # what process hands the model: the assessment preview (800 pixels on the longer side)
    return [decode_image(p.read_bytes(), max_side=800) for p in sorted(RECEIPTS.glob("*.jpg"))]


def test_bundled_model_describes_itself(model) -> None:  # type: ignore[no-untyped-def]
    meta = json.loads((DEFAULT_MODEL_DIR / "model.json").read_text())
    evaluation = json.loads((DEFAULT_MODEL_DIR / "evaluation.json").read_text())
    assert set(model.labels) == {"good", "bad"}
    assert meta["name"] == model.name
    assert {"good", "bad"} == set(model.thresholds)
    assert evaluation["LabelMetrics"] and evaluation["F1Score"] == pytest.approx(evaluation["macro_f1"], abs=1e-6)
    size = sum(f.stat().st_size for f in DEFAULT_MODEL_DIR.iterdir())
    assert size < 2_000_000


def test_bundled_model_accepts_clean_receipts(model, previews) -> None:  # type: ignore[no-untyped-def]
    top = [model.detect_labels(image)[:1] for image in previews]
    accepted = sum(bool(t) and t[0].name == "good" for t in top)
    assert accepted >= len(previews) - 1


@pytest.mark.parametrize("kind", ["blur", "noise", "dark", "occlusion", "motion_blur"])
def test_bundled_model_rejects_severe_defects(model, previews, kind: str) -> None:  # type: ignore[no-untyped-def]
    from ocrprep.degrade import degrade

    rejected = 0
    for i, image in enumerate(previews):
        labels = model.detect_labels(degrade(image, kind, "severe", seed=100 + i))
        rejected += not labels or labels[0].name != "good"
    assert rejected >= len(previews) - 1
