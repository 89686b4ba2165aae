"""``POST /deidentify``: the tagger's PHI spans (and the patterns') replaced in each note.

Same documents, limits, errors, authentication, offset encodings and deadlines as ``/extract``
(``app/api/work.py``); the answer never holds an original value, only where it was, what it was
(label, category) and what replaced it. The replacing runs on one worker thread of its own: it is
CPU work the event loop must not wait on, and one thread keeps one Faker instance warm.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from pydantic import TypeAdapter, ValidationError

from app.api.body import parse, read_json
from app.api.deid_schemas import (
    DeidDocumentOut,
    DeidentifyRequest,
    DeidentifyResponse,
    DeidItemOut,
    DeidStats,
    OperatorChoice,
)
from app.api.deps import State, audited
from app.api.errors import ApiError, validation_detail
from app.api.schemas import OffsetEncoding
from app.api.work import answered, check_limits, ensure_ready, error_responses, pick_model, request_body, run_model
from app.deid.apply import Deidentified, deidentify, model_spans, phi_spans
from app.deid.categories import CATEGORIES, SUBTYPES
from app.deid.keys import Keyring
from app.deid.operators import DEFAULT_KEY, OPERATOR_NAMES, OperatorName, OperatorPlan, OperatorSpec
from app.deid.surrogates import warm_up
from app.engine.extractor import Extractor
from app.engine.stages import DocumentResult
from app.settings import Settings
from app.state import ServerState
from app.text.offsets import OffsetConverter

router = APIRouter()
PATTERN_LABELS = frozenset({*SUBTYPES, "DATE"})


@dataclass
class Deidentifier:
    """What the route keeps for the server's life: the secret, the pattern switch, the worker."""

    keyring: Keyring | None
    patterns: bool
    worker: ThreadPoolExecutor

    def describe(self) -> dict[str, Any]:
        """For /info: which operators this server can run (never the secret)."""
        return {"operators": list(OPERATOR_NAMES), "secret_configured": self.keyring is not None,
                "patterns": self.patterns}


def install(app: FastAPI, settings: Settings) -> None:
    """Add the route, read the secret (a bad one stops start-up) and warm Faker on the worker."""
    key = settings.deid_key()
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clinx-deid")
    worker.submit(warm_up)
    app.state.deid = Deidentifier(Keyring(key) if key is not None else None, settings.deid_patterns, worker)
    app.include_router(router, tags=["de-identification"])


@router.post(
    "/deidentify",
    response_model=DeidentifyResponse,
    responses=error_responses(
        _422="Not a de-identification model, an unknown operator key, a keyed operator without a configured "
        "secret, or a body that does not match the schema."),
    openapi_extra=request_body("DeidentifyRequest"),
    summary="Replace the PHI in documents",
    description="Each document's text with its PHI replaced by the chosen operator per category, and where "
    "each replacement sits in the original and the returned text. Never returns an original value.",
    dependencies=[Depends(audited)],
)
async def deidentify_route(request: Request, response: Response, state: State) -> DeidentifyResponse:
    settings = state.settings
    deid: Deidentifier = request.app.state.deid
    ensure_ready(state)
    raw = await read_json(request, settings.max_body_bytes, settings.body_timeout_s)
    check_operator_values(raw)
    body = parse(DeidentifyRequest, raw)
    documents = body.document_list()
    check_limits(documents, settings.max_documents, settings.max_document_chars)
    pipeline = pick_deid_model(state, body.model)
    request.state.model = pipeline.identity  # for the audit line
    plan = operator_plan(body.operators, pipeline)
    check_secret(plan, deid.keyring)
    texts = [document.text for document in documents]
    state.request_started()  # in flight until replaced too: a drain waits for the whole answer
    try:
        result = await run_model(request, state, pipeline, texts, body.timeout_s)
        replaced = await _replace(deid, plan, pipeline, texts, result.documents, body.patient_keys())
    finally:
        state.request_finished()
    model = answered(response, state, pipeline, result)
    items = state.metrics.deid_items
    request.state.entities = sum(len(done.items) for done in replaced)  # for the audit line: PHI items replaced
    for done in replaced:
        for item in done.items:
            items.labels(pipeline.identity.name, item.phi.category, item.operator, item.source).inc()
    return DeidentifyResponse(model=model, documents=[
        document_out(document.id, text, outcome, done, body.offset_encoding)
        for document, text, outcome, done in zip(documents, texts, result.documents, replaced, strict=True)
    ])


def constrain_schema(components: dict[str, Any], state: ServerState) -> None:
    """Once the bundles are loaded, OpenAPI lists the de-identification models and the operator keys."""
    deid_models = [name for name, p in state.models.items() if p.manifest.task_type == "deid"]
    schema = components.get("DeidentifyRequest")
    if not deid_models or schema is None:
        return
    properties = schema["properties"]
    properties["model"] = {"anyOf": [{"enum": deid_models, "type": "string"}, {"type": "null"}],
                           "description": "De-identification bundle (default: the first served)."}
    labels = {label for name in deid_models for label in state.models[name].manifest.phi_categories}
    for option in properties["operators"].get("anyOf", []):
        if option.get("type") == "object":
            option["propertyNames"] = {"enum": sorted({DEFAULT_KEY, *CATEGORIES, *PATTERN_LABELS, *labels})}


