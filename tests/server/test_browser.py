"""End to end in Debian's Chromium (Playwright): label a job by keyboard as two workers, review,
draw a box, then train from the job's manifest through the API and see the evaluation drawn."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _serve_support import Server

from ocrprep import imageio

CHROMIUM = "/usr/bin/chromium"
RECEIPTS = Path(__file__).resolve().parents[1] / "fixtures" / "receipts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                       reason="needs Debian's Chromium at /usr/bin/chromium (make test installs it)"),
]


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield chromium
        chromium.close()


def receipts_and_blurred(folder: Path, n: int) -> list[str]:
    """``n`` good receipts and ``n`` blurred copies, interleaved; returns each image's truth."""
    from ocrprep.degrade import degrade

    folder.mkdir(parents=True)
    truth = []
    for i, path in enumerate(sorted(RECEIPTS.glob("*.jpg"))[:n]):
        image = imageio.decode_image(path.read_bytes(), max_side=900)
        (folder / f"r{2 * i:02d}.jpg").write_bytes(imageio.encode_image(image, "jpeg"))
        blurred = degrade(image, "blur", "severe", seed=i)
        (folder / f"r{2 * i + 1:02d}.jpg").write_bytes(imageio.encode_image(blurred, "jpeg"))
        truth += ["good", "bad"]
    return truth


def sign_in(browser: Any, server: Server, token: str, path: str = "/") -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{server.url}/signin?next={path}")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}{path}*")
    return page


def showing(page: Any, index: int) -> None:
    page.wait_for_selector(f"#image[data-index='{index}']:not(.hidden)")


def key_for(label: str) -> str:
    return {"good": "1", "bad": "2"}[label]


def label_all(page: Any, truth: list[str], wrong: int | None = None, undo_at: int | None = None,
              back_at: int | None = None) -> None:
    """Label every image by keyboard; optionally one wrong answer, one undo and one back."""
    showing(page, 0)
    for index, label in enumerate(truth):
        showing(page, index)
        if index == undo_at:  # answer wrongly, then undo: the same image comes back
            page.keyboard.press(key_for("bad" if label == "good" else "good"))
            showing(page, index + 1)
            page.keyboard.press("u")
            showing(page, index)
        answer = ("bad" if label == "good" else "good") if index == wrong else label
        page.keyboard.press(key_for(answer))
        if index == back_at:  # go back to it, see the answer, answer again
            showing(page, index + 1)
            page.keyboard.press("b")
            showing(page, index)
            assert "your answer" in page.inner_text("#previous")
            page.keyboard.press(key_for(answer))
    page.wait_for_selector("#done:not(.hidden)")


