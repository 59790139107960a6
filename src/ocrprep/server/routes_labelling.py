"""Labelling jobs (admin and read keys) and the worker's endpoints (worker tokens).

Admin: create a job from a folder or S3 prefix (or a list of URIs), add workers (each gets a token
once), resolve flagged images, write the output manifest. Read: list jobs, progress, consensus,
agreement, download the manifest. Worker (``/v1/work``): the next images (leased for
``lease_seconds``), an image's bytes, answer, undo, and their own answers (for "back").
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ocrprep.errors import AccessDenied, MalformedRequest, ObjectNotFound
from ocrprep.server import labelling as core
from ocrprep.server.agreement import agreement
from ocrprep.server.auth import Principal
from ocrprep.server.deps import AppState, app_state, blocking, compute, needs, needs_worker
from ocrprep.server.labelling_db import JobInfo
from ocrprep.server.manifest import manifest_lines, write_manifest
from ocrprep.server.services import thumbnail_of

__all__ = ["router"]

router = APIRouter()
read = [Depends(needs("read"))]
admin = [Depends(needs("admin"))]
worker = [Depends(needs_worker)]

MAX_IMAGES = 100_000
_BROWSER_TYPES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG": "image/png",
    b"GIF8": "image/gif",
    b"BM": "image/bmp",
}


class JobRequest(BaseModel):
    """A new labelling job: where the images are, the labels, and workers per image."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., description="Job name; also the manifest's label attribute.")
    source: str | None = Field(None, description="Folder, file:// or s3:// prefix to list images from.")
    images: list[str] | None = Field(None, description="Or an explicit list of image URIs.")
    dataset: str | None = Field(None, description="Or a dataset: manifest or saved dataset name.")
    kind: Literal["classification", "boxes"] = "classification"
    labels: list[str] | None = Field(
        None, description="Classes (keys 1-9 pick the first nine); default good, bad."
    )
    class_map: dict[str, str] | None = Field(
        None, description="Box jobs: class id -> name, as in a Ground Truth class-map."
    )
    workers_per_image: int = Field(1, ge=1, le=50)
    min_agreement: float = Field(0.6, gt=0, le=1)
    attribute: str | None = Field(None, description="Manifest label attribute (default: name).")


class WorkerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(..., min_length=1, max_length=200)


class BoxIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str
    left: float = Field(..., ge=0)
    top: float = Field(..., ge=0)
    width: float = Field(..., gt=0)
    height: float = Field(..., gt=0)


class AnswerRequest(BaseModel):
    """A worker's answer for one image: a label, boxes (box jobs), or a skip."""

    model_config = ConfigDict(extra="forbid")
    image: int = Field(..., ge=0)
    label: str | None = None
    boxes: list[BoxIn] = Field(default_factory=list, max_length=500)
    skipped: bool = False
    image_size: tuple[int, int] | None = Field(None, description="(width, height) as shown.")


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str


class ManifestTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uri: str = Field(..., description="Where to write the manifest (path, file:// or s3://).")
    include_review: bool = False


def _job_from(body: JobRequest, images: list[str]) -> core.Job:
    if body.kind == "boxes" and body.class_map:
        try:
            ordered = sorted(body.class_map.items(), key=lambda kv: int(kv[0]))
        except ValueError as exc:
            raise MalformedRequest("class_map keys must be class ids (0, 1, ...)") from exc
        if [int(k) for k, _ in ordered] != list(range(len(ordered))):
            raise MalformedRequest("class_map ids must be 0, 1, ... without gaps")
        labels = tuple(name for _, name in ordered)
    elif body.labels:
        labels = tuple(body.labels)
    elif body.kind == "boxes":
        raise MalformedRequest("a box job needs labels or a class_map")
    else:
        labels = core.DEFAULT_LABELS
    if len(labels) > 50:
        raise MalformedRequest("at most 50 labels")
    return core.Job(
        name=body.name, images=tuple(images), labels=labels, kind=body.kind,
        workers_per_image=body.workers_per_image, min_agreement=body.min_agreement,
        attribute=body.attribute or "",
    )