async def _replace(deid: Deidentifier, plan: OperatorPlan, model: Extractor, texts: list[str],
                   outcomes: list[DocumentResult], patient_keys: list[str | None]) -> list[Deidentified]:
    """Patterns, joining and operators for every document, on the de-identification worker thread."""
    categories = model.manifest.phi_types()

    def replace_all() -> list[Deidentified]:
        return [
            deidentify(text, phi_spans(text, model_spans(outcome.entities, categories), deid.patterns), plan,
                       deid.keyring, patient_key)
            for text, outcome, patient_key in zip(texts, outcomes, patient_keys, strict=True)
        ]

    return await asyncio.get_running_loop().run_in_executor(deid.worker, replace_all)


def pick_deid_model(state: ServerState, name: str | None) -> Extractor:
    """The named model, which must be a de-identification model; by default the first one served."""
    deid_models = sorted(n for n, p in state.models.items() if p.manifest.task_type == "deid")
    if name is None:
        first = next((n for n, p in state.models.items() if p.manifest.task_type == "deid"), None)
        if first is None:
            raise ApiError(422, "not_a_deid_model", "no de-identification model is served; /extract serves the "
                           "others", {"models": sorted(state.models), "deid_models": []})
        return state.models[first]
    pipeline = pick_model(state, name)
    if pipeline.manifest.task_type != "deid":
        raise ApiError(422, "not_a_deid_model",
                       f"model {pipeline.identity.name!r} is a {pipeline.manifest.task_type} model, not a "
                       "de-identification model; see detail.deid_models",
                       {"task_type": pipeline.manifest.task_type, "deid_models": deid_models})
    return pipeline


_OPERATOR_VALUE: TypeAdapter[OperatorName | OperatorChoice] = TypeAdapter(OperatorName | OperatorChoice)


def check_operator_values(raw: Any) -> None:
    """Operator values checked one by one, so an error names its key by position: schema errors
    would put the key itself in ``loc``, and errors never quote what the client sent."""
    operators = raw.get("operators") if isinstance(raw, dict) else None
    if not isinstance(operators, dict):
        return
    for index, value in enumerate(operators.values()):
        try:
            _OPERATOR_VALUE.validate_python(value)
        except ValidationError as error:
            detail = [{**problem, "loc": ["operators", index, *problem["loc"][1:]]}
                      for problem in validation_detail(error.errors())]
            raise ApiError(422, "validation_error", "the request does not match the schema", detail) from None


def operator_plan(operators: dict[str, OperatorName | OperatorChoice] | None, pipeline: Extractor) -> OperatorPlan:
    """The request's operators by key; keys must name a category, subtype, label of this model, or DEFAULT."""
    operators = operators or {}
    valid = {DEFAULT_KEY, *CATEGORIES, *PATTERN_LABELS, *pipeline.manifest.phi_categories}
    unknown = [index for index, key in enumerate(operators) if key not in valid]
    if unknown:  # keys are positions: the request's own strings are never echoed
        raise ApiError(422, "unknown_phi_category",
                       f"operators keys at positions {unknown} name no PHI category, subtype or label of model "
                       f"{pipeline.identity.name!r}; see detail.keys",
                       {"loc": [["operators", index] for index in unknown], "keys": sorted(valid)})
    chosen: dict[str, OperatorSpec] = {}
    for key, choice in operators.items():
        if isinstance(choice, str):
            chosen[key] = OperatorSpec(choice)
        else:
            chosen[key] = OperatorSpec(choice.operator, **choice.model_dump(exclude={"operator"}))
    return OperatorPlan(chosen)


def check_secret(plan: OperatorPlan, keyring: Keyring | None) -> None:
    """hash, surrogate and date_shift without a secret: refused, naming who asked; never a default key."""
    asking = plan.keyed_keys()
    if asking and keyring is None:
        operators = sorted({plan.chosen[key].name for key in asking})
        raise ApiError(422, "deid_secret_missing",
                       f"operators {', '.join(operators)} (asked for {', '.join(asking)}) need a de-identification "
                       "secret and this server has none (CLINX_DEID_SECRET or CLINX_DEID_SECRET_FILE); choose tag, "
                       "redact or mask, or configure a secret",
                       {"keys": asking, "operators": operators})


def document_out(document_id: str, text: str, outcome: DocumentResult, done: Deidentified,
                 encoding: OffsetEncoding) -> DeidDocumentOut:
    before, after = OffsetConverter(text), OffsetConverter(done.text)
    items = [
        DeidItemOut(start=before.convert(item.start, encoding), end=before.convert(item.end, encoding),
                    new_start=after.convert(item.new_start, encoding), new_end=after.convert(item.new_end, encoding),
                    label=item.label, category=item.phi.category, operator=item.operator)
        for item in done.items
    ]
    stats = DeidStats(characters=outcome.characters, tokens=outcome.tokens, windows=outcome.windows,
                      items=len(items), replaced_characters=sum(item.end - item.start for item in done.items),
                      pattern_items=sum(item.source == "pattern" for item in done.items))
    return DeidDocumentOut(id=document_id, text=done.text, items=items, stats=stats)

