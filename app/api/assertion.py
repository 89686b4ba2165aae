"""``POST /assertion``: the assertion status of spans the caller found with its own tools.

Same limits, errors, offset encodings, authentication and metrics as ``/extract`` (the shared
helpers of :mod:`app.api.work`); the spans come back in request order with ``assertion`` and
``historical`` added, whatever their label.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from app.api.body import parse, read_json
from app.api.deps import State, audited
from app.api.errors import ApiError
from app.api.schemas import AssertionDocumentIn, AssertionDocumentOut, AssertionRequest, AssertionResponse, SpanOut
from app.api.work import check_limits, ensure_ready, error_responses, model_out, pick_model, request_body, run_work
from app.engine.extractor import Extractor
from app.state import ServerState
from app.text.offsets import OffsetConverter, OffsetEncoding

router = APIRouter()
STAGE = "assertion"


@router.post(
    "/assertion",
    response_model=AssertionResponse,
    response_model_exclude_none=True,
    responses=error_responses(),
    openapi_extra=request_body("AssertionRequest"),
    summary="Assertion status of caller-given spans",
    description="For concepts found by other tools: each span comes back with its assertion status (present, "
    "absent, possible, conditional, hypothetical, associated_with_someone_else) and, where the source can tell, "
    "whether it is historical.",
    dependencies=[Depends(audited)],
)
async def assertion(request: Request, response: Response, state: State) -> AssertionResponse:
    settings = state.settings
    ensure_ready(state)
    body = parse(AssertionRequest, await read_json(request, settings.max_body_bytes, settings.body_timeout_s))
    check_limits(list(body.documents), settings.max_documents, settings.max_document_chars)
    extractor = pick_model(state, body.model, request)
    stage = assertion_stage(extractor, body.source)
    spans = [codepoint_spans(index, document, body.offset_encoding) for index, document in enumerate(body.documents)]
    texts = [document.text for document in body.documents]
    found = await run_work(request, state, texts, body.timeout_s,
                           lambda deadline: stage.assess(texts, spans, deadline=deadline, source=body.source))
    documents = []
    for document, assessments in zip(body.documents, found, strict=True):
        documents.append(AssertionDocumentOut(id=document.id, spans=[
            SpanOut(start=span.start, end=span.end, label=span.label, assertion=assessment.assertion,
                    historical=assessment.historical)
            for span, assessment in zip(document.spans, assessments, strict=True)]))
    record(state, extractor, documents)
    request.state.entities = sum(len(document.spans) for document in documents)  # for the audit line
    return AssertionResponse(model=model_out(response, extractor), documents=documents)


def assertion_stage(extractor: Extractor, source: str | None) -> Any:
    """The model's assertion stage, with the requested source: 422 ``assertion_unavailable`` otherwise."""
    stage: Any = extractor.stage(STAGE)
    sources = list(stage.sources) if stage is not None else []
    if stage is None or (source is not None and source not in sources):
        wanted = f"no {source!r} assertion source" if stage is not None else "no assertion stage"
        raise ApiError(422, "assertion_unavailable", f"model {extractor.identity.name!r} has {wanted}; "
                       "see detail.sources", {"loc": ["source"], "sources": sources})
    return stage


def codepoint_spans(index: int, document: AssertionDocumentIn, encoding: OffsetEncoding) -> list[tuple[int, int]]:
    """The document's spans in code points; 422 ``invalid_span`` naming document and span by index."""
    converter = OffsetConverter(document.text)
    spans = []
    for position, span in enumerate(document.spans):
        where = {"loc": ["documents", index, "spans", position], "offset_encoding": encoding,
                 "length": converter.length(encoding)}
        if span.start >= span.end:
            raise ApiError(422, "invalid_span", f"document {index} span {position}: start must be before end", where)
        try:
            spans.append((converter.to_codepoint(span.start, encoding), converter.to_codepoint(span.end, encoding)))
        except ValueError:
            raise ApiError(422, "invalid_span", f"document {index} span {position} lies outside the text or inside "
                           f"a character ({encoding} offsets)", where) from None
    return spans


def record(state: Any, extractor: Extractor, documents: list[AssertionDocumentOut]) -> None:
    metrics, model = state.metrics, extractor.identity.name
    metrics.documents.labels(model).inc(len(documents))
    for document in documents:
        for span in document.spans:
            metrics.entities.labels(model, span.label, span.assertion).inc()


def constrain_schema(components: dict[str, Any], state: ServerState) -> None:
    """Once the bundles are loaded, OpenAPI offers only what is served: ``/assertion``'s models (those with an
    assertion stage) and, for both routes, ``"model"`` as a source only when some bundle has a classifier."""
    staged: dict[str, Any] = {name: extractor.stage(STAGE) for name, extractor in state.models.items()}
    with_stage = sorted(name for name, stage in staged.items() if stage is not None)
    sources = sorted({"rules", *(source for stage in staged.values() if stage is not None
                                 for source in stage.sources)})
    if (request := components.get("AssertionRequest")) is not None:
        if with_stage:
            request["properties"]["model"] = {"anyOf": [{"enum": with_stage, "type": "string"}, {"type": "null"}],
                                              "description": "Bundle name (one with an assertion stage)."}
        request["properties"]["source"] = {"anyOf": [{"enum": sources, "type": "string"}, {"type": "null"}],
                                           "description": "rules or model; default: the model's own source."}
    if (extract := components.get("ExtractRequest")) is not None:
        option = extract["properties"]["assertion"]
        for choice in option.get("anyOf", []):
            if "enum" in choice:
                choice["enum"] = sources
