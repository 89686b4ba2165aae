"""``POST /extract``: HTTP in, pipeline call, HTTP out."""

from __future__ import annotations

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
    ExtractRequest,
    ExtractResponse,
    OffsetEncoding,
)
from app.api.work import answered, check_limits, ensure_ready, error_responses, pick_model, request_body, run_model
from app.engine.extractor import Extractor
from app.engine.stages import DocumentResult
from app.text.offsets import OffsetConverter

router = APIRouter()
ASSERTION = "assertion"


@router.post(
    "/extract",
    response_model=ExtractResponse,
    response_model_exclude_none=True,
    responses=error_responses(),
    openapi_extra=request_body("ExtractRequest"),
    summary="Find clinical concepts in documents",
    description="Entities with exact offsets into each document as received; entities of an assertable type "
    "(e.g. problem) carry their assertion status. Nothing is truncated: a document over the configured limit "
    "is refused with 413.",
    dependencies=[Depends(audited)],
)
async def extract(request: Request, response: Response, state: State) -> ExtractResponse:
    settings = state.settings
    ensure_ready(state)
    body = parse(ExtractRequest, await read_json(request, settings.max_body_bytes, settings.body_timeout_s))
    documents = body.document_list()
    check_limits(documents, settings.max_documents, settings.max_document_chars)
    pipeline = pick_model(state, body.model, request)
    check_labels(body.labels, pipeline)
    check_assertion_source(body.assertion, pipeline)
    result = await run_model(request, state, pipeline, [document.text for document in documents], body.timeout_s,
                             options={ASSERTION: body.assertion})
    wanted = set(body.labels) if body.labels is not None else None
    model = answered(response, state, pipeline, result, wanted)
    answers = [document_out(document, outcome, body.offset_encoding, wanted)
               for document, outcome in zip(documents, result.documents, strict=False)]
    request.state.entities = sum(len(document.entities) for document in answers)  # for the audit line
    return ExtractResponse(model=model, documents=answers)


def check_labels(labels: list[str] | None, pipeline: Extractor) -> None:
    if labels is None:
        return
    known = set(pipeline.manifest.entity_types)
    unknown = [index for index, label in enumerate(labels) if label not in known]
    if unknown:
        raise ApiError(422, "unknown_label",
                       f"labels{unknown} are not produced by model {pipeline.identity.name!r}; see detail.labels",
                       {"loc": [["labels", index] for index in unknown], "labels": pipeline.manifest.entity_types})


def assertion_sources(pipeline: Extractor) -> list[str]:
    stage: Any = pipeline.stage(ASSERTION)
    return list(stage.sources) if stage is not None else []


def check_assertion_source(option: bool | str | None, pipeline: Extractor) -> None:
    """``"model"`` needs a trained classifier: 422 ``assertion_unavailable`` otherwise. ``"rules"`` is
    always accepted: a model without an assertable type simply has nothing for them to assert."""
    if isinstance(option, str) and option != "rules" and option not in (sources := assertion_sources(pipeline)):
        raise ApiError(422, "assertion_unavailable",
                       f"model {pipeline.identity.name!r} has no {option!r} assertion source; see detail.sources",
                       {"loc": ["assertion"], "sources": sources})


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
            assertion=entity.assertion,  # type: ignore[arg-type]  # one of the stage's classes
            historical=entity.historical,
        )
        for entity in outcome.entities
        if wanted is None or entity.label in wanted
    ]
    stats = DocumentStats(characters=outcome.characters, tokens=outcome.tokens, windows=outcome.windows)
    return DocumentOut(id=document.id, entities=entities, stats=stats)
