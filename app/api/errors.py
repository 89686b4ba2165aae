"""One error shape for every failure: ``{"error": {"type", "message", "detail"?}}``.

Messages name the offending document by index and id, and the field or limit at fault; they never
quote request text, so a note cannot leak through an error body or a log line.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("clinx.api")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        type_: str,
        message: str,
        detail: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message
        self.detail = detail
        self.headers = headers


def error_response(
    status: int, type_: str, message: str, detail: Any = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "message": message}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def validation_detail(errors: Any) -> list[dict[str, Any]]:
    """Pydantic errors without their ``input``/``ctx`` (those may hold note text), said as the client sent it.

    An optional field (``documents``, ``text``) is a union with None to pydantic: a wrong value fails
    both branches, which reads as "Input should be None" beside the real error, with the branch's type
    name (``list[DocumentIn]``) inside the location. Only the branch the client meant is kept, at the
    location the client wrote.
    """
    found = [([part for part in error.get("loc", ()) if part != "body"], error) for error in errors]
    optional = {tuple(loc[:-1]) for loc, error in found
                if error.get("type") == "none_required" and loc[-1:] == ["none"]}
    detail = []
    for loc, error in found:
        prefix = next((p for p in optional if tuple(loc[: len(p)]) == p and len(loc) > len(p)), None)
        if prefix is not None:
            if loc[len(prefix)] == "none" and any(
                    tuple(other[: len(prefix)]) == prefix and other[len(prefix):][:1] != ["none"]
                    for other, _ in found):
                continue  # the None branch: a value was sent, so None is never what the client meant
            loc = [*loc[: len(prefix)], *loc[len(prefix) + 1 :]]
        detail.append({"loc": loc, "msg": _message(error), "type": error.get("type", "")})
    return detail


def _message(error: Any) -> str:
    """The error's message, unless it quotes what was sent (``Input tag 'x' ...``): then its type alone."""
    message = str(error.get("msg", "")).removeprefix("Value error, ")  # our validators' words, as written
    value, context = error.get("input"), error.get("ctx") or {}
    sent = [value, *(value.values() if isinstance(value, dict) else ()), *context.values()]
    if any(isinstance(part, str) and part and f"'{part}'" in message for part in sent):
        return f"invalid value ({error.get('type', 'error')})"
    return message


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        request.state.error_type = error.type
        return error_response(error.status, error.type, error.message, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> JSONResponse:
        request.state.error_type = "validation_error"
        return error_response(422, "validation_error", "the request does not match the schema",
                              validation_detail(error.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        kinds = {404: "not_found", 405: "method_not_allowed"}
        request.state.error_type = kinds.get(error.status_code, "http_error")
        message = error.detail if isinstance(error.detail, str) else "request refused"
        return error_response(error.status_code, kinds.get(error.status_code, "http_error"), message,
                              headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        request.state.error_type = "internal_error"
        # The exception text may quote inputs: log only its type.
        log.error("internal error: %s", type(error).__name__)
        return error_response(500, "internal_error", "the server failed to process the request")