def test_label_review_box_and_train(browser: Any, server_factory: Any, tmp_path: Path) -> None:
    server: Server = server_factory()
    admin = server.h(server.admin)
    truth = receipts_and_blurred(tmp_path / "receipts", 5)
    # the admin creates the job and its workers in the browser
    setup = sign_in(browser, server, server.admin, "/")
    setup.wait_for_selector("#new-job:not(.hidden)")
    setup.fill("#job-name", "receipt-quality")
    setup.fill("#job-source", str(tmp_path / "receipts"))
    setup.fill("#job-workers", "2")
    setup.click("#new-job button[type=submit]")
    setup.wait_for_url(f"{server.url}/jobs/*")
    job = {"id": int(setup.url.rsplit("/", 1)[1])}
    tokens = []
    for name in ("ann", "bob"):
        setup.fill("#worker-name", name)
        setup.click("#add-worker button[type=submit]")
        setup.wait_for_selector(f"#new-token b:text('{name}')")
        tokens.append(setup.inner_text("#new-token code"))

    ann = sign_in(browser, server, tokens[0], "/label")
    showing(ann, 0)
    ann.screenshot(path=str(tmp_path / "label.png"))
    label_all(ann, truth, undo_at=1, back_at=2)
    bob = sign_in(browser, server, tokens[1], "/label")
    label_all(bob, truth, wrong=4)
    latencies = ann.evaluate("window.ocrprepLabel.latencies") + bob.evaluate("window.ocrprepLabel.latencies")
    assert len(latencies) >= 2 * len(truth)  # every keypress that moved on was measured

    # the job page shows the disagreement flagged; the admin resolves it by clicking
    review = sign_in(browser, server, server.admin, f"/jobs/{job['id']}")
    review.wait_for_selector("#consensus-table tr[data-image='4'] .badge.review")
    flagged = [int(x) for x in review.eval_on_selector_all(
        "#consensus-table tr.review", "rows => rows.map(r => r.dataset.image)")]
    assert flagged == [4]
    summary = server.client.get(f"/v1/labelling/jobs/{job['id']}", headers=admin).json()
    assert [c["label"] for c in summary["consensus"]] == [*truth[:4], None, *truth[5:]]
    assert summary["consensus"][4]["confidence"] == 0.5
    review.click(f"#consensus-table tr[data-image='4'] button:text('{truth[4]}')")
    review.wait_for_selector("#consensus-table tr[data-image='4'] .badge.ok")
    review.screenshot(path=str(tmp_path / "job.png"), full_page=True)

    # the output manifest is a Ground Truth manifest that the dataset reader takes as is
    manifest = tmp_path / "receipt-quality.manifest"
    written = server.client.post(f"/v1/labelling/jobs/{job['id']}/manifest", headers=admin,
                                 json={"uri": str(manifest)}).json()
    assert written["lines"] == len(truth)
    from ocrprep.datasets import load_dataset

    dataset = load_dataset(str(manifest), settings=server.settings)
    assert dataset.format == "groundtruth" and dataset.counts() == {"bad": 5, "good": 5}
    assert {Path(i.ref).name: i.label for i in dataset.items} == {
        f"r{i:02d}.jpg": label for i, label in enumerate(truth)}

    # a box job: drag a rectangle, Enter saves it
    box_job = server.client.post("/v1/labelling/jobs", headers=admin, json={
        "name": "receipt-box", "images": [str(tmp_path / "receipts" / "r00.jpg")], "kind": "boxes",
        "labels": ["receipt"], "workers_per_image": 1}).json()
    box_token = server.client.post(f"/v1/labelling/jobs/{box_job['id']}/workers", headers=admin,
                                   json={"name": "cy"}).json()["token"]
    drawer = sign_in(browser, server, box_token, "/label")
    showing(drawer, 0)
    fitted = drawer.locator("#image").bounding_box()
    drawer.keyboard.press("+")  # zoomed in, the box still lands in image pixels
    rect = drawer.locator("#image").bounding_box()
    assert rect["width"] == pytest.approx(1.25 * fitted["width"], rel=0.01)
    drawer.mouse.move(rect["x"] + 0.3 * rect["width"], rect["y"] + 0.3 * rect["height"])
    drawer.mouse.down()
    drawer.mouse.move(rect["x"] + 0.7 * rect["width"], rect["y"] + 0.7 * rect["height"], steps=5)
    drawer.mouse.up()
    assert drawer.locator("#overlay .box").count() == 1
    drawer.screenshot(path=str(tmp_path / "box.png"))
    drawer.keyboard.press("Enter")
    drawer.wait_for_selector("#done:not(.hidden)")
    row = json.loads(server.client.get(f"/v1/labelling/jobs/{box_job['id']}/manifest", headers=admin).text)
    width, height = row["receipt-box"]["image_size"][0]["width"], row["receipt-box"]["image_size"][0]["height"]
    (box,) = row["receipt-box"]["annotations"]
    assert box["class_id"] == 0
    assert box["left"] == pytest.approx(0.3 * width, abs=0.02 * width)
    assert box["width"] == pytest.approx(0.4 * width, abs=0.02 * width)
    assert box["top"] == pytest.approx(0.3 * height, abs=0.02 * height)
    assert box["height"] == pytest.approx(0.4 * height, abs=0.02 * height)

    # train from the manifest through the API, in the background, and follow its status
    started = server.client.post("/v1/projects/receipt-quality/versions", headers=admin, json={
        "datasets": [str(manifest)],
        "params": {"num_boost_round": 30, "workers": 1, "num_threads": 1}})
    assert started.status_code == 202, started.text
    version = started.json()["version"]
    deadline = time.monotonic() + 240
    while True:
        described = server.client.get(f"/v1/projects/receipt-quality/versions/{version}", headers=admin).json()
        if described["status"] != "TRAINING_IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert described["status"] == "TRAINING_COMPLETED", described
    matrix = described["evaluation"]["confusion_matrix"]
    assert sorted(matrix["labels"]) == ["bad", "good"]

    # recent results: one image straightened by enhance (before/after), one rejected (reasons)
    from ocrprep.degrade import degrade

    skewed = tmp_path / "skewed.jpg"
    # r04 (SROIE 009) is sharp (edge sharpness about 0.30 against a blur limit of 0.19), so its
    # deskewed copy passes whatever the rotation's resampling phase.
    page = imageio.decode_image((tmp_path / "receipts" / "r04.jpg").read_bytes())
    skewed.write_bytes(imageio.encode_image(degrade(page, "skew", "mild", seed=1), "jpeg"))
    fixed = server.client.post("/v1/process", headers=admin, json={
        "uri": str(skewed), "steps": ["validate", "enhance"], "decision": "measurements"})
    assert fixed.status_code == 200 and fixed.json()["changed"], fixed.text
    rejected = server.client.post("/v1/process", headers=admin, json={
        "uri": str(tmp_path / "receipts" / "r01.jpg"), "decision": "measurements"})
    assert rejected.status_code == 422 and rejected.json()["report"]["reasons"]

    dashboard = sign_in(browser, server, server.admin, "/")
    dashboard.wait_for_selector(".result.accepted figure img")
    deadline = time.monotonic() + 30
    while not dashboard.eval_on_selector_all(
        ".result.accepted img", "imgs => imgs.length == 2 && imgs.every(i => i.complete && i.naturalWidth > 0)"
    ):
        assert time.monotonic() < deadline, "the before/after thumbnails did not load"
        time.sleep(0.2)
    assert "blurry" in dashboard.inner_text(".result.rejected")
    dashboard.click("#projects button:text('Evaluation')")
    dashboard.wait_for_selector("#confusion-matrix td.cell")
    cells = dashboard.eval_on_selector_all("#confusion-matrix td.cell", "cells => cells.map(c => Number(c.textContent))")
    assert cells == [n for row in matrix["matrix"] for n in row]
    dashboard.wait_for_selector("#jobs a:text('receipt-quality')")
    dashboard.click("#projects button[data-action='start']")  # deploy it from the dashboard
    dashboard.wait_for_selector("#projects .badge.RUNNING")
    metrics = server.client.get("/metrics", headers=admin).text
    assert f'ocrprep_model_version_status{{project="receipt-quality",status="RUNNING",version="{version}"}} 1.0' in metrics
    dashboard.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    dashboard.goto(f"{server.url}/docs")
    dashboard.wait_for_selector("#api code:text('/v1/process')")
    dashboard.screenshot(path=str(tmp_path / "docs.png"))
    assert (tmp_path / "label.png").stat().st_size > 10_000
