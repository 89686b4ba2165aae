"""The published OpenAPI schema: the request bodies routes parse themselves, and the served labels.

``/extract`` parses its body itself (for precise 4xx errors), so FastAPI cannot see its schema; and
only once the bundles are loaded are the valid ``labels`` and ``model`` values known. Pure
functions over the schema dict, used by :class:`ClinxAPI`'s ``openapi()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema


def add_request_bodies(schema: dict[str, Any], bodies: Sequence[type[BaseModel]]) -> dict[str, Any]:
    """Put the JSON schemas of ``bodies`` (and what they reference) under ``components.schemas``."""
    _, definitions = models_json_schema([(body, "validation") for body in bodies],
                                        ref_template="#/components/schemas/{model}")
    schema.setdefault("components", {}).setdefault("schemas", {}).update(definitions.get("$defs", {}))
    return schema


def restrict_choices(schema: dict[str, Any], body: str, labels: Sequence[str], models: Sequence[str]
                     ) -> dict[str, Any]:
    """Narrow ``labels`` and ``model`` of request ``body`` to the served values."""
    properties = schema["components"]["schemas"][body]["properties"]
    properties["labels"] = {
        "anyOf": [{"type": "array", "items": {"enum": sorted(labels), "type": "string"}}, {"type": "null"}],
        "description": "Return only these entity labels.",
    }
    properties["model"] = {
        "anyOf": [{"enum": sorted(models), "type": "string"}, {"type": "null"}],
        "description": "Bundle name, when the server serves several.",
    }
    return schema


class ClinxAPI(FastAPI):
    """FastAPI whose schema includes self-parsed bodies and, once loaded, the served labels and models.

    ``served()`` returns (labels, models), or None while loading; the schema is cached only when
    complete, so a client that fetches it during start-up gets a fresh one later.
    """

    def __init__(self, *, bodies: Sequence[type[BaseModel]],
                 served: Callable[[], tuple[list[str], list[str]] | None],
                 refine: Callable[[dict[str, Any]], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bodies = list(bodies)
        self._served = served
        self._refine = refine  # narrows other choices once loaded (/deidentify's models and operator keys)

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is not None:
            return self.openapi_schema
        schema = add_request_bodies(super().openapi(), self._bodies)
        self.openapi_schema = None  # super() cached the incomplete one
        served = self._served()
        if served is not None:
            labels, models = served
            for body in self._bodies:
                if "labels" in schema["components"]["schemas"][body.__name__].get("properties", {}):
                    restrict_choices(schema, body.__name__, labels, models)
            if self._refine is not None:
                self._refine(schema)
            self.openapi_schema = schema
        return schema
