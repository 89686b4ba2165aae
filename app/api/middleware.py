"""Request id, JSON access log, audit trail and request metrics: counts and timings only, never text.

A plain ASGI middleware (not BaseHTTPMiddleware), so request bodies stream through untouched and
client disconnects reach the endpoint.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.audit import audit_fields, write_audit
from app.clients import ClientRegistry
from app.keys import ANONYMOUS, UNKNOWN
from app.metrics import Metrics

access_log = logging.getLogger("clinx.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def route_name(scope: Scope) -> str:
    """The matched route's template (bounded cardinality), never the raw path."""
    return str(getattr(scope.get("route"), "path", "unmatched"))


class RequestObserver:
    def __init__(self, app: ASGIApp, metrics: Metrics, clients: ClientRegistry | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.clients = clients

    def client_of(self, state: dict[str, object]) -> str:
        """The authenticated client; else ``anonymous`` (no keys configured) or ``unknown`` (no valid key,
        or a route without authentication): names from configuration only, so metric labels stay bounded."""
        client = state.get("client")
        if isinstance(client, str):
            return client
        return UNKNOWN if self.clients is None or self.clients.keys.required else ANONYMOUS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_name(scope)
            client = self.client_of(state)
            self.metrics.requests.labels(route, str(status), client).inc()
            self.metrics.request_duration.labels(route, client).observe(seconds)
            if status >= 400:
                self.metrics.errors.labels(state.get("error_type", str(status)), client).inc()
            if state.get("audit"):
                write_audit(audit_fields(state, request_id, client, route, status, seconds))
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "route": route,
                    "client": client,
                    "status": status,
                    "latency_ms": round(seconds * 1000, 2),
                    "documents": state.get("documents"),
                    "characters": state.get("characters"),
                },
            )
