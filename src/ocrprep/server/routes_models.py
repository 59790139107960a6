"""Projects, model versions (train, describe with evaluation, start, stop, delete), parameters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from ocrprep.errors import ObjectNotFound
from ocrprep.server.deps import app_state, blocking, needs

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(needs("read"))])
admin = [Depends(needs("admin"))]


class TrainBody(BaseModel):
    """Train a new version of the project from labelled data (folder names or a manifest)."""

    model_config = ConfigDict(extra="forbid")
    datasets: list[str] = Field(..., min_length=1, description="Folders, S3 prefixes, manifests "
                                "(a labelling job's output manifest too) or saved dataset names.")
    test_datasets: list[str] = Field(default_factory=list, description="Explicit test data.")
    format: str = Field("auto", description="auto, folder, groundtruth, rekognition, labelstudio.")
    attribute: str | None = Field(None, description="The manifest's label attribute.")
    allow_missing: bool = False
    params: dict[str, Any] = Field(default_factory=dict, description="TrainingParams fields "
                                   "(seed, feature_set, num_boost_round, ...).")
    wait: bool = Field(False, description="Train within the call; default: in the background.")


class ParameterValue(BaseModel):
    """A parameter's new value."""

    model_config = ConfigDict(extra="forbid")
    value: str = Field(..., max_length=10_000)


def read_evaluation(path: str) -> dict[str, Any] | None:
    """A model folder's ``evaluation.json``, or None when it has none (or it is unreadable)."""
    if not path:
        return None
    try:
        return json.loads((Path(path) / "evaluation.json").read_text())
    except (OSError, ValueError):
        return None


@router.get("/v1/projects", tags=["models"], summary="Projects and their model versions")
async def list_projects(request: Request) -> list[dict[str, Any]]:
    state = app_state(request)

    def work() -> list[dict[str, Any]]:
        registry = state.services.registry(state.settings)
        versions = registry.list_versions()
        out: dict[str, list[dict[str, Any]]] = {name: [] for name in registry.list_projects()}
        for version in versions:
            out.setdefault(version.project, []).append(version.to_dict())
        return [{"name": name, "versions": items} for name, items in sorted(out.items())]

    return await blocking(request, work)


@router.get("/v1/projects/{project}/versions", tags=["models"], summary="A project's versions")
async def list_versions(request: Request, project: str) -> list[dict[str, Any]]:
    state = app_state(request)

    def work() -> list[dict[str, Any]]:
        registry = state.services.registry(state.settings)
        return [v.to_dict() for v in registry.list_versions(project)]

    return await blocking(request, work)


@router.get("/v1/projects/{project}/versions/{version}", tags=["models"],
            summary="Describe a version, with its evaluation (confusion matrix included)")
async def describe_version(request: Request, project: str, version: int) -> dict[str, Any]:
    state = app_state(request)

    def work() -> dict[str, Any]:
        registry = state.services.registry(state.settings)
        found = registry.get(project, version)
        return {**found.to_dict(), "evaluation": read_evaluation(found.path)}

    return await blocking(request, work)


@router.post("/v1/projects/{project}/versions", tags=["models"], dependencies=admin,
             status_code=202, summary="Train a new version (in the background unless wait)")
async def train(request: Request, project: str, body: TrainBody) -> dict[str, Any]:
    """Returns the version in ``TRAINING_IN_PROGRESS`` (its ``status_message`` tells the
    progress; follow it with ``GET .../versions/{version}``), or finished with ``wait``."""
    state = app_state(request)
    payload = {**body.model_dump(exclude={"wait"}), "project": project}
    version = await blocking(request, state.services.train, state.settings, payload, body.wait)
    return version.to_dict()


@router.post("/v1/projects/{project}/versions/{version}/start", tags=["models"],
             dependencies=admin, summary="Start a version (load it; it becomes RUNNING)")
async def start_version(request: Request, project: str, version: int) -> dict[str, Any]:
    state = app_state(request)

    def work() -> dict[str, Any]:
        state.services.start_model(state.settings, f"{project}:{version}")
        return state.services.registry(state.settings).get(project, version).to_dict()

    return await blocking(request, work)


@router.post("/v1/projects/{project}/versions/{version}/stop", tags=["models"],
             dependencies=admin, summary="Stop a running version")
async def stop_version(request: Request, project: str, version: int) -> dict[str, Any]:
    state = app_state(request)

    def work() -> dict[str, Any]:
        return state.services.registry(state.settings).stop(project, version).to_dict()

    return await blocking(request, work)


@router.delete("/v1/projects/{project}/versions/{version}", tags=["models"], dependencies=admin,
               summary="Delete a version (not while training or running)")
async def delete_version(request: Request, project: str, version: int) -> dict[str, Any]:
    state = app_state(request)

    def work() -> None:
        state.services.registry(state.settings).delete(project, version)

    await blocking(request, work)
    return {"deleted": f"{project}:{version}"}


# ---------------------------------------------------------------- parameters


@router.get("/v1/params", tags=["parameters"], summary="List parameters")
async def list_params(request: Request, prefix: str = "") -> list[dict[str, Any]]:
    state = app_state(request)
    items = await blocking(request, lambda: state.services.params(state.settings).list(prefix))
    return [p.to_dict() for p in items]


@router.get("/v1/params/{name:path}", tags=["parameters"], summary="Get a parameter")
async def get_param(request: Request, name: str) -> dict[str, Any]:
    state = app_state(request)
    found = await blocking(request, lambda: state.services.params(state.settings).find(name))
    if found is None:
        raise ObjectNotFound(f"no parameter named {name!r}")
    return found.to_dict()


@router.put("/v1/params/{name:path}", tags=["parameters"], dependencies=admin,
            summary="Set a parameter (takes effect on the next call)")
async def set_param(request: Request, name: str, body: ParameterValue) -> dict[str, Any]:
    state = app_state(request)
    item = await blocking(request, lambda: state.services.params(state.settings).set(name, body.value))
    return item.to_dict()


@router.delete("/v1/params/{name:path}", tags=["parameters"], dependencies=admin,
               summary="Delete a parameter")
async def delete_param(request: Request, name: str) -> dict[str, Any]:
    state = app_state(request)
    await blocking(request, lambda: state.services.params(state.settings).delete(name))
    return {"deleted": name}
