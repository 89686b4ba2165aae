"""Reading a JSON request body strictly: every defect is a precise 4xx, never a 500."""

from __future__ import annotations

import asyncio
import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect

from app.api.errors import ApiError, validation_detail

Model = TypeVar("Model", bound=BaseModel)
MAX_NESTING = 32


async def read_json(request: Request, max_bytes: int, timeout_s: float) -> Any:
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    is_json = media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
    if not is_json:
        raise ApiError(415, "unsupported_media_type", "send the body as application/json",
                       {"content_type": media_type[:100]})
    chunks: list[bytes] = []
    size = 0
    try:
        # A client that trickles or stalls its body would hold a connection and its memory for ever.
        async with asyncio.timeout(timeout_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise ApiError(413, "payload_too_large", f"the body exceeds {max_bytes} bytes",
                                   {"limit_bytes": max_bytes})
                chunks.append(chunk)
    except TimeoutError:
        raise ApiError(408, "body_timeout", f"the body did not arrive within {timeout_s:g} s",
                       {"received_bytes": size, "limit_s": timeout_s}) from None
    except ClientDisconnect:
        # The client went away mid-body (a dropped connection, a slowloris giving up): nothing to
        # answer and nothing to log as a server fault. 499 is recorded in metrics and the access log.
        raise ApiError(499, "client_closed", "the client closed the connection before the body was complete",
                       {"received_bytes": size}) from None
    raw = b"".join(chunks)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "invalid_utf8", "the body is not valid UTF-8", {"byte_offset": error.start}) from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {error.msg}",
                       {"line": error.lineno, "column": error.colno}) from None
    except RecursionError:
        raise ApiError(400, "invalid_json", f"the body nests deeper than {MAX_NESTING} levels") from None
    except ValueError:
        # json raises a plain ValueError (not JSONDecodeError) for an integer literal longer than
        # sys.get_int_max_str_digits() (4300 digits): still the client's JSON, so a 400, never a 500.
        raise ApiError(400, "invalid_json", "the body is not valid JSON: a number literal is too long") from None
    _check_structure(body, [], 0)
    return body


def _check_structure(value: Any, path: list[str | int], depth: int) -> None:
    """Refuse deep nesting and lone surrogates (valid JSON escapes, but not text)."""
    if depth > MAX_NESTING:
        raise ApiError(400, "invalid_json", f"the body nests deeper than {MAX_NESTING} levels")
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ApiError(400, "invalid_text", "a string holds a lone UTF-16 surrogate (not a character)",
                           {"loc": path, "position": error.start}) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_structure(key, path, depth + 1)
            _check_structure(item, [*path, key], depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_structure(item, [*path, index], depth + 1)


def parse(model: type[Model], body: Any) -> Model:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise ApiError(422, "validation_error", "the request does not match the schema",
                       validation_detail(error.errors())) from None
