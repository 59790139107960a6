"""The image endpoints: ``POST /v1/process``, ``/v1/assess``, ``/v1/detect-labels`` and
``/v1/detect-regions``.

Each takes JSON (``{"uri": ..., <overrides>}``), a multipart upload (a ``file`` part and an
optional ``options`` part holding the same JSON without ``uri``) or a raw image body
(``Content-Type: image/*``, overrides in the query string is not supported: use JSON). The
overrides are the fields of :class:`ocrprep.config.ProcessOptions` — the request models below are
derived from it, never written again.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ocrprep.config import ProcessOptions, Settings
from ocrprep.errors import MalformedRequest, OcrprepError, PoorQualityImage
from ocrprep.server.deps import AppState, app_state, blocking, compute, needs

__all__ = ["AssessRequest", "DetectLabelsRequest", "DetectRegionsRequest", "ProcessRequest", "router"]

router = APIRouter(tags=["images"], dependencies=[Depends(needs("read"))])

_URI = (
    str | None,
    Field(None, description="Image URI: a path under the storage roots, file://, s3:// or mem://. "
          "Leave out when uploading."),
)


def _overrides_of(*names: str) -> dict[str, Any]:
    """``ProcessOptions`` fields as optional request fields (None = use the configured value)."""
    fields = ProcessOptions.model_fields
    chosen = names or tuple(fields)
    return {
        name: (fields[name].annotation | None, Field(None, description=fields[name].description))
        for name in chosen
    }


_CONFIG = ConfigDict(extra="forbid")
#: ``POST /v1/process``: a URI plus any ``ProcessOptions`` field as an override.
ProcessRequest: type[BaseModel] = create_model(
    "ProcessRequest", __config__=_CONFIG, uri=_URI, **_overrides_of()
)
#: ``POST /v1/assess``: a URI and the page to read.
AssessRequest: type[BaseModel] = create_model(
    "AssessRequest", __config__=_CONFIG, uri=_URI, **_overrides_of("page")
)
#: ``POST /v1/detect-labels``: a URI, the model and the minimum confidence.
DetectLabelsRequest: type[BaseModel] = create_model(
    "DetectLabelsRequest", __config__=_CONFIG, uri=_URI,
    **_overrides_of("page", "model", "min_confidence"),
)

#: ``POST /v1/detect-regions``: a URI, the region detector and the minimum confidence.
DetectRegionsRequest: type[BaseModel] = create_model(
    "DetectRegionsRequest", __config__=_CONFIG, uri=_URI,
    **_overrides_of("page", "regions_model", "min_confidence"),
)


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    upload = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "options": {"type": "string", "description": "JSON object of overrides (no uri)."},
        },
        "required": ["file"],
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": model.model_json_schema()},
                "multipart/form-data": {"schema": upload},
                "image/*": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }


async def _parse(request: Request, model: type[BaseModel]) -> tuple[BaseModel, bytes | None, str]:
    """The request's options, and the uploaded bytes and filename when it is an upload."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    data: bytes | None = None
    filename = ""
    raw: Any
    if kind == "multipart/form-data":
        async with request.form(max_files=1, max_fields=20) as form:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise MalformedRequest("a multipart request needs a 'file' part with the image")
            data = await upload.read()
            filename = upload.filename or "upload"
            options = form.get("options")
            try:
                raw = json.loads(options) if isinstance(options, str) and options.strip() else {}
            except ValueError as exc:
                raise MalformedRequest(f"the 'options' part is not JSON: {exc}") from exc
    elif kind.startswith("image/") or kind == "application/octet-stream":
        data = await request.body()
        filename = "upload"
        raw = {}
    else:
        body = await request.body()
        try:
            raw = json.loads(body or b"null")
        except ValueError as exc:
            raise MalformedRequest(f"the request body is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise MalformedRequest("the request body must be a JSON object such as {\"uri\": \"...\"}")
    if data is not None and raw.get("uri"):
        raise MalformedRequest("send either an upload or a uri, not both")
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MalformedRequest(f"invalid request: {where}: {first['msg']}") from exc
    if data is None and not getattr(parsed, "uri", None):
        raise MalformedRequest("send {\"uri\": ...} as JSON, or upload the image")
    if data is not None and not data:
        raise MalformedRequest("the uploaded image is empty")
    return parsed, data, filename


def _overrides(parsed: BaseModel) -> dict[str, Any]:
    return {k: v for k, v in parsed.model_dump(exclude={"uri"}).items() if v is not None}


def _record(
    state: AppState, request: Request, endpoint: str, *, source: str, input_uri: str | None,
    started: float, result: dict[str, Any] | None = None, error: OcrprepError | None = None,
) -> None:
    report = (result or {}).get("report") if result else None
    if isinstance(error, PoorQualityImage) and error.report is not None:
        report = error.report.to_dict()
    top = (result or {}).get("TopLabel") if result else None
    label = error.label if isinstance(error, PoorQualityImage) else None
    if error is not None and not isinstance(error, PoorQualityImage) and report is None:
        state.metrics.observe_image(endpoint, None, error=type(error).__name__)
    else:
        state.metrics.observe_image(
            endpoint, report, error=type(error).__name__ if error else "", label=label
        )
    changed = bool(result and result.get("changed"))
    output = (result or {}).get("uri") if changed else None
    state.results.append(
        {
            "id": request.state.request_id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "endpoint": endpoint,
            "source": source,
            "input_uri": input_uri,
            "output_uri": output,
            "changed": changed,
            "acceptable": bool(report and report.get("acceptable")) and error is None,
            "score": (report or {}).get("score"),
            "reasons": list((report or {}).get("reasons") or [])[:4],
            "top_label": top or ({"Name": label, "Confidence": error.confidence}
                                 if isinstance(error, PoorQualityImage) and label else None),
            "steps": [s.get("name") for s in (result or {}).get("steps", []) if s.get("changed")],
            "error": type(error).__name__ if error else None,
            "message": error.message if error else None,
            "seconds": round(time.perf_counter() - started, 4),
        }
    )


@router.post("/v1/process", summary="Validate (and enhance, extract) an image; return the URI "
             "OCR should read", openapi_extra=_body_doc(ProcessRequest))
async def process(request: Request) -> JSONResponse:
    """Runs the configured steps. A poor image answers 422 with the quality report."""
    state = app_state(request)
    started = time.perf_counter()
    parsed, data, filename = await _parse(request, ProcessRequest)
    uri: str = getattr(parsed, "uri", None) or ""
    settings = state.settings
    if data is not None:
        uri = await blocking(request, state.spool.put, data, filename)
        settings = state.spool.settings_for(settings)
    source = uri if data is None else f"upload:{filename}"
    try:
        result = await compute(request, state.services.process, uri, settings, _overrides(parsed))
    except OcrprepError as exc:
        _record(state, request, "process", source=source, input_uri=uri, started=started,
                error=exc)
        raise
    _record(state, request, "process", source=source, input_uri=uri, started=started,
            result=result)
    return JSONResponse(result)  # already JSON-ready: skip FastAPI's re-encoding


@router.post("/v1/assess", summary="Is the image good enough for OCR, and why not?",
             openapi_extra=_body_doc(AssessRequest))
async def assess(request: Request) -> JSONResponse:
    """The quality report: acceptable, score, defects and reasons. Never 422: a poor image is an
    answer here, not an error."""
    state = app_state(request)
    started = time.perf_counter()
    parsed, data, filename = await _parse(request, AssessRequest)
    settings = state.settings
    overrides = _overrides(parsed)
    if overrides:
        settings = settings.with_overrides(**{f"process.{k}": v for k, v in overrides.items()})
    source: bytes | str = data if data is not None else str(getattr(parsed, "uri", ""))
    name = f"upload:{filename}" if data is not None else str(source)
    try:
        report = await compute(request, state.services.assess, source, settings)
    except OcrprepError as exc:
        _record(state, request, "assess", source=name,
                input_uri=None if data is not None else name, started=started, error=exc)
        raise
    _record(state, request, "assess", source=name, input_uri=None if data is not None else name,
            started=started, result={"report": report})
    return JSONResponse({"uri": None if data is not None else source, **report})


async def _detection_input(
    request: Request, model: type[BaseModel]
) -> tuple[AppState, BaseModel, Settings, bytes | str]:
    """The state, parsed options, settings (with the page asked for) and image of a detect call."""
    state = app_state(request)
    parsed, data, _ = await _parse(request, model)
    settings = state.settings
    page = getattr(parsed, "page", None)
    if page is not None:
        settings = settings.with_overrides(**{"process.page": page})
    source: bytes | str = data if data is not None else str(getattr(parsed, "uri", ""))
    return state, parsed, settings, source


@router.post("/v1/detect-labels", summary="A trained model's labels for an image",
             openapi_extra=_body_doc(DetectLabelsRequest))
async def detect_labels(request: Request) -> JSONResponse:
    """Labels sorted by confidence (0-100); without ``min_confidence`` each label's assumed
    threshold applies."""
    state, parsed, settings, source = await _detection_input(request, DetectLabelsRequest)
    model = getattr(parsed, "model", None) or settings.process.model
    return JSONResponse(await compute(request, state.services.detect_labels, source, settings,
                                      model, getattr(parsed, "min_confidence", None)))


@router.post("/v1/detect-regions", summary="A trained region detector's boxes for an image",
             openapi_extra=_body_doc(DetectRegionsRequest))
async def detect_regions(request: Request) -> JSONResponse:
    """``CustomLabels`` (``Name``, ``Confidence`` 0-100, ``Geometry.BoundingBox`` as ratios of the
    image), best first; without ``min_confidence`` each class's assumed threshold applies. The
    detector is ``regions_model`` (a registry ``project[:version]``, started if needed) or the
    configured ``process.regions_model``."""
    state, parsed, settings, source = await _detection_input(request, DetectRegionsRequest)
    model = getattr(parsed, "regions_model", None) or settings.process.regions_model
    if not model:
        raise MalformedRequest("name the region detector: {\"regions_model\": \"project[:version]\"}")
    return JSONResponse(await compute(request, state.services.detect_regions, source, settings,
                                      model, getattr(parsed, "min_confidence", None)))
