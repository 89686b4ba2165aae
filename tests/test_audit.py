"""The audit trail's plumbing: which routes are audited, its own level and its own file."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from fastapi.routing import APIRoute

from app.api.deps import audited
from app.audit import audit_fields, write_audit
from app.logging import configure_audit
from app.main import create_app
from app.settings import Settings


def api_routes(routes: Iterable[Any]) -> Iterator[APIRoute]:
    """The app's routes, through included routers (FastAPI keeps those as wrappers of the original router)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)


def test_every_route_that_takes_notes_is_audited() -> None:
    """Any POST route (today /extract; /assertion and /deidentify as they land) declares the audited
    dependency, so its every request is in the trail."""
    app = create_app(Settings(bundle="models/none"))
    posts = [route for route in api_routes(app.routes) if "POST" in route.methods]
    assert "/extract" in {route.path for route in posts}
    for route in posts:
        assert audited in [dependency.call for dependency in route.dependant.dependencies], route.path


def test_audit_has_its_own_level_and_file(tmp_path: Path) -> None:
    audit_file = tmp_path / "audit.jsonl"
    fields = audit_fields({"documents": 2, "characters": 40, "entities": 3, "error_type": "ignored on 200"},
                          "req-1", "ehr", "/extract", 200, 0.0123)
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        root.setLevel(logging.ERROR)  # the server's log level does not silence the audit trail
        configure_audit("info", audit_file)
        write_audit(fields)
        configure_audit("off", audit_file)
        write_audit(fields)
    finally:
        configure_audit("info", None)
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    lines = [json.loads(line) for line in audit_file.read_text().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["logger"] == "clinx.audit" and line["message"] == "request" and line["time"].endswith("Z")
    assert {key: line[key] for key in ("request_id", "client", "route", "status", "error", "documents",
                                       "characters", "entities", "latency_ms")} == {
        "request_id": "req-1", "client": "ehr", "route": "/extract", "status": 200, "error": None,
        "documents": 2, "characters": 40, "entities": 3, "latency_ms": 12.3}
