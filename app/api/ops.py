"""Operations endpoints: probes, metrics, and what is being served."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import get_state, require_key, require_key_for_health, require_key_for_metrics
from app.state import ServerState

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
async def ready(state: ServerState = Depends(get_state)) -> JSONResponse:
    if state.ready:
        return JSONResponse({"status": "ready", "models": sorted(state.pipelines)})
    reason = "draining" if state.draining else ("failed" if state.failure else "loading")
    return JSONResponse({"status": reason}, status_code=503)


@router.get(
    "/metrics",
    dependencies=[Depends(require_key_for_metrics)],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Exposition format"}},
)
async def metrics(state: ServerState = Depends(get_state)) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/info", dependencies=[Depends(require_key)], summary="Served bundles, devices and limits")
async def info(request: Request, state: ServerState = Depends(get_state)) -> dict[str, Any]:
    settings = state.settings
    models = []
    for pipeline in state.pipelines.values():
        manifest, runtime = pipeline.manifest, pipeline.runtime
        models.append(
            {
                "name": manifest.name,
                "version": manifest.version,
                "sha256": pipeline.identity.sha256,
                "task": manifest.task,
                "base_model": manifest.base_model,
                "labels": manifest.entity_types,
                "demo": manifest.demo,
                "notice": DEMO_NOTICE if manifest.demo else manifest.description,
                "variant": runtime.variant,
                "execution_provider": runtime.provider,
                "device_fallback": runtime.choice.fallback_reason,
                "ensemble_members": len(manifest.members),
                "max_length": manifest.max_length,
                "chunk_subwords": manifest.chunk_subwords,
                "context_subwords": manifest.context_subwords,
                "pack_sentences": manifest.pack_sentences,
                "max_batch_tokens": pipeline.batcher.max_batch_tokens,
                "evaluation": manifest.evaluation,
            }
        )
    return {
        "ready": state.ready,
        "default_model": state.default_model,
        "models": models,
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
