"""What every route shares: the app's state, and the credential checks (deny by default).

:func:`authenticate` runs before every API route of the app: it lets the public paths through
(:data:`PUBLIC_PATHS`), and otherwise demands a valid credential from the ``Authorization: Bearer``
header, the ``X-API-Key`` header or the sign-in cookie. Routers then narrow it with
:func:`needs` (a scope) or :func:`needs_worker`. A cookie alone never authorises a state-changing
request: those also need the ``X-Requested-With: ocrprep`` header, which a cross-site form cannot
send (CSRF), and CORS is off unless configured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import anyio
from fastapi import Request

from ocrprep.config import Settings
from ocrprep.errors import AuthError, OcrprepError
from ocrprep.server.auth import Authenticator, Principal, ScopeDenied, require_scope
from ocrprep.server.labelling_db import LabellingStore
from ocrprep.server.metrics import Metrics
from ocrprep.server.options import ServerOptions
from ocrprep.server.results import RecentResults
from ocrprep.server.services import Services, UploadSpool

__all__ = [
    "COOKIE",
    "PUBLIC_PATHS",
    "AppState",
    "WorkerCrashed",
    "app_state",
    "authenticate",
    "blocking",
    "compute",
    "needs",
    "needs_worker",
]

class WorkerCrashed(OcrprepError):
    """An image worker process died during the call (it is replaced); retrying is safe."""

    http_status = 503


#: Paths served without credentials.
PUBLIC_PATHS = frozenset({"/healthz", "/signin", "/signout"})
#: The sign-in cookie.
COOKIE = "ocrprep_session"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class AppState:
    """Everything one app instance holds (each app its own: tests create many)."""

    settings: Settings
    options: ServerOptions
    services: Services
    store: LabellingStore
    auth: Authenticator
    metrics: Metrics
    results: RecentResults
    spool: UploadSpool
    limiter: anyio.CapacityLimiter
    pool: Executor | None = field(default=None)
    new_pool: Callable[[], Executor] | None = field(default=None)


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.ocrprep
    return state


def _credential(request: Request) -> tuple[str | None, bool]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    key = request.headers.get("x-api-key")
    if key:
        return key.strip(), False
    cookie = request.cookies.get(COOKIE)
    return (cookie, True) if cookie else (None, False)


async def authenticate(request: Request) -> Principal:
    """The caller's principal; raises :class:`AuthError` unless the path is public."""
    if request.url.path in PUBLIC_PATHS:
        principal = Principal(kind="anonymous", name="")
        request.state.principal = principal
        return principal
    state = app_state(request)
    token, via_cookie = _credential(request)
    principal = state.auth.cached(token)
    if principal is None:  # scrypt takes tens of ms: keep it off the event loop
        principal = await anyio.to_thread.run_sync(state.auth.authenticate, token)
    if via_cookie and request.method not in _SAFE_METHODS and (
        request.headers.get("x-requested-with") != "ocrprep"
    ):
        raise AuthError("a signed-in browser must send 'X-Requested-With: ocrprep' to change state")
    request.state.principal = principal
    return principal


def needs(scope: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency that demands an API key holding ``scope``."""

    async def check(request: Request) -> Principal:
        principal: Principal = request.state.principal
        require_scope(principal, scope)
        return principal

    check.__name__ = f"needs_{scope}"
    return check


async def needs_worker(request: Request) -> Principal:
    """A dependency that demands a labelling worker's token."""
    principal: Principal = request.state.principal
    if principal.kind != "worker" or principal.job_id is None:
        raise ScopeDenied("this call needs a labelling worker's token")
    return principal


async def compute(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a CPU-bound image call in the worker processes (or threads), first come first served.

    ``fn`` and ``args`` must pickle (module-level functions, settings, bytes, str) when the app
    runs worker processes.
    """
    state = app_state(request)
    if state.pool is None:
        return await anyio.to_thread.run_sync(fn, *args, limiter=state.limiter)
    async with state.limiter:
        pool = state.pool
        try:
            return await asyncio.wrap_future(pool.submit(fn, *args))
        except BrokenProcessPool as exc:
            # a worker died (killed, out of memory, a crash in native code): start a fresh pool
            # for the next calls, and say so for this one
            if state.pool is pool and state.new_pool is not None:
                state.pool = state.new_pool()
                pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerCrashed(
                "an image worker process stopped while handling this call; it has been "
                "replaced, send the request again"
            ) from exc


async def blocking(request: Request, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking, mostly-waiting call (the database) in the shared thread pool."""
    return await anyio.to_thread.run_sync(fn, *args)
