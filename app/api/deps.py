"""Dependencies the routes share: server state, authentication, readiness.

All ``async def``: they never block, and FastAPI runs a plain ``def`` dependency in its thread pool,
a thread hand-off on every request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.api.errors import ApiError
from app.clients import ClientKeys
from app.engine.batcher import current_client
from app.keys import ANONYMOUS, UNKNOWN
from app.state import ServerState


async def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.clinx
    return state


State = Annotated[ServerState, Depends(get_state)]


def check_api_key(request: Request, keys: ClientKeys) -> str:
    """The request's client: ``Authorization: Bearer KEY`` or ``X-API-Key: KEY`` against the keys in force
    (their hashes, in constant time); ``anonymous`` when no keys are configured. 401 without a key, 403
    with one that is not valid. The name goes to the request's logs and metrics, and to the queue's
    fair share (the request's task carries it)."""
    name = ANONYMOUS
    if keys.required:
        request.state.client = UNKNOWN
        offered = request.headers.get("x-api-key")
        authorization = request.headers.get("authorization", "")
        if offered is None and authorization[:7].lower() == "bearer ":
            offered = authorization[7:].strip()
        if not offered:
            raise ApiError(401, "unauthorized", "an API key is required (Authorization: Bearer or X-API-Key)",
                           headers={"WWW-Authenticate": "Bearer"})
        found = keys.identify(offered)
        if found is None:
            raise ApiError(403, "forbidden", "the API key is not valid")
        name = found
    request.state.client = name
    current_client.set(name)
    return name


async def require_key(request: Request) -> None:
    check_api_key(request, request.app.state.clients.keys)


async def audited(request: Request) -> None:
    """For every route that reads notes: the request goes to the audit trail (``clinx.audit``, one line
    whatever its outcome, 401 and 403 included), and needs a key like ``require_key``."""
    request.state.audit = True
    check_api_key(request, request.app.state.clients.keys)


async def require_key_for_health(request: Request) -> None:
    if request.app.state.clinx.settings.protect_health:
        check_api_key(request, request.app.state.clients.keys)


async def require_key_for_metrics(request: Request) -> None:
    if request.app.state.clinx.settings.protect_metrics:
        check_api_key(request, request.app.state.clients.keys)
