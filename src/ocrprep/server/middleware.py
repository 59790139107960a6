"""One pure-ASGI middleware for every HTTP request: request id, body size bound, metrics, access log.

It assigns the request id (the caller's ``X-Request-ID`` when sane, else a fresh one), echoes it in
the response, refuses a body larger than ``max_body`` (from ``Content-Length`` at once, and while
streaming for chunked bodies) with a 413 problem body, and records the request's route template,
status and latency in the app's metrics and in one JSON access-log line.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ocrprep.errors import ImageTooLarge
from ocrprep.server.logging import request_id, sane_request_id
from ocrprep.server.metrics import Metrics

__all__ = ["BodyTooLarge", "RequestMiddleware"]

log = logging.getLogger("ocrprep.server.access")


class BodyTooLarge(ImageTooLarge):
    """The request body is larger than the server accepts."""


class RequestMiddleware:
    """See the module docstring."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rid = sane_request_id(headers.get("x-request-id"))
        token = request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        self.metrics.in_flight.inc()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", rid.encode()),
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        try:
            declared = headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body:
                await _problem(send_with_id, BodyTooLarge(self._too_large(int(declared))), rid)
                return
            received = 0

            async def bounded_receive() -> Message:
                nonlocal received
                message = await receive()
                if message["type"] == "http.request":
                    received += len(message.get("body", b""))
                    if received > self.max_body:
                        raise BodyTooLarge(self._too_large(received))
                return message

            await self.app(scope, bounded_receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.in_flight.dec()
            route = scope.get("route")
            template = getattr(route, "path", None) or _static_or_unmatched(scope)
            self.metrics.observe_request(scope["method"], template, status, elapsed)
            log.info(
                "%s %s %d", scope["method"], template, status,
                extra={
                    "request_id": rid,
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "seconds": round(elapsed, 4),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )
            request_id.reset(token)

    def _too_large(self, size: int) -> str:
        return (
            f"the request body has {size} bytes or more, above the limit of {self.max_body}; "
            "send a smaller image or pass a URI instead"
        )


def _static_or_unmatched(scope: Scope) -> str:
    return "/static" if str(scope.get("path", "")).startswith("/static/") else "<unmatched>"


async def _problem(send: Send, exc: ImageTooLarge, rid: str) -> None:
    body: dict[str, Any] = {**exc.to_dict(), "request_id": rid}
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": exc.http_status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