def _progress(info: JobInfo, results: list[core.Consensus]) -> dict[str, Any]:
    total = len(info.job.images)
    complete = sum(1 for c in results if c.complete)
    answers = sum(c.answers + c.skips for c in results)
    return {
        "images": total,
        "complete": complete,
        "answers": answers,
        "needed": total * info.job.workers_per_image,
        "review": sum(1 for c in results if c.review),
        "percent": round(100.0 * complete / total, 1) if total else 0.0,
    }


def _summary(state: AppState, job_id: int) -> dict[str, Any]:
    info = state.store.get_job(job_id)
    annotations = state.store.annotations(job_id)
    results = core.consensus(info.job, annotations, state.store.resolutions(job_id))
    return {
        **info.to_dict(),
        "progress": _progress(info, results),
        "agreement": agreement(info.job, annotations).to_dict(),
        "workers": state.store.list_workers(job_id),
        "consensus": [c.to_dict() for c in results],
    }


# ---------------------------------------------------------------- jobs (keys)


@router.post("/v1/labelling/jobs", tags=["labelling"], dependencies=admin, status_code=201,
             summary="Create a labelling job from a folder, an S3 prefix or a list of URIs")
async def create_job(request: Request, body: JobRequest) -> dict[str, Any]:
    state = app_state(request)
    if sum(x is not None for x in (body.source, body.images, body.dataset)) != 1:
        raise MalformedRequest(
            "give exactly one of 'source' (a folder or prefix), 'images' or 'dataset'"
        )

    def work() -> dict[str, Any]:
        if body.images is not None:
            images = body.images
        elif body.dataset is not None:
            dataset = state.services.load_dataset(state.settings, body.dataset, {})
            images = [item.ref for item in dataset.items]
        else:
            images = state.services.list_images(str(body.source), state.settings)
        if len(images) > MAX_IMAGES:
            raise MalformedRequest(f"a job holds at most {MAX_IMAGES} images, got {len(images)}")
        job = _job_from(body, list(images))
        info = state.store.create_job(job, source=body.source or body.dataset or "",
                                      created_by=request.state.principal.name)
        return info.to_dict()

    return await blocking(request, work)


@router.get("/v1/labelling/jobs", tags=["labelling"], dependencies=read, summary="List jobs")
async def list_jobs(request: Request) -> list[dict[str, Any]]:
    state = app_state(request)

    def work() -> list[dict[str, Any]]:
        return [
            {**info.to_dict(), "answers": answers, "answered_images": touched}
            for info, answers, touched in state.store.list_jobs()
        ]

    return await blocking(request, work)


@router.get("/v1/labelling/jobs/{job_id}", tags=["labelling"], dependencies=read,
            summary="A job with its progress, agreement statistics and per-image consensus")
async def get_job(request: Request, job_id: int) -> dict[str, Any]:
    state = app_state(request)
    return await blocking(request, _summary, state, job_id)


@router.delete("/v1/labelling/jobs/{job_id}", tags=["labelling"], dependencies=admin,
               summary="Delete a job and its answers")
async def delete_job(request: Request, job_id: int) -> dict[str, Any]:
    state = app_state(request)
    await blocking(request, state.store.delete_job, job_id)
    return {"deleted": job_id}


@router.post("/v1/labelling/jobs/{job_id}/workers", tags=["labelling"], dependencies=admin,
             status_code=201, summary="Add a worker; the token is shown once")
async def add_worker(request: Request, job_id: int, body: WorkerRequest) -> dict[str, Any]:
    state = app_state(request)
    token = await blocking(request, state.store.add_worker, job_id, body.name)
    return {"job_id": job_id, "name": body.name, "token": token,
            "url": "/signin?next=/label"}


@router.post("/v1/labelling/jobs/{job_id}/images/{index}/resolve", tags=["labelling"],
             dependencies=admin, summary="Decide a flagged image's label")
async def resolve(request: Request, job_id: int, index: int, body: ResolveRequest) -> dict[str, Any]:
    state = app_state(request)

    def work() -> dict[str, Any]:
        info = state.store.get_job(job_id)
        if info.job.kind != "classification":
            raise MalformedRequest("only classification jobs are resolved by label")
        if body.label not in info.job.labels:
            raise MalformedRequest(f"unknown label {body.label!r}; the job's labels: {list(info.job.labels)}")
        _check_index(info, index)
        state.store.resolve(job_id, index, body.label, request.state.principal.name)
        return _summary(state, job_id)["consensus"][index]

    return await blocking(request, work)


