"""Health, metrics, who-am-I, API keys, and the recent results the dashboard shows."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ocrprep.errors import ObjectNotFound
from ocrprep.server.deps import app_state, blocking, compute, needs
from ocrprep.server.metrics import CONTENT_TYPE_LATEST
from ocrprep.server.services import thumbnail_of

__all__ = ["router"]

router = APIRouter()
read = [Depends(needs("read"))]
admin = [Depends(needs("admin"))]


class KeyRequest(BaseModel):
    """A new API key."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=200, description="Who or what uses the key.")
    scopes: list[Literal["read", "admin"]] = Field(["read"], min_length=1)


@router.get("/healthz", tags=["admin"], summary="Liveness (no credentials needed)")
async def healthz() -> dict[str, str]:
    from ocrprep import __version__

    return {"status": "ok", "version": __version__}


@router.get("/metrics", tags=["admin"], dependencies=read, summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    state = app_state(request)
    body = await blocking(request, state.metrics.render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/whoami", tags=["admin"], summary="The caller's identity and scopes")
async def whoami(request: Request) -> dict[str, Any]:
    principal = request.state.principal
    return principal.to_dict()


@router.get("/v1/keys", tags=["admin"], dependencies=admin, summary="List API keys")
async def list_keys(request: Request) -> list[dict[str, Any]]:
    state = app_state(request)
    return [key.to_dict() for key in await blocking(request, state.store.list_keys)]


@router.post("/v1/keys", tags=["admin"], dependencies=admin, status_code=201,
             summary="Create an API key (the token is shown once)")
async def create_key(request: Request, body: KeyRequest) -> dict[str, Any]:
    state = app_state(request)
    token, info = await blocking(request, state.store.create_key, body.name, body.scopes)
    return {**info.to_dict(), "token": token}


@router.delete("/v1/keys/{key_id}", tags=["admin"], dependencies=admin, summary="Revoke an API key")
async def revoke_key(request: Request, key_id: str) -> dict[str, Any]:
    state = app_state(request)
    info = await blocking(request, state.store.revoke_key, key_id)
    state.auth.forget(key_id)
    return info.to_dict()


@router.get("/v1/results", tags=["results"], dependencies=read,
            summary="Recent results of process/assess, newest first")
async def recent_results(request: Request, limit: int = 50) -> list[dict[str, Any]]:
    state = app_state(request)
    return state.results.recent(max(1, min(limit, 200)))


@router.get("/v1/results/{result_id}/thumbnail/{which}", tags=["results"], dependencies=read,
            summary="A thumbnail of a recent result's input (before) or output (after)")
async def result_thumbnail(
    request: Request, result_id: str, which: Literal["before", "after"], side: int = 240
) -> Response:
    state = app_state(request)
    entry = state.results.find(result_id)
    uri = (entry or {}).get("input_uri" if which == "before" else "output_uri")
    if not uri:
        raise ObjectNotFound(f"no {which} image for result {result_id!r}")

    settings = state.spool.settings_for(state.settings)  # uploads are shown too
    data = await compute(request, thumbnail_of, state.services, uri, settings,
                         max(32, min(side, 640)))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})
