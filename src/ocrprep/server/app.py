"""The FastAPI app: ``create_app(settings) -> FastAPI``.

Every app holds its own state (options, services, metrics registry, credential cache), so tests
can create many. Errors become JSON problem bodies in one place, :func:`problem_response`: an
:class:`~ocrprep.errors.OcrprepError` answers with its class's ``http_status`` and ``to_dict()``;
request validation errors are ``MalformedRequest`` (400); anything else is a 500 that names the
request id to look up in the log.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocrprep.config import Settings, load_settings
from ocrprep.errors import AuthError, MalformedRequest, ObjectNotFound, OcrprepError
from ocrprep.server.auth import Authenticator
from ocrprep.server.deps import AppState, authenticate
from ocrprep.server.labelling_db import LabellingStore
from ocrprep.server.metrics import Metrics
from ocrprep.server.middleware import RequestMiddleware
from ocrprep.server.options import ServerOptions, server_options
from ocrprep.server.results import RecentResults
from ocrprep.server.services import Services, UploadSpool, default_services, warm_up

__all__ = ["create_app", "problem_response"]

log = logging.getLogger("ocrprep.server")

HERE = Path(__file__).parent


def create_app(
    settings: Settings | None = None,
    *,
    options: ServerOptions | None = None,
    services: Services | None = None,
    store: LabellingStore | None = None,
    results: RecentResults | None = None,
) -> FastAPI:
    """Build the ocrprep HTTP app.

    Parameters
    ----------
    settings : Settings, optional
        Defaults to :func:`ocrprep.config.load_settings`.
    options : ServerOptions, optional
        Defaults to ``settings.server`` when present, else the defaults.
    services : Services, optional
        The core functions the routes call; tests pass fakes here.
    store : LabellingStore, optional
        Jobs, annotations and API keys; defaults to the tables in ``settings.db_url``.
    results : RecentResults, optional
        The dashboard's recent results; defaults to ``$OCRPREP_HOME/serve/results.jsonl``.

    Examples
    --------
    >>> app = create_app()  # doctest: +SKIP
    >>> # uvicorn.run(app, host="127.0.0.1", port=8080)
    """
    from ocrprep import __version__
    from ocrprep.server import (
        routes_admin,
        routes_datasets,
        routes_labelling,
        routes_models,
        routes_pages,
        routes_process,
    )

    settings = settings or load_settings()
    options = options or server_options(settings)
    services = services or default_services()
    store = store or LabellingStore(settings.db_url)
    if results is None:
        path = options.results_log or Path(settings.home) / "serve" / "results.jsonl"
        results = RecentResults(path)
    metrics = Metrics(model_states=_model_states(services, settings))

    app = FastAPI(
        title="ocrprep",
        version=__version__,
        summary="Prepare document images for OCR: validate, classify, enhance, extract; label; train.",
        docs_url=None,  # served by routes_pages with credentials and without a CDN
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(authenticate)],
        lifespan=_lifespan,
    )
    app.state.ocrprep = AppState(
        settings=settings,
        options=options,
        services=services,
        store=store,
        auth=Authenticator(store, cache_seconds=options.credential_cache_seconds),
        metrics=metrics,
        results=results,
        spool=UploadSpool(Path(settings.home) / "uploads"),
        limiter=anyio.CapacityLimiter(options.in_flight()),
    )
    for module in (routes_admin, routes_process, routes_models, routes_datasets, routes_labelling,
                   routes_pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.add_exception_handler(OcrprepError, problem_response)
    app.add_exception_handler(RequestValidationError, problem_response)
    app.add_exception_handler(StarletteHTTPException, problem_response)
    app.add_exception_handler(Exception, problem_response)

    if options.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(options.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(RequestMiddleware, metrics=metrics, max_body=options.max_upload_bytes)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the worker processes for image calls (spawned: the server process has threads),
    warm them up, and stop them when the server stops."""
    state: AppState = app.state.ocrprep
    processes = state.options.processes()
    if processes:

        def new_pool() -> ProcessPoolExecutor:
            return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))

        pool = new_pool()
        state.pool, state.new_pool = pool, new_pool
        await anyio.to_thread.run_sync(
            lambda: [f.result() for f in [pool.submit(warm_up) for _ in range(processes)]]
        )
    try:
        yield
    finally:
        if state.pool is not None:
            state.pool.shutdown(wait=True, cancel_futures=True)
            state.pool = None


async def problem_response(request: Request, exc: Exception) -> Response:
    """The one place errors become HTTP answers (JSON problem bodies)."""
    error = _as_ocrprep_error(exc)
    rid = getattr(request.state, "request_id", "") or request.scope.get("state", {}).get(
        "request_id", ""
    )
    if isinstance(error, AuthError) and error.http_status == 401 and _wants_page(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={_quote(target)}", status_code=303)
    status = error.http_status
    if isinstance(exc, StarletteHTTPException) and error is not exc.__cause__:
        status = exc.status_code
    if status >= 500 and not isinstance(exc, OcrprepError):
        log.error("unhandled error", exc_info=exc, extra={"request_id": rid})
    body: dict[str, Any] = {**error.to_dict(), "status": status, "request_id": rid}
    headers = {"WWW-Authenticate": 'Bearer realm="ocrprep"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers,
                        media_type="application/problem+json")


def _as_ocrprep_error(exc: Exception) -> OcrprepError:
    if isinstance(exc, OcrprepError):
        return exc
    if isinstance(exc.__cause__, OcrprepError):  # e.g. a body read that hit the size bound
        return exc.__cause__
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return MalformedRequest(f"invalid request: {where or 'body'}: {first.get('msg', exc)}")
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return ObjectNotFound(f"no such endpoint: {exc.detail}")
        return MalformedRequest(str(exc.detail))
    return OcrprepError(
        "internal error; the server log has the details under this request id"
    )


def _wants_page(request: Request) -> bool:
    return (
        request.method == "GET"
        and not request.url.path.startswith(("/v1/", "/metrics", "/openapi.json"))
        and "text/html" in request.headers.get("accept", "")
    )


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")


def _model_states(services: Services, settings: Settings) -> Any:
    def states() -> list[tuple[str, int, str]]:
        registry = services.registry(settings)
        return [(v.project, v.version, str(v.status)) for v in registry.list_versions()]

    return states