def _manifest(state: AppState, job_id: int, include_review: bool) -> bytes:
    info = state.store.get_job(job_id)
    results = core.consensus(info.job, state.store.annotations(job_id), state.store.resolutions(job_id))
    rows = manifest_lines(info.job, results, created=datetime.now(UTC),
                               include_review=include_review)
    return write_manifest(rows)


@router.get("/v1/labelling/jobs/{job_id}/manifest", tags=["labelling"], dependencies=read,
            summary="The Ground Truth output manifest (JSON Lines) of the consensus")
async def get_manifest(request: Request, job_id: int, include_review: bool = False) -> Response:
    state = app_state(request)
    data = await blocking(request, _manifest, state, job_id, include_review)
    return Response(data, media_type="application/x-ndjson", headers={
        "Content-Disposition": f'attachment; filename="job-{job_id}.manifest"'})


@router.post("/v1/labelling/jobs/{job_id}/manifest", tags=["labelling"], dependencies=admin,
             summary="Write the output manifest to a URI (for `ocrprep train`)")
async def save_manifest(request: Request, job_id: int, body: ManifestTarget) -> dict[str, Any]:
    state = app_state(request)

    def work() -> dict[str, Any]:
        data = _manifest(state, job_id, body.include_review)
        uri = state.services.write_bytes(body.uri, data, state.settings)
        return {"uri": uri, "lines": data.count(b"\n")}

    return await blocking(request, work)


def _check_index(info: JobInfo, index: int) -> None:
    if not 0 <= index < len(info.job.images):
        raise ObjectNotFound(f"job {info.id} has no image {index}")


# ---------------------------------------------------------------- the worker's endpoints


def _worker_job(state: AppState, principal: Principal) -> JobInfo:
    if principal.job_id is None:
        raise AccessDenied("a worker token is needed")
    return state.store.get_job(principal.job_id)


def _worker_status(state: AppState, principal: Principal) -> dict[str, Any]:
    """The worker's job and progress, from the answers' (image, worker, skipped) alone (cheap
    enough to answer after every label on a job of many thousand images)."""
    info = _worker_job(state, principal)
    answered, skipped = core.answered_and_skipped(state.store.answer_states(info.id))
    total = len(info.job.images)
    mine = sum(1 for i in range(total)
               if principal.name in answered.get(i, ()) or principal.name in skipped.get(i, ()))
    complete = sum(1 for workers in answered.values() if len(workers) >= info.job.workers_per_image)
    remaining = core.next_images(info.job, principal.name, answered, None, skipped=skipped,
                                 count=total)
    return {
        "job": {k: v for k, v in info.to_dict().items() if k not in ("source", "created_by")},
        "worker": principal.name,
        "progress": {
            "images": total,
            "complete": complete,
            "mine": mine,
            "remaining_for_me": len(remaining),
        },
    }


@router.get("/v1/work", tags=["labelling worker"], dependencies=worker,
            summary="The worker's job and progress")
async def work_status(request: Request) -> dict[str, Any]:
    state = app_state(request)
    return await blocking(request, _worker_status, state, request.state.principal)


@router.get("/v1/work/next", tags=["labelling worker"], dependencies=worker,
            summary="The next images to label (held for this worker for a while)")
async def work_next(request: Request, count: int = 3, after: int = -1) -> dict[str, Any]:
    state = app_state(request)
    principal: Principal = request.state.principal
    count = max(1, min(count, 10))

    def work() -> dict[str, Any]:
        info = _worker_job(state, principal)
        answered, skipped = core.answered_and_skipped(state.store.answer_states(info.id))
        leased = state.store.leases(info.id)
        chosen = core.next_images(info.job, principal.name, answered, leased, skipped=skipped,
                                  count=count, after=after)
        if chosen:
            state.store.lease(info.id, principal.name, chosen, state.options.lease_seconds)
        return {
            "images": [{"image": i, "url": f"/v1/work/images/{i}"} for i in chosen],
            "done": not chosen and after < 0,
        }

    return await blocking(request, work)


