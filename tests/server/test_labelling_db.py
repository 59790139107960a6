"""The server's tables on SQLite and, when make test starts one, on a real PostgreSQL server."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest

from ocrprep.errors import ObjectNotFound, RegistryError
from ocrprep.server.auth import Authenticator
from ocrprep.server.labelling import Annotation, Box, Job, consensus
from ocrprep.server.labelling_db import LabellingStore

POSTGRES = os.environ.get("TEST_POSTGRES_URL")


def roundtrip(store: LabellingStore) -> None:
    name = f"job-{secrets.token_hex(4)}"
    info = store.create_job(Job(name, images=("a.png", "b.png"), workers_per_image=2, kind="boxes",
                                labels=("receipt",)), source="folder", created_by="admin")
    with pytest.raises(RegistryError):
        store.create_job(Job(name, images=("a.png",)))
    assert store.get_job(info.id).job.images == ("a.png", "b.png")
    token = store.add_worker(info.id, "ann")
    assert Authenticator(store).authenticate(token).job_id == info.id
    box = Box("receipt", 1, 2, 30, 40)
    store.annotate(info.id, Annotation(0, "ann", boxes=(box,), image_size=(100, 200)))
    store.annotate(info.id, Annotation(1, "ann", skipped=True))
    store.lease(info.id, "bob", [0, 1], 60)
    store.lease(info.id, "bob", [0], 60)  # renewing is fine
    assert store.leases(info.id) == {0: {"bob"}, 1: {"bob"}}
    assert store.undo(info.id, "ann") == 1
    answers = store.annotations(info.id)
    assert [(a.image, a.boxes, a.image_size) for a in answers] == [(0, (box,), (100, 200))]
    store.annotate(info.id, Annotation(0, "bob", boxes=(box,), image_size=(100, 200)))
    assert consensus(store.get_job(info.id).job, store.annotations(info.id))[0].complete
    key, listed = store.create_key("ci", ["read"])
    assert store.revoke_key(listed.id).revoked_at is not None
    store.delete_job(info.id)
    with pytest.raises(ObjectNotFound):
        store.get_job(info.id)


def test_store_on_sqlite(tmp_path: Path) -> None:
    roundtrip(LabellingStore(f"sqlite:///{tmp_path / 'db.sqlite3'}"))


@pytest.mark.postgres
@pytest.mark.skipif(POSTGRES is None, reason="needs TEST_POSTGRES_URL (make test starts PostgreSQL)")
def test_store_on_postgres() -> None:
    roundtrip(LabellingStore(str(POSTGRES)))
