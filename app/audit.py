"""The audit trail: one JSON line per request to a route that reads notes (logger ``clinx.audit``).

Who (client name), when, which route and model, with what outcome (status, error type), how much
(documents, characters, entities returned) and how long. Never note text, never a document id (an
id can be a record number), never a key or a header. Routes opt in by declaring the ``audited``
dependency (app.api.deps); the request observer writes the line once the response has gone, so
every outcome is in it, 401 to 504 and a client that hung up (499).
"""

from __future__ import annotations

import logging
from typing import Any

audit_log = logging.getLogger("clinx.audit")


def audit_fields(request_state: dict[str, Any], request_id: str, client: str, route: str, status: int,
                 seconds: float) -> dict[str, Any]:
    """The audit line's fields, from what the route noted in ``request.state`` (counts and names only)."""
    model = request_state.get("model")
    return {
        "request_id": request_id,
        "client": client,
        "route": route,
        "status": status,
        "error": request_state.get("error_type") if status >= 400 else None,
        "model": getattr(model, "name", None),
        "model_version": getattr(model, "version", None),
        "documents": request_state.get("documents"),
        "characters": request_state.get("characters"),
        "entities": request_state.get("entities"),
        "latency_ms": round(seconds * 1000, 2),
    }


def write_audit(fields: dict[str, Any]) -> None:
    audit_log.info("request", extra=fields)