@router.get("/v1/work/images/{index}", tags=["labelling worker"], dependencies=worker,
            summary="An image of the worker's job")
async def work_image(request: Request, index: int) -> Response:
    state = app_state(request)
    principal: Principal = request.state.principal

    def work() -> tuple[bytes, str]:
        info = _worker_job(state, principal)
        _check_index(info, index)
        data = state.services.read_bytes(info.job.images[index], state.settings)
        for magic, kind in _BROWSER_TYPES.items():
            if data.startswith(magic):
                return data, kind
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return data, "image/webp"
        return state.services.thumbnail(data, state.settings, 4096), "image/jpeg"

    data, kind = await blocking(request, work)
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=600"})


@router.post("/v1/work/annotations", tags=["labelling worker"], dependencies=worker,
             summary="Answer an image: a label, boxes, or a skip (a later answer replaces it)")
async def work_answer(request: Request, body: AnswerRequest) -> dict[str, Any]:
    state = app_state(request)
    principal: Principal = request.state.principal

    def work() -> dict[str, Any]:
        info = _worker_job(state, principal)
        job = info.job
        _check_index(info, body.image)
        if not body.skipped:
            if job.kind == "classification":
                if body.label not in job.labels:
                    raise MalformedRequest(f"unknown label {body.label!r}; use one of {list(job.labels)}")
                if body.boxes:
                    raise MalformedRequest("a classification job takes a label, not boxes")
            else:
                if body.label is not None:
                    raise MalformedRequest("a box job takes boxes, not a label")
                for box in body.boxes:
                    if box.label not in job.labels:
                        raise MalformedRequest(f"unknown box label {box.label!r}")
                    if not all(math.isfinite(v) for v in (box.left, box.top, box.width, box.height)):
                        raise MalformedRequest("box coordinates must be finite numbers")
                if body.image_size is None or min(body.image_size) <= 0:
                    raise MalformedRequest("a box answer needs image_size (width, height)")
        annotation = core.Annotation(
            image=body.image, worker=principal.name,
            label=None if body.skipped else body.label,
            boxes=() if body.skipped else tuple(
                core.Box(b.label, b.left, b.top, b.width, b.height) for b in body.boxes
            ),
            skipped=body.skipped, image_size=body.image_size,
        )
        state.store.annotate(info.id, annotation)
        return _worker_status(state, principal)["progress"]

    return await blocking(request, work)


@router.post("/v1/work/undo", tags=["labelling worker"], dependencies=worker,
             summary="Take back the worker's latest answer")
async def work_undo(request: Request) -> dict[str, Any]:
    state = app_state(request)
    principal: Principal = request.state.principal

    def work() -> dict[str, Any]:
        info = _worker_job(state, principal)
        index = state.store.undo(info.id, principal.name)
        if index is not None:
            state.store.lease(info.id, principal.name, [index], state.options.lease_seconds)
        return {"image": index, "url": None if index is None else f"/v1/work/images/{index}"}

    return await blocking(request, work)


@router.get("/v1/work/annotations", tags=["labelling worker"], dependencies=worker,
            summary="The worker's own answers, latest per image, oldest first")
async def work_answers(request: Request) -> list[dict[str, Any]]:
    state = app_state(request)
    principal: Principal = request.state.principal

    def work() -> list[dict[str, Any]]:
        info = _worker_job(state, principal)
        latest: dict[int, core.Annotation] = {}
        for a in state.store.annotations(info.id, principal.name):
            latest.pop(a.image, None)
            latest[a.image] = a
        return [
            {"image": a.image, "label": a.label, "skipped": a.skipped,
             "boxes": [b.to_dict() for b in a.boxes]}
            for a in latest.values()
        ]

    return await blocking(request, work)


@router.get("/v1/labelling/jobs/{job_id}/images/{index}", tags=["labelling"], dependencies=read,
            summary="A job's image for reviewers (a JPEG thumbnail at most `side` pixels)")
async def job_image(request: Request, job_id: int, index: int, side: int = 320) -> Response:
    state = app_state(request)

    info = await blocking(request, state.store.get_job, job_id)
    _check_index(info, index)
    data = await compute(request, thumbnail_of, state.services, info.job.images[index],
                         state.settings, max(32, min(side, 2048)))
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=600"})
