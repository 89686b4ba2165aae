"""The application factory: ``create_app(settings)`` wires state, routers and middleware."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic.json_schema import models_json_schema

from app import __version__
from app.api import deidentify, extract, ops
from app.api.deid_schemas import DeidentifyRequest
from app.api.errors import install_error_handlers
from app.api.middleware import RequestObserver
from app.api.schemas import ExtractRequest
from app.metrics import Metrics
from app.settings import Settings
from app.state import ServerState

DESCRIPTION = """Clinical concept extraction with CLIN-X taggers (XLM-RoBERTa-large further pre-trained on
clinical text). `POST /extract` returns concept spans with exact character offsets; see docs/api.md."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    metrics = Metrics()
    state = ServerState(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(state.load(), name="clinx-load")
        app.state.loading = loading
        try:
            yield
        finally:
            loading.cancel()
            await state.close()

    app = FastAPI(title="clinx-serve", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.clinx = state
    app.state.api_keys = settings.keys()
    install_error_handlers(app)
    app.include_router(extract.router, tags=["extraction"])
    deidentify.install(app, settings)
    app.include_router(ops.health)
    app.include_router(ops.router, tags=["operations"])
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"])
    app.add_middleware(RequestObserver, metrics=metrics)
    _document_request_body(app, state)
    return app


def _document_request_body(app: FastAPI, state: ServerState) -> None:
    """/extract parses its body itself (for precise 4xx errors); publish the schema in OpenAPI.

    Once the bundles are loaded, ``labels`` lists the labels they produce, so the schema tells
    clients exactly which values are valid.
    """
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        app.openapi_schema = None
        schema = original()
        app.openapi_schema = None
        _, definitions = models_json_schema(
            [(ExtractRequest, "validation"), (DeidentifyRequest, "validation")],
            ref_template="#/components/schemas/{model}",
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(definitions.get("$defs", {}))
        labels = sorted({label for p in state.pipelines.values() for label in p.manifest.entity_types})
        if state.loaded and labels:
            components["ExtractRequest"]["properties"]["labels"] = {
                "anyOf": [{"type": "array", "items": {"enum": labels, "type": "string"}}, {"type": "null"}],
                "description": "Return only these entity labels.",
            }
            components["ExtractRequest"]["properties"]["model"] = {
                "anyOf": [{"enum": sorted(state.pipelines), "type": "string"}, {"type": "null"}],
                "description": "Bundle name, when the server serves several.",
            }
            deidentify.constrain_schema(components, state)
            app.openapi_schema = schema  # complete: cache it
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
