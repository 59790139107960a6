"""The HTTP API against a live uvicorn on loopback: auth, scopes, problem bodies, bounds, metrics."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from ocrprep.server.deps import PUBLIC_PATHS
from ocrprep.server.options import ServerOptions
from _serve_support import Server, fake_services

RECEIPT = Path(__file__).resolve().parents[1] / "fixtures" / "receipts" / "000.jpg"


def api_routes(routes: list) -> list[APIRoute]:  # type: ignore[type-arg]
    """Every APIRoute, also inside included routers."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found.extend(api_routes(inner.routes))
    return found


def test_health_is_public_and_everything_else_is_denied(server: Server) -> None:
    assert server.client.get(f"/healthz").json()["status"] == "ok"
    checked = 0
    for route in api_routes(server.app.routes):
        if route.path in PUBLIC_PATHS:
            continue
        path = re.sub(r"\{[^}:]+(:path)?\}", "1", route.path)
        for method in route.methods - {"HEAD"}:
            response = server.client.request(method, path, headers={"Accept": "application/json"})
            assert response.status_code == 401, (method, route.path, response.text)
            assert response.json()["error"] == "AuthError"
            assert response.headers["www-authenticate"].startswith("Bearer")
            checked += 1
    assert checked > 30


def test_wrong_and_revoked_keys_are_refused(server: Server) -> None:
    bad = server.reader[:-4] + "AAAA"
    assert server.client.get(f"/v1/whoami", headers=server.h(bad)).status_code == 401
    assert server.client.get(f"/v1/whoami", headers=server.h("not-a-key")).status_code == 401
    me = server.client.get(f"/v1/whoami", headers=server.h(server.reader)).json()
    assert me["scopes"] == ["read"]
    revoked = server.client.delete(f"/v1/keys/{me['id']}", headers=server.h(server.admin))
    assert revoked.json()["revoked"] is True
    assert server.client.get(f"/v1/whoami", headers=server.h(server.reader)).status_code == 401


def test_read_scope_cannot_change_state(server: Server) -> None:
    reader = server.h(server.reader)
    response = server.client.put(f"/v1/params/preprocess/model", json={"value": "x"}, headers=reader)
    assert response.status_code == 403
    assert response.json()["error"] == "ScopeDenied"
    assert server.client.post(f"/v1/keys", json={"name": "x"}, headers=reader).status_code == 403
    # but it may read, and call the image endpoints
    assert server.client.get(f"/v1/params", headers=reader).status_code == 200
    assert server.client.post(f"/v1/assess", json={"uri": "a.png"}, headers=reader).status_code == 200


def test_admin_creates_keys_shown_once_and_stored_hashed(server: Server) -> None:
    made = server.client.post(f"/v1/keys", json={"name": "ci", "scopes": ["read"]},
                      headers=server.h(server.admin))
    assert made.status_code == 201
    token = made.json()["token"]
    assert server.client.get(f"/v1/whoami", headers={"X-API-Key": token}).json()["name"] == "ci"
    listed = server.client.get(f"/v1/keys", headers=server.h(server.admin)).json()
    assert all("token" not in key and token not in json.dumps(key) for key in listed)
    from ocrprep.server.auth import parse_credential

    secret = parse_credential(token)[2]  # the secret itself may hold '_'
    assert len(secret) >= 40
    import sqlite3

    database = server.settings.db_url.removeprefix("sqlite:///")
    rows = sqlite3.connect(database).execute("select salt, digest from auth_api_keys").fetchall()
    assert rows and all(secret.encode() not in salt + digest for salt, digest in rows)


def test_errors_are_problem_bodies_with_each_class_status(server: Server) -> None:
    h = server.h(server.reader)
    poor = server.client.post(f"/v1/process", json={"uri": "blurry.png"}, headers=h)
    assert poor.status_code == 422
    assert poor.headers["content-type"] == "application/problem+json"
    body = poor.json()
    assert body["error"] == "PoorQualityImage" and body["report"]["defects"]["blurry"] == 0.9
    assert body["request_id"] == poor.headers["x-request-id"]
    missing = server.client.post(f"/v1/process", json={"uri": "nomodel.png"}, headers=h)
    assert (missing.status_code, missing.json()["error"]) == (503, "ModelError")
    malformed = server.client.post(f"/v1/process", json={"uri": "a.png", "steps": 5}, headers=h)
    assert (malformed.status_code, malformed.json()["error"]) == (400, "MalformedRequest")
    unknown = server.client.post(f"/v1/process", json={"uri": "a.png", "stepz": []}, headers=h)
    assert unknown.status_code == 400 and "stepz" in unknown.json()["message"]
    not_json = server.client.post(f"/v1/process", content=b"{", headers={**h, "Content-Type": "application/json"})
    assert not_json.status_code == 400
    nothing = server.client.post(f"/v1/process", json={}, headers=h)
    assert nothing.status_code == 400 and "uri" in nothing.json()["message"]
    detect = server.client.post(f"/v1/detect-labels", json={"uri": "a.png", "model": "missing"}, headers=h)
    assert detect.status_code == 503


