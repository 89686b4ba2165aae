"""``POST /extract``: HTTP in, pipeline call, HTTP out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from app.api.body import parse, read_json
from app.api.deps import State, audited
from app.api.errors import ApiError
from app.api.schemas import (
    DocumentIn,
    DocumentOut,
    DocumentStats,
    EntityOut,
    ErrorResponse,
    ExtractRequest,
    ExtractResponse,
    ModelOut,
    OffsetEncoding,
)
from app.engine.batcher import DeadlineExceeded, QueueFull
from app.engine.extractor import Extractor
from app.engine.pipeline import ExtractResult
from app.engine.stages import DocumentResult, discard_outcome
from app.state import ServerState
from app.text.offsets import OffsetConverter

router = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "Invalid JSON, invalid UTF-8 or a lone surrogate.",
        401: "API key missing.",
        403: "API key not valid.",
        408: "The whole body did not arrive within the configured time.",
        413: "Body, document count or a document's length over the configured limit.",
        415: "Content type is not application/json.",
        404: "The requested model is not served.",
        422: "The body does not match the schema (unknown field, wrong type, unknown label).",
        429: "This client's share of the queue is full, or the queued work would not let the request finish within "
             "its deadline; retry after the Retry-After seconds.",
        503: "Not ready (loading, warming up) or draining.",
        504: "The request's deadline passed.",
    }.items()
}
REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ExtractRequest"}}},
    }
}
DISCONNECT_POLL_S = 0.1  # only where the ASGI server's receive returns at once


@router.post(
    "/extract",
    response_model=ExtractResponse,
    responses=ERRORS,
    openapi_extra=REQUEST_BODY,
    summary="Find clinical concepts in documents",
    description="Entities with exact offsets into each document as received. Nothing is truncated: "
    "a document over the configured limit is refused with 413.",
    dependencies=[Depends(audited)],
)
async def extract(request: Request, response: Response, state: State) -> ExtractResponse:
    settings = state.settings
    if not state.ready:
        raise ApiError(503, "not_ready", "the server is draining" if state.draining else "the model is not loaded yet",
                       headers={"Retry-After": "5"})
    body = parse(ExtractRequest, await read_json(request, settings.max_body_bytes, settings.body_timeout_s))
    documents = body.document_list()
    check_limits(documents, settings.max_documents, settings.max_document_chars)
    pipeline = pick_model(state, body.model)
    request.state.model = pipeline.identity
    check_labels(body.labels, pipeline)
    timeout = min(body.timeout_s or settings.request_timeout_s, settings.max_request_timeout_s)
    texts = [document.text for document in documents]
    request.state.documents = len(texts)
    request.state.characters = sum(len(text) for text in texts)
    state.request_started()
    try:
        result = await _until_disconnect(request, pipeline.extract_async(texts, deadline=time.monotonic() + timeout))
    except QueueFull as error:
        raise ApiError(429, "queue_full", error.message, error.detail,
                       headers={"Retry-After": str(error.retry_after_s)}) from None
    except DeadlineExceeded:
        raise ApiError(504, "deadline_exceeded", f"the request did not finish within {timeout:g} s",
                       {"timeout_s": timeout}) from None
    finally:
        state.request_finished()
    wanted = set(body.labels) if body.labels is not None else None
    record(state, pipeline, result, wanted)
    identity = pipeline.identity
    response.headers["X-Clinx-Model"] = f"{identity.name}/{identity.version}/{identity.sha256}"
    response.headers["X-Clinx-Queue-Time-Ms"] = f"{result.queue_wait_s * 1000:.1f}"
    response.headers["X-Clinx-Inference-Time-Ms"] = f"{result.inference_s * 1000:.1f}"
    response.headers["X-Clinx-Tokenize-Time-Ms"] = f"{result.tokenize_s * 1000:.1f}"
    answered = [document_out(document, outcome, body.offset_encoding, wanted)
                for document, outcome in zip(documents, result.documents, strict=False)]
    request.state.entities = sum(len(document.entities) for document in answered)
    return ExtractResponse(
        model=ModelOut(name=identity.name, version=identity.version, sha256=identity.sha256), documents=answered
    )


async def _until_disconnect(request: Request, work: Any) -> ExtractResult:
    """Run the pipeline, cancelling it (and dropping its queued windows) if the client goes away.

    The body has been read, so the ASGI ``receive`` now only returns when the client disconnects:
    waiting on it costs nothing per request, where polling cost a timer and a receive every 0.1 s.
    """
    task: asyncio.Task[ExtractResult] = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
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


def pick_model(state: ServerState, name: str | None) -> Extractor:
    chosen = state.default_model if name is None else name
    if chosen not in state.models:  # the requested name is not echoed: errors quote nothing the client sent
        raise ApiError(404, "unknown_model", "the requested model is not served; see detail.models",
                       {"models": sorted(state.models)})
    return state.models[chosen]


def check_labels(labels: list[str] | None, pipeline: Extractor) -> None:
    if labels is None:
        return
    known = set(pipeline.manifest.entity_types)
    unknown = [index for index, label in enumerate(labels) if label not in known]
    if unknown:
        raise ApiError(422, "unknown_label",
                       f"labels{unknown} are not produced by model {pipeline.identity.name!r}; see detail.labels",
                       {"loc": [["labels", index] for index in unknown], "labels": pipeline.manifest.entity_types})


def document_out(
    document: DocumentIn, outcome: DocumentResult, encoding: OffsetEncoding, wanted: set[str] | None
) -> DocumentOut:
    converter = OffsetConverter(document.text)
    entities = [
        EntityOut(
            start=converter.convert(entity.start, encoding),
            end=converter.convert(entity.end, encoding),
            text=document.text[entity.start : entity.end],
            label=entity.label,
            score=round(entity.score, 4),
        )
        for entity in outcome.entities
        if wanted is None or entity.label in wanted
    ]
    stats = DocumentStats(characters=outcome.characters, tokens=outcome.tokens, windows=outcome.windows)
    return DocumentOut(id=document.id, entities=entities, stats=stats)


def record(state: ServerState, pipeline: Extractor, result: ExtractResult, wanted: set[str] | None) -> None:
    metrics, model = state.metrics, pipeline.identity.name
    metrics.tokenization_duration.labels(model).observe(result.tokenize_s)
    metrics.queue_wait.labels(model).observe(result.queue_wait_s)
    metrics.documents.labels(model).inc(len(result.documents))
    for outcome in result.documents:
        metrics.characters.labels(model).inc(outcome.characters)
        metrics.tokens.labels(model).inc(outcome.tokens)
        for entity in outcome.entities:
            if wanted is None or entity.label in wanted:  # count what the client receives
                metrics.entities.labels(model, entity.label).inc()
