"""The application factory: ``create_app(settings)`` wires state, routers and middleware."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.api import assertion, deidentify, extract, ops
from app.api.deid_schemas import DeidentifyRequest
from app.api.errors import install_error_handlers
from app.api.middleware import RequestObserver
from app.api.openapi import ClinxAPI
from app.api.schemas import AssertionRequest, ExtractRequest
from app.clients import ClientRegistry
from app.metrics import Metrics
from app.settings import Settings
from app.state import ServerState
from app.ui import install as install_ui

DESCRIPTION = """Clinical concept extraction with CLIN-X taggers (XLM-RoBERTa-large further pre-trained on
clinical text). `POST /extract` returns concept spans with exact character offsets and, for problems, their
assertion status; `POST /assertion` asserts spans found by other tools; see docs/api.md."""


def refine_schema(components: dict[str, Any], state: ServerState) -> None:
    """Narrow the loaded schema to what is served: /deidentify's models and keys, assertion's sources."""
    deidentify.constrain_schema(components, state)
    assertion.constrain_schema(components, state)


def create_app(settings: Settings | None = None, state: ServerState | None = None) -> FastAPI:
    """The app around ``state`` (a new one by default; the server passes its own, with a failure callback)."""
    settings = settings or Settings()
    state = state or ServerState(settings, Metrics())
    clients = ClientRegistry(settings.api_keys, settings.api_keys_file, settings.keys_reload_s)  # KeysFileError

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loading = asyncio.create_task(state.load(), name="clinx-load")
        app.state.loading = loading
        try:
            async with clients.reloading():
                yield
        finally:
            loading.cancel()
            await state.close()

    def served() -> tuple[list[str], list[str]] | None:
        if not state.loaded:
            return None
        labels = {label for model in state.models.values() for label in model.manifest.entity_types}
        return sorted(labels), sorted(state.models)

    # docs_url/redoc_url None: app.ui serves both from local files (closed networks).
    app = ClinxAPI(title="clinx-serve", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                   bodies=[ExtractRequest, AssertionRequest, DeidentifyRequest], served=served,
                   docs_url=None, redoc_url=None,
                   refine=lambda schema: refine_schema(schema["components"]["schemas"], state))
    app.state.clinx = state
    app.state.clients = clients
    install_error_handlers(app)
    app.include_router(extract.router, tags=["extraction"])
    app.include_router(assertion.router, tags=["extraction"])
    deidentify.install(app, settings)
    app.include_router(ops.health)
    app.include_router(ops.router, tags=["operations"])
    install_ui(app, page=settings.ui)
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"])
    app.add_middleware(RequestObserver, metrics=state.metrics, clients=clients)
    return app
