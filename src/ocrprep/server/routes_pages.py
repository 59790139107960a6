"""The browser pages: sign-in, the dashboard, a job's page, the labelling page, and the API docs.

Plain HTML, CSS and JavaScript from ``templates/`` and ``static/`` (no build step, no CDN). The
pages hold no data themselves: their scripts call the JSON API with the sign-in cookie.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ocrprep.errors import AuthError
from ocrprep.server.deps import COOKIE, app_state, needs, needs_worker

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).parent / "templates"
_SESSION_SECONDS = 12 * 3600


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def _page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    from ocrprep import __version__

    html = _template(name).safe_substitute(version=__version__, **values)
    return HTMLResponse(html, status_code=status, headers={
        "Cache-Control": "no-store",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; "
        "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
    })


def _safe_next(target: str | None, default: str) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@router.get("/signin")
async def signin_page(request: Request, next: str | None = None) -> HTMLResponse:
    from html import escape

    return _page("signin.html", next=escape(_safe_next(next, "/")), error="")


@router.post("/signin")
async def signin(request: Request) -> Response:
    from html import escape

    state = app_state(request)
    async with request.form(max_files=0, max_fields=4) as form:
        token = str(form.get("token") or "").strip()
        target = str(form.get("next") or "")
    try:
        principal = await anyio.to_thread.run_sync(state.auth.authenticate, token)
    except AuthError as exc:
        return _page("signin.html", status=401, next=escape(_safe_next(target, "/")),
                     error=f'<p class="error" role="alert">{escape(exc.message)}</p>')
    default = "/label" if principal.kind == "worker" else "/"
    if principal.kind == "worker" and not _safe_next(target, "").startswith("/label"):
        target = "/label"
    response = RedirectResponse(_safe_next(target, default), status_code=303)
    response.set_cookie(
        COOKIE, token, max_age=_SESSION_SECONDS, httponly=True, samesite="strict",
        secure=state.options.secure_cookies, path="/",
    )
    return response


@router.get("/signout")
async def signout() -> Response:
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/", dependencies=[Depends(needs("read"))])
async def dashboard() -> HTMLResponse:
    return _page("dashboard.html")


@router.get("/jobs/{job_id}", dependencies=[Depends(needs("read"))])
async def job_page(job_id: int) -> HTMLResponse:
    return _page("job.html", job_id=str(job_id))


@router.get("/label", dependencies=[Depends(needs_worker)])
async def label_page() -> HTMLResponse:
    return _page("label.html")


@router.get("/docs", dependencies=[Depends(needs("read"))])
async def docs() -> HTMLResponse:
    return _page("docs.html")


@router.get("/openapi.json", dependencies=[Depends(needs("read"))])
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.openapi())
