"""``POST /v1/detect-regions``: a registered region detector answers over HTTP, started on use."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import cv2
from _models_support import stamp_page, tiny_detector_dir  # noqa: F401

from ocrprep.registry import Registry, Status


def test_a_registered_detector_answers_and_is_started_on_first_use(
    server_factory: Any, tiny_detector_dir: Path, tmp_path: Path
) -> None:
    live = server_factory()
    registry = Registry.from_settings(live.settings)
    copy = tmp_path / "detector"
    shutil.copytree(tiny_detector_dir, copy)
    registry.register("stamps", copy)
    page, truth = stamp_page(99)
    source = tmp_path / "page.png"
    cv2.imwrite(str(source), cv2.cvtColor(page, cv2.COLOR_RGB2BGR))
    h = live.h(live.reader)

    found = live.client.post("/v1/detect-regions", json={"uri": str(source), "regions_model": "stamps"},
                             headers=h)
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["model"] == "stamps:1"
    assert registry.get("stamps", 1).status == Status.RUNNING
    best = body["CustomLabels"][0]
    assert best["Name"] == "stamp"
    box = best["Geometry"]["BoundingBox"]
    assert abs(box["Left"] * page.shape[1] - truth.left) < 0.25 * truth.width
    assert abs(box["Top"] * page.shape[0] - truth.top) < 0.25 * truth.height

    upload = live.client.post("/v1/detect-regions", headers=h,
                              files={"file": ("page.png", source.read_bytes(), "image/png")},
                              data={"options": '{"regions_model": "stamps:1", "min_confidence": 0}'})
    assert upload.status_code == 200 and len(upload.json()["CustomLabels"]) >= len(body["CustomLabels"])

    admin = live.h(live.admin)
    stopped = live.client.post("/v1/projects/stamps/versions/1/stop", headers=admin)
    assert stopped.status_code == 200 and stopped.json()["status"] == "STOPPED"
    described = live.client.get("/v1/projects/stamps/versions/1", headers=h).json()
    assert described["kind"] == "region-detector" and described["evaluation"]["mAP50"] >= 0
    again = live.client.post("/v1/detect-regions", json={"uri": str(source), "regions_model": "stamps:1"},
                             headers=h)
    assert again.status_code == 200 and again.json()["CustomLabels"] == body["CustomLabels"]
    assert registry.get("stamps", 1).status == Status.RUNNING  # started again on use

    unnamed = live.client.post("/v1/detect-regions", json={"uri": str(source)}, headers=h)
    assert unnamed.status_code == 400 and "regions_model" in unnamed.json()["message"]
    missing = live.client.post("/v1/detect-regions", json={"uri": str(source), "regions_model": "nosuch:1"},
                               headers=h)
    assert missing.status_code == 503 and missing.json()["error"] == "ModelError"
    docs = live.client.get("/openapi.json", headers=h).json()
    assert "regions_model" in str(docs["paths"]["/v1/detect-regions"])
