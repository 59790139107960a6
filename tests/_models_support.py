"""Fixtures shared by the models-area tests: registry databases, a tiny dataset, a tiny model.

Import the fixtures into a test module (``from _models_support import db_url, ...``).
The PostgreSQL case uses ``TEST_POSTGRES_URL`` (``make test`` starts a server and sets
it); without it the case is skipped, except under CI (``CI=true``) where it fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from ocrprep.config import Settings
from ocrprep.datasets import Dataset, read_folder
from ocrprep.models.training import TrainingParams, train_model

POSTGRES_ENV = "TEST_POSTGRES_URL"
TINY_PARAMS = TrainingParams(num_boost_round=30, num_leaves=4, min_data_in_leaf=2, num_threads=1, workers=1)


def postgres_url_or_skip() -> str:
    """The test server's URL; skip without one, fail under CI."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{POSTGRES_ENV} is not set under CI: `make test` must start PostgreSQL")
        pytest.skip(f"no PostgreSQL server: set {POSTGRES_ENV} (make test does)")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty registry database: SQLite in a temporary folder, or the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    url = postgres_url_or_skip()
    from ocrprep.registry_db import Base, get_engine

    engine, _ = get_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings with their own home folder and the parametrised database."""
    return Settings(home=tmp_path / "home", database_url=db_url)


def synthetic_page(seed: int, height: int = 200, width: int = 150) -> np.ndarray:
    """A seeded page: light paper with dark text-like strokes in lines (RGB uint8)."""
    rng = np.random.default_rng(seed)
    page = np.full((height, width, 3), int(rng.integers(225, 245)), np.uint8)
    y = 12
    while y < height - 14:
        x = 8
        while x < width - 14:
            w = int(rng.integers(4, 12))
            ink = int(rng.integers(10, 60))
            page[y : y + 7, x : x + w] = ink
            page[y + 2 : y + 5, x + 1 : x + w - 1] = 200  # counters keep edges inside glyphs
            x += w + int(rng.integers(2, 6))
        y += int(rng.integers(12, 16))
    return page


def make_tiny_dataset(root: Path, pages: int = 12, seed: int = 0) -> Path:
    """``root/good/pNN.png`` and ``root/bad/<kind>__pNN__severe.png`` (blur and noise)."""
    from ocrprep.degrade import degrade

    (root / "good").mkdir(parents=True, exist_ok=True)
    (root / "bad").mkdir(parents=True, exist_ok=True)
    for i in range(pages):
        page = synthetic_page(seed * 1000 + i)
        stem = f"p{i:02d}"
        cv2.imwrite(str(root / "good" / f"{stem}.png"), page[:, :, ::-1])
        for j, kind in enumerate(("blur", "noise")):
            bad = degrade(page, kind, "severe", seed=seed * 1000 + i * 10 + j)
            cv2.imwrite(str(root / "bad" / f"{kind}__{stem}__severe.png"), bad[:, :, ::-1])
    return root


@pytest.fixture(scope="session")
def tiny_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny labelled folder dataset (12 good pages, 24 degraded)."""
    return make_tiny_dataset(tmp_path_factory.mktemp("tiny-dataset"))


@pytest.fixture(scope="session")
def tiny_dataset(tiny_dataset_dir: Path) -> Dataset:
    return read_folder(str(tiny_dataset_dir))


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder trained once per session on the tiny dataset."""
    out = tmp_path_factory.mktemp("tiny-model") / "model"
    train_model(tiny_dataset, out, params=TINY_PARAMS, name="tiny:1")
    return out


# -- a tiny region detector ------------------------------------------------------------------------

STAMP_WORDS = ["TOTAL", "CASH", "RM 9.00", "THANK YOU", "GST 6%", "DATE 12/01/2018", "ITEM 2 x 4.50"]


def stamp_page(seed: int) -> tuple[np.ndarray, Any]:
    """A small receipt-like page with text lines and one big dark stamp at a seeded place, and
    the stamp's :class:`~ocrprep.regions.annotations.Box`."""
    from ocrprep.regions.annotations import Box

    rng = np.random.default_rng(seed)
    page = np.full((420, 320, 3), 235, np.uint8)
    y = 20
    while y < 400:
        text = " ".join(rng.choice(STAMP_WORDS, 2))
        cv2.putText(page, text, (int(rng.integers(5, 60)), y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (30, 30, 30), 1)
        y += int(rng.integers(18, 30))
    w, h = int(rng.integers(70, 110)), int(rng.integers(50, 80))
    x0, y0 = int(rng.integers(10, 320 - w - 10)), int(rng.integers(10, 420 - h - 10))
    cv2.rectangle(page, (x0, y0), (x0 + w, y0 + h), (150, 20, 20), -1)
    return page, Box("stamp", x0, y0, w, h)


def train_stamp_detector(pages: int = 14, rounds: int = 60) -> tuple[Any, dict[str, Any] | None]:
    """A detector of the stamp of :func:`stamp_page`, trained on the first pages and evaluated
    on the last four, and its evaluation."""
    from ocrprep.regions.annotations import BoxItem
    from ocrprep.regions.detector_train import train_detector

    drawn = {f"page{i}": stamp_page(i) for i in range(pages)}
    items = [BoxItem(name, (box,)) for name, (_, box) in drawn.items()]
    return train_detector(items[:-4], test_items=items[-4:], load=lambda ref: drawn[ref][0], rounds=rounds)


@pytest.fixture(scope="session")
def tiny_detector_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stamp detector folder (model.txt, model.json, evaluation.json), trained once per session."""
    from ocrprep.regions.detector_train import write_evaluation

    model, evaluation = train_stamp_detector()
    folder = model.save(tmp_path_factory.mktemp("tiny-detector") / "detector")
    if evaluation is not None:
        write_evaluation(evaluation, folder)
    return folder
