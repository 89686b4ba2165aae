"""Dependencies the routes share: server state, authentication, readiness.

All ``async def``: they never block, and FastAPI runs a plain ``def`` dependency in its thread pool,
a thread hand-off on every request.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from app.api.errors import ApiError
from app.state import ServerState


async def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.clinx
    return state


State = Annotated[ServerState, Depends(get_state)]


def check_api_key(request: Request, keys: list[str]) -> None:
    """``Authorization: Bearer KEY`` or ``X-API-Key: KEY``; constant-time comparison."""
    if not keys:
        return
    offered = request.headers.get("x-api-key")
    authorization = request.headers.get("authorization", "")
    if offered is None and authorization[:7].lower() == "bearer ":
        offered = authorization[7:].strip()
    if not offered:
        raise ApiError(401, "unauthorized", "an API key is required (Authorization: Bearer or X-API-Key)",
                       headers={"WWW-Authenticate": "Bearer"})
    candidate = offered.encode("utf-8", "surrogateescape")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(candidate, key.encode("utf-8"))
    if not matched:
        raise ApiError(403, "forbidden", "the API key is not valid")


async def require_key(request: Request) -> None:
    check_api_key(request, request.app.state.api_keys)


async def require_key_for_health(request: Request) -> None:
    if request.app.state.clinx.settings.protect_health:
        check_api_key(request, request.app.state.api_keys)


async def require_key_for_metrics(request: Request) -> None:
    if request.app.state.clinx.settings.protect_metrics:
        check_api_key(request, request.app.state.api_keys)