def test_process_passes_option_overrides_through(server: Server) -> None:
    response = httpx.post(
        f"{server.url}/v1/process",
        json={"uri": "a.png", "steps": ["validate", "enhance"], "decision": "measurements"},
        headers=server.h(server.reader),
    )
    assert response.status_code == 200
    assert response.json()["overrides"] == {"steps": ["validate", "enhance"], "decision": "measurements"}


def test_multipart_and_raw_uploads(server: Server) -> None:
    h = server.h(server.reader)
    data = RECEIPT.read_bytes()
    response = server.client.post(f"/v1/process", headers=h,
                          files={"file": ("r.jpg", data, "image/jpeg")},
                          data={"options": json.dumps({"decision": "measurements"})})
    assert response.status_code == 200, response.text
    assert "/uploads/" in response.json()["Input"]["S3Uri"]
    assert response.json()["overrides"] == {"decision": "measurements"}
    raw = server.client.post(f"/v1/assess", headers={**h, "Content-Type": "image/jpeg"}, content=data)
    assert raw.json()["bytes"] == len(data)
    both = server.client.post(f"/v1/process", headers=h, files={"file": ("r.jpg", data)},
                      data={"options": json.dumps({"uri": "x.png"})})
    assert both.status_code == 400


def test_uploads_are_bounded(server_factory) -> None:  # type: ignore[no-untyped-def]
    small = server_factory(services=fake_services(), options=ServerOptions(max_upload_bytes=10_000, workers=0))
    h = small.h(small.reader)
    big = b"\xff\xd8\xff" + b"0" * 20_000
    declared = small.client.post(f"/v1/assess", content=big, headers={**h, "Content-Type": "image/jpeg"})
    assert declared.status_code == 413 and declared.json()["error"] == "BodyTooLarge"

    def chunks():  # no Content-Length: the bound applies while streaming
        for _ in range(20):
            yield b"0" * 1000

    streamed = small.client.post(f"/v1/assess", content=chunks(), headers={**h, "Content-Type": "image/jpeg"})
    assert streamed.status_code == 413
    multipart = small.client.post(f"/v1/process", headers=h, files={"file": ("a.jpg", big)})
    assert multipart.status_code == 413
    assert small.client.post(f"/v1/assess", content=big[:5000], headers={**h, "Content-Type": "image/jpeg"}).status_code == 200


def test_request_id_is_echoed_or_made(server: Server) -> None:
    h = server.h(server.reader)
    given = server.client.get(f"/v1/whoami", headers={**h, "X-Request-ID": "trace-42"})
    assert given.headers["x-request-id"] == "trace-42"
    made = server.client.get(f"/v1/whoami", headers={**h, "X-Request-ID": "bad id\twith tab"})
    assert re.fullmatch(r"[0-9a-f]{16}", made.headers["x-request-id"])


def test_metrics_count_routes_images_and_rejections(server: Server) -> None:
    h = server.h(server.reader)
    for uri in ("a.png", "b.png", "blurry.png"):
        server.client.post(f"/v1/process", json={"uri": uri}, headers=h)
    text = server.client.get(f"/metrics", headers=h).text
    assert 'ocrprep_http_requests_total{method="POST",route="/v1/process",status="200"} 2.0' in text
    assert 'ocrprep_http_requests_total{method="POST",route="/v1/process",status="422"} 1.0' in text
    assert 'ocrprep_images_processed_total{endpoint="process",outcome="accepted"} 2.0' in text
    assert 'ocrprep_rejections_total{defect="blurry"} 1.0' in text
    assert "ocrprep_http_request_duration_seconds_bucket" in text
    assert "ocrprep_model_version_status" in text


