"""Labelling over HTTP: jobs from a folder, worker tokens, leases, answers, undo, consensus, manifest."""

from __future__ import annotations

import json
from pathlib import Path

from _serve_support import Server, write_images


def make_job(server: Server, folder: Path, **extra: object) -> dict:  # type: ignore[type-arg]
    body = {"name": "quality-check", "source": str(folder), "workers_per_image": 2, **extra}
    made = server.client.post("/v1/labelling/jobs", json=body, headers=server.h(server.admin))
    assert made.status_code == 201, made.text
    return made.json()


def worker(server: Server, job_id: int, name: str) -> dict[str, str]:
    made = server.client.post(f"/v1/labelling/jobs/{job_id}/workers", json={"name": name},
                              headers=server.h(server.admin))
    assert made.status_code == 201
    return server.h(made.json()["token"])


def test_job_from_a_folder_labelled_by_two_workers(server: Server, tmp_path: Path) -> None:
    write_images(tmp_path / "pages", 3)
    job = make_job(server, tmp_path / "pages")
    assert (job["images"], job["labels"]) == (3, ["good", "bad"])
    ann, bob = worker(server, job["id"], "ann"), worker(server, job["id"], "bob")
    c = server.client

    first = c.get("/v1/work/next?count=3", headers=ann).json()["images"]
    assert [i["image"] for i in first] == [0, 1, 2]
    image = c.get(first[0]["url"], headers=ann)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    for index, label in ((0, "good"), (1, "good"), (2, "bad")):
        assert c.post("/v1/work/annotations", json={"image": index, "label": label}, headers=ann).status_code == 200
    # undo takes back the latest answer, which comes back to ann
    assert c.post("/v1/work/undo", headers=ann).json()["image"] == 2
    assert c.get("/v1/work/next?count=3", headers=ann).json()["images"][0]["image"] == 2
    c.post("/v1/work/annotations", json={"image": 2, "label": "good"}, headers=ann)
    assert c.get("/v1/work/next", headers=ann).json() == {"images": [], "done": True}

    for index, label in ((0, "good"), (1, "bad"), (2, "good")):
        c.post("/v1/work/annotations", json={"image": index, "label": label}, headers=bob)
    summary = c.get(f"/v1/labelling/jobs/{job['id']}", headers=server.h(server.reader)).json()
    assert summary["progress"]["complete"] == 3 and summary["progress"]["review"] == 1
    labels = [(x["label"], x["confidence"], x["review"]) for x in summary["consensus"]]
    assert labels == [("good", 1.0, False), (None, 0.5, True), ("good", 1.0, False)]
    assert summary["agreement"]["per_worker"] == {"ann": 1.0, "bob": 1.0}

    manifest = c.get(f"/v1/labelling/jobs/{job['id']}/manifest", headers=server.h(server.reader))
    rows = [json.loads(line) for line in manifest.text.splitlines()]
    assert [r["quality-check-metadata"]["class-name"] for r in rows] == ["good", "good"]
    resolved = c.post(f"/v1/labelling/jobs/{job['id']}/images/1/resolve", json={"label": "bad"},
                      headers=server.h(server.admin))
    assert resolved.json()["label"] == "bad" and resolved.json()["resolved"]
    written = c.post(f"/v1/labelling/jobs/{job['id']}/manifest",
                     json={"uri": str(tmp_path / "out" / "job.manifest")}, headers=server.h(server.admin))
    assert written.json()["lines"] == 3
    assert (tmp_path / "out" / "job.manifest").read_text().count("groundtruth/image-classification") == 3


def test_leases_spread_images_over_workers(server: Server, tmp_path: Path) -> None:
    write_images(tmp_path / "pages", 2)
    job = make_job(server, tmp_path / "pages")
    heads = [worker(server, job["id"], name) for name in ("a", "b", "c")]
    got = [[i["image"] for i in server.client.get("/v1/work/next?count=2", headers=h).json()["images"]]
           for h in heads]
    assert got == [[0, 1], [0, 1], []]  # two workers per image are already holding both


