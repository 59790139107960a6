"""Datasets: inspect a folder, S3 prefix or manifest; save it under a name for training."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from ocrprep.server.deps import app_state, blocking, needs

__all__ = ["router"]

router = APIRouter(tags=["datasets"], dependencies=[Depends(needs("read"))])
admin = [Depends(needs("admin"))]


class DatasetSource(BaseModel):
    """Where labelled images are, and how to read them."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(..., description="Folder (label = subfolder), S3 prefix, manifest, or saved name.")
    format: str = Field("auto", description="auto, folder, groundtruth, rekognition, labelstudio.")
    attribute: str | None = Field(None, description="The manifest's label attribute.")
    allow_missing: bool = Field(False, description="Go on without missing images (reported).")


class DatasetImport(DatasetSource):
    name: str = Field(..., description="Save under this name (for training by name).")


def _options(body: DatasetSource) -> dict[str, Any]:
    return {"format": body.format, "attribute": body.attribute, "allow_missing": body.allow_missing}


@router.get("/v1/datasets", summary="Saved datasets")
async def list_datasets(request: Request) -> list[str]:
    state = app_state(request)
    return await blocking(request, state.services.list_datasets, state.settings)


@router.post("/v1/datasets/inspect", summary="Images per label, groups and missing images of a source")
async def inspect_dataset(request: Request, body: DatasetSource) -> dict[str, Any]:
    state = app_state(request)

    def work() -> dict[str, Any]:
        return state.services.load_dataset(state.settings, body.source, _options(body)).summary()

    return await blocking(request, work)


@router.post("/v1/datasets", dependencies=admin, status_code=201,
             summary="Check a dataset and save it (as a Ground Truth manifest) under a name")
async def import_dataset(request: Request, body: DatasetImport) -> dict[str, Any]:
    state = app_state(request)

    def work() -> dict[str, Any]:
        dataset = state.services.load_dataset(state.settings, body.source, _options(body))
        path = state.services.save_dataset(state.settings, body.name, dataset)
        return {"name": body.name, "manifest": path, **dataset.summary()}

    return await blocking(request, work)
