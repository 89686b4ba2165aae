"""Operations endpoints: probes, metrics, and what is being served."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import State, require_key, require_key_for_health, require_key_for_metrics

router = APIRouter()
health = APIRouter(dependencies=[Depends(require_key_for_health)], tags=["health"])

DEMO_NOTICE = (
    "DEMO MODEL: trained on a synthetic corpus to show the service working; not for clinical use. "
    "Serve a real CLIN-X bundle by pointing CLINX_BUNDLE at it (see README)."
)


@health.get("/health/live", summary="Liveness: the process answers")
@health.get("/v2/health/live", include_in_schema=False)
async def live() -> dict[str, str]:
    return {"status": "alive"}


@health.get(
    "/health/ready",
    summary="Readiness: bundle verified, warmed up, batcher running, not draining",
    responses={503: {"description": "Not ready"}},
)
@health.get("/v2/health/ready", include_in_schema=False)
async def ready(state: State) -> JSONResponse:
    if state.ready:
        return JSONResponse({"status": "ready", "models": sorted(state.models)})
    reason = "draining" if state.draining else ("failed" if state.failure else "loading")
    return JSONResponse({"status": reason}, status_code=503)


@router.get(
    "/metrics",
    dependencies=[Depends(require_key_for_metrics)],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Exposition format"}},
)
async def metrics(state: State) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/info", dependencies=[Depends(require_key)], summary="Served bundles, devices and limits")
async def info(request: Request, state: State) -> dict[str, Any]:
    settings = state.settings
    models = []
    for extractor in state.models.values():
        description = extractor.describe()
        description["notice"] = DEMO_NOTICE if extractor.manifest.demo else extractor.manifest.description
        description["task_type"] = extractor.manifest.task_type
        if extractor.manifest.phi_categories:
            description["phi_categories"] = extractor.manifest.phi_categories
        models.append(description)
    return {
        "ready": state.ready,
        "default_model": state.default_model,
        "models": models,
        "deidentify": request.app.state.deid.describe(),
        "limits": {
            "max_documents": settings.max_documents,
            "max_document_chars": settings.max_document_chars,
            "max_body_bytes": settings.max_body_bytes,
            "request_timeout_s": settings.request_timeout_s,
            "max_request_timeout_s": settings.max_request_timeout_s,
            "max_queue_delay_ms": settings.max_queue_delay_ms,
            "max_queue_tokens": settings.max_queue_tokens,
        },
    }