def test_a_skipped_image_goes_to_another_worker(server: Server, tmp_path: Path) -> None:
    write_images(tmp_path / "pages", 1)
    job = make_job(server, tmp_path / "pages", workers_per_image=1)
    ann, bob = worker(server, job["id"], "ann"), worker(server, job["id"], "bob")
    c = server.client
    assert c.post("/v1/work/annotations", json={"image": 0, "skipped": True}, headers=ann).status_code == 200
    assert c.get("/v1/work/next", headers=ann).json()["images"] == []
    assert [i["image"] for i in c.get("/v1/work/next", headers=bob).json()["images"]] == [0]
    c.post("/v1/work/annotations", json={"image": 0, "label": "bad"}, headers=bob)
    summary = c.get(f"/v1/labelling/jobs/{job['id']}", headers=server.h(server.reader)).json()
    assert summary["consensus"][0].items() >= {"label": "bad", "skips": 1, "answers": 1, "complete": True}.items()


def test_worker_tokens_open_only_their_job(server: Server, tmp_path: Path) -> None:
    write_images(tmp_path / "pages", 2)
    job = make_job(server, tmp_path / "pages")
    ann = worker(server, job["id"], "ann")
    c = server.client
    assert c.post("/v1/process", json={"uri": "a.png"}, headers=ann).status_code == 403
    assert c.get("/v1/labelling/jobs", headers=ann).status_code == 403
    assert c.get("/v1/work/images/7", headers=ann).status_code == 404
    assert c.get("/v1/work", headers=server.h(server.admin)).status_code == 403
    bad = c.post("/v1/work/annotations", json={"image": 0, "label": "excellent"}, headers=ann)
    assert bad.status_code == 400 and "excellent" in bad.json()["message"]


def test_box_jobs_take_boxes_with_the_image_size(server: Server, tmp_path: Path) -> None:
    write_images(tmp_path / "pages", 1)
    job = make_job(server, tmp_path / "pages", name="regions", kind="boxes",
                   class_map={"0": "receipt", "1": "stamp"}, workers_per_image=1)
    assert job["labels"] == ["receipt", "stamp"]
    ann = worker(server, job["id"], "ann")
    c = server.client
    box = {"label": "receipt", "left": 5, "top": 6, "width": 50, "height": 60}
    assert c.post("/v1/work/annotations", json={"image": 0, "boxes": [box]}, headers=ann).status_code == 400
    ok = c.post("/v1/work/annotations", json={"image": 0, "boxes": [box], "image_size": [120, 160]}, headers=ann)
    assert ok.status_code == 200
    row = json.loads(c.get(f"/v1/labelling/jobs/{job['id']}/manifest", headers=server.h(server.reader)).text)
    assert row["regions"]["annotations"] == [{"class_id": 0, "left": 5, "top": 6, "width": 50, "height": 60}]
    assert row["regions-metadata"]["type"] == "groundtruth/object-detection"


def test_job_requests_are_checked(server: Server, tmp_path: Path) -> None:
    h = server.h(server.admin)
    c = server.client
    assert c.post("/v1/labelling/jobs", json={"name": "x"}, headers=h).status_code == 400
    assert c.post("/v1/labelling/jobs", json={"name": "x", "images": []}, headers=h).status_code == 400
    assert c.post("/v1/labelling/jobs", json={"name": "x", "source": "/etc"}, headers=h).status_code == 403
    assert c.post("/v1/labelling/jobs", json={"name": "x", "images": ["a"], "kind": "boxes"},
                  headers=h).status_code == 400
    made = c.post("/v1/labelling/jobs", json={"name": "x", "images": ["a.png"]}, headers=h)
    again = c.post("/v1/labelling/jobs", json={"name": "x", "images": ["a.png"]}, headers=h)
    assert made.status_code == 201 and again.status_code == 409
