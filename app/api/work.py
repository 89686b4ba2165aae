"""What every route that runs a model shares: readiness, limits, model choice, the run itself
(deadline, queue admission, client disconnects), timing headers and metrics.

``/extract`` and ``/deidentify`` both go through here, so they answer the same limits, errors and
deadlines in the same way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request, Response

from app.api.errors import ApiError
from app.api.schemas import DocumentIn, ErrorResponse, ModelOut
from app.engine.batcher import DeadlineExceeded, QueueFull
from app.engine.extractor import Extractor
from app.engine.pipeline import ExtractResult
from app.engine.stages import discard_outcome
from app.state import ServerState

Result = TypeVar("Result")
DISCONNECT_POLL_S = 0.1  # only where the ASGI server's receive returns at once
ERROR_STATUSES: dict[int, str] = {
    400: "Invalid JSON, invalid UTF-8 or a lone surrogate.",
    401: "API key missing.",
    403: "API key not valid.",
    408: "The whole body did not arrive within the configured time.",
    413: "Body, document count or a document's length over the configured limit.",
    415: "Content type is not application/json.",
    404: "The requested model is not served.",
    422: "The body does not match the schema (unknown field, wrong type, unknown label, bad span, "
         "unavailable assertion source).",
    429: "This client's share of the queue is full, or the queued work would not let the request finish within "
         "its deadline; retry after the Retry-After seconds.",
    503: "Not ready (loading, warming up) or draining.",
    504: "The request's deadline passed.",
}


def error_responses(**overrides: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a model route; ``overrides`` (``_422="..."``) reword a status."""
    described = {**ERROR_STATUSES, **{int(key.lstrip("_")): text for key, text in overrides.items()}}
    return {status: {"model": ErrorResponse, "description": text} for status, text in described.items()}


def request_body(schema: str) -> dict[str, Any]:
    """The route parses its body itself (for precise 4xx errors); OpenAPI still shows the schema."""
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}}


def ensure_ready(state: ServerState) -> None:
    if not state.ready:
        raise ApiError(503, "not_ready", "the server is draining" if state.draining else "the model is not loaded yet",
                       headers={"Retry-After": "5"})


def check_limits(documents: list[DocumentIn], max_documents: int, max_chars: int) -> None:
    if len(documents) > max_documents:
        raise ApiError(413, "too_many_documents", f"{len(documents)} documents; the limit is {max_documents}",
                       {"documents": len(documents), "limit": max_documents})
    for index, document in enumerate(documents):
        if len(document.text) > max_chars:
            raise ApiError(
                413,
                "document_too_large",
                f"document {index} has {len(document.text)} characters; the limit is {max_chars}",
                {"index": index, "characters": len(document.text), "limit": max_chars},
            )


def pick_model(state: ServerState, name: str | None, request: Request | None = None) -> Extractor:
    chosen = state.default_model if name is None else name
    if chosen not in state.models:  # the requested name is not echoed: errors quote nothing the client sent
        raise ApiError(404, "unknown_model", "the requested model is not served; see detail.models",
                       {"models": sorted(state.models)})
    if request is not None:
        request.state.model = state.models[chosen].identity  # for the audit line
    return state.models[chosen]


async def run_model(request: Request, state: ServerState, model: Extractor, texts: list[str],
                    timeout_s: float | None, options: Mapping[str, Any] | None = None) -> ExtractResult:
    """The pipeline on the texts within the request's deadline; 429, 504 or 499 as ``ApiError``.

    ``options``: the request's value per entity stage (``{"assertion": False}`` skips assertion).
    """
    return await run_work(request, state, texts, timeout_s,
                          lambda deadline: model.extract_async(texts, deadline=deadline, options=options))


async def run_work(request: Request, state: ServerState, texts: list[str], timeout_s: float | None,
                   work: Callable[[float], Awaitable[Result]]) -> Result:
    """``work(deadline)`` while the request counts as in flight; 429/504/499 as the API promises."""
    settings = state.settings
    timeout = min(timeout_s or settings.request_timeout_s, settings.max_request_timeout_s)
    request.state.documents = len(texts)
    request.state.characters = sum(len(text) for text in texts)
    state.request_started()
    try:
        return await _until_disconnect(request, work(time.monotonic() + timeout))
    except QueueFull as error:
        raise ApiError(429, "queue_full", error.message, error.detail,
                       headers={"Retry-After": str(error.retry_after_s)}) from None
    except DeadlineExceeded:
        raise ApiError(504, "deadline_exceeded", f"the request did not finish within {timeout:g} s",
                       {"timeout_s": timeout}) from None
    finally:
        state.request_finished()


async def _until_disconnect(request: Request, work: Awaitable[Result]) -> Result:
    """Run the pipeline, cancelling it (and dropping its queued windows) if the client goes away.

    The body has been read, so the ASGI ``receive`` now only returns when the client disconnects:
    waiting on it costs nothing per request, where polling cost a timer and a receive every 0.1 s.
    """
    task: asyncio.Future[Result] = asyncio.ensure_future(work)
    watcher: asyncio.Future[Any] = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait([task, watcher], return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # the server is stopping: neither may outlive the request
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if task.done():
        return task.result()
    task.cancel()
    task.add_done_callback(discard_outcome)  # it may still end with an exception nobody awaits
    raise ApiError(499, "client_closed", "the client closed the connection")


async def _disconnected(request: Request) -> None:
    while (message := await request.receive())["type"] != "http.disconnect":
        if not message.get("body") and not message.get("more_body"):
            await asyncio.sleep(DISCONNECT_POLL_S)  # a server whose receive does not block: poll


def answered(response: Response, state: ServerState, model: Extractor, result: ExtractResult,
             wanted: set[str] | None = None) -> ModelOut:
    """Metrics and timing headers of a finished run; the model identity for the body."""
    record(state, model, result, wanted)
    response.headers["X-Clinx-Queue-Time-Ms"] = f"{result.queue_wait_s * 1000:.1f}"
    response.headers["X-Clinx-Inference-Time-Ms"] = f"{result.inference_s * 1000:.1f}"
    response.headers["X-Clinx-Tokenize-Time-Ms"] = f"{result.tokenize_s * 1000:.1f}"
    return model_out(response, model)


def model_out(response: Response, extractor: Extractor) -> ModelOut:
    """The model block of a response, and its ``X-Clinx-Model`` header."""
    identity = extractor.identity
    response.headers["X-Clinx-Model"] = f"{identity.name}/{identity.version}/{identity.sha256}"
    return ModelOut(name=identity.name, version=identity.version, sha256=identity.sha256)


def record(state: ServerState, extractor: Extractor, result: ExtractResult, wanted: set[str] | None) -> None:
    metrics, model = state.metrics, extractor.identity.name
    metrics.tokenization_duration.labels(model).observe(result.tokenize_s)
    metrics.queue_wait.labels(model).observe(result.queue_wait_s)
    metrics.documents.labels(model).inc(len(result.documents))
    for outcome in result.documents:
        metrics.characters.labels(model).inc(outcome.characters)
        metrics.tokens.labels(model).inc(outcome.tokens)
        for entity in outcome.entities:
            if wanted is None or entity.label in wanted:  # count what the client receives
                metrics.entities.labels(model, entity.label, entity.assertion or "none").inc()