def test_cors_is_off_by_default(server: Server) -> None:
    response = server.client.options(f"/v1/process", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


def test_cors_allows_only_configured_origins(server_factory) -> None:  # type: ignore[no-untyped-def]
    opened = server_factory(services=fake_services(),
                            options=ServerOptions(workers=0, cors_origins=("https://ok.example",)))
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = opened.client.options("/v1/process", headers={"Origin": "https://ok.example", **preflight})
    assert ok.headers["access-control-allow-origin"] == "https://ok.example"
    other = opened.client.options("/v1/process", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in other.headers


def test_cookie_sign_in_needs_csrf_header_to_change_state(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        signin = client.post("/signin", data={"token": server.admin, "next": "/"})
        assert signin.status_code == 303 and signin.headers["location"] == "/"
        assert "httponly" in signin.headers["set-cookie"].lower()
        assert "samesite=strict" in signin.headers["set-cookie"].lower()
        assert client.get("/v1/whoami").json()["name"] == "admin-test"
        refused = client.put("/v1/params/a", json={"value": "1"})
        assert refused.status_code == 401
        allowed = client.put("/v1/params/a", json={"value": "1"}, headers={"X-Requested-With": "ocrprep"})
        assert allowed.status_code == 200
        assert client.post("/signin", data={"token": "nope", "next": "//evil"}).status_code == 401


def test_pages_redirect_to_sign_in_and_docs_list_the_api(server: Server) -> None:
    page = server.client.get(f"/", headers={"Accept": "text/html"})
    assert page.status_code == 303 and page.headers["location"].startswith("/signin")
    docs = server.client.get(f"/openapi.json", headers=server.h(server.reader)).json()
    assert {"/v1/process", "/v1/assess", "/v1/detect-labels", "/v1/labelling/jobs"} <= set(docs["paths"])
    process = docs["paths"]["/v1/process"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(process)
    assert "steps" in process["application/json"]["schema"]["properties"]


def test_recent_results_keep_rejection_reasons(server: Server) -> None:
    h = server.h(server.reader)
    server.client.post(f"/v1/process", json={"uri": "blurry.png"}, headers=h)
    results = server.client.get(f"/v1/results", headers=h).json()
    assert results[0]["error"] == "PoorQualityImage"
    assert results[0]["reasons"] and results[0]["reasons"][0].startswith("blurry")


@pytest.mark.slow
def test_image_calls_run_in_worker_processes(server_factory) -> None:  # type: ignore[no-untyped-def]
    pooled = server_factory(services=fake_services(), options=ServerOptions(workers=1))
    h = pooled.h(pooled.reader)
    ok = pooled.client.post("/v1/process", json={"uri": "a.png"}, headers=h)
    assert ok.status_code == 200 and ok.json()["pid"] != os.getpid()
    poor = pooled.client.post("/v1/process", json={"uri": "blurry.png"}, headers=h)
    assert poor.status_code == 422 and poor.json()["report"]["defects"]["blurry"] == 0.9
    crashed = pooled.client.post("/v1/process", json={"uri": "crash.png"}, headers=h)
    assert (crashed.status_code, crashed.json()["error"]) == (503, "WorkerCrashed")
    again = pooled.client.post("/v1/process", json={"uri": "a.png"}, headers=h)
    assert again.status_code == 200 and again.json()["pid"] not in (os.getpid(), ok.json()["pid"])


@pytest.mark.slow
def test_real_pipeline_uploads_and_thumbnails(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live = server_factory(options=ServerOptions(workers=1))
    target = tmp_path / "r.jpg"
    target.write_bytes(RECEIPT.read_bytes())
    h = live.h(live.reader)
    assessed = live.client.post("/v1/assess", json={"uri": str(target)}, headers=h)
    assert assessed.status_code == 200 and "defects" in assessed.json()
    processed = live.client.post("/v1/process", json={"uri": str(target), "decision": "measurements"},
                                 headers=h)
    assert processed.status_code in (200, 422), processed.text
    uploaded = live.client.post("/v1/process", headers=h, files={"file": ("mine.jpg", RECEIPT.read_bytes())},
                                data={"options": json.dumps({"decision": "measurements"})})
    assert uploaded.status_code in (200, 422), uploaded.text
    entries = live.client.get("/v1/results", headers=h).json()
    assert entries[0]["source"] == "upload:mine.jpg"
    for entry in entries[:2]:
        thumb = live.client.get(f"/v1/results/{entry['id']}/thumbnail/before", headers=h)
        assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    detected = live.client.post("/v1/detect-labels", json={"uri": str(target)}, headers=h)
    assert detected.status_code == 200, detected.text  # the bundled default model answers
    confidences = [label["Confidence"] for label in detected.json()["Labels"]]
    assert confidences == sorted(confidences, reverse=True) and all(0 <= c <= 100 for c in confidences)
    outside = live.client.post("/v1/assess", json={"uri": "/etc/passwd"}, headers=h)
    assert outside.status_code == 403 and outside.json()["error"] == "AccessDenied"


def test_access_log_is_structured_json_with_the_request_id(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from ocrprep.server.logging import JsonFormatter

    import time

    with caplog.at_level(logging.INFO, logger="ocrprep.server.access"):
        server.client.get("/v1/whoami", headers={**server.h(server.reader), "X-Request-ID": "trace-7"})
        deadline = time.monotonic() + 5  # the line is written once the response has gone out
        while not any(getattr(r, "request_id", "") == "trace-7" for r in caplog.records):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if getattr(r, "request_id", "") == "trace-7"]
    assert len(lines) == 1
    assert {k: lines[0][k] for k in ("route", "status", "method", "level")} == {
        "route": "/v1/whoami", "status": 200, "method": "GET", "level": "info"}
    assert lines[0]["seconds"] >= 0
