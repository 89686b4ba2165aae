"""A served model as a short list of stages, each a small unit with one job.

    encode (text -> subwords and windows) -> tag (windows through scheduler + executor) -> decode (spans)

then any stages that work on the spans (``EntityStage``): a bundle's manifest names them in
``stages``, and :func:`entity_stages` builds them from a registry, so adding one (assertion status,
say) touches neither the scheduler nor the other stages nor the API of the others.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.bundle import BundleError, Manifest
from app.engine.batcher import Batcher, DeadlineExceeded, WindowJob
from app.engine.executor import CentreLogits, WindowRow
from app.engine.lanes import Lanes
from app.text.decode import SUBWORD_DECODING, DecodeRule, document_entities, softmax
from app.text.encode import DocumentEncoder, EncodedDocument
from app.text.types import Entity

CORE_STAGES = ("encode", "tag", "decode")


@dataclass(frozen=True)
class DocumentResult:
    entities: list[Entity]
    characters: int
    tokens: int
    windows: int


def discard_outcome(future: asyncio.Future[Any]) -> None:
    """Done-callback for a future whose outcome nobody will await: mark its exception retrieved."""
    if not future.cancelled():
        future.exception()


class EncodeStage:
    """Text to subwords and windows, with offsets into the original string (never changes the text)."""

    def __init__(self, encoder: DocumentEncoder) -> None:
        self.encoder = encoder

    def __call__(self, texts: list[str]) -> list[EncodedDocument]:
        return self.encoder.encode_many(texts)

    def rows(self, document: EncodedDocument) -> list[WindowRow]:
        return [WindowRow(self.encoder.input_ids(document, window), window.centre_positions)
                for window in document.windows]


class TagStage:
    """Every window of a request through the shared queue; back come the centres' raw logits."""

    def __init__(self, batcher: Batcher) -> None:
        self.batcher = batcher

    async def __call__(self, windows: Sequence[Sequence[WindowRow]], deadline: float, after_s: float = 0.0
                       ) -> tuple[list[list[CentreLogits]], float | None]:
        """Logits per document per window, and when the last of its windows started (None: no windows).

        ``after_s``: the request's expected time in the model stages after this one, for admission.

        Raises QueueFull (nothing was queued) or DeadlineExceeded. A request that is cancelled or
        fails takes its queued windows with it.
        """
        loop = asyncio.get_running_loop()
        jobs = [[WindowJob(row, deadline, loop.create_future()) for row in rows] for rows in windows]
        flat = [job for per_document in jobs for job in per_document]
        if not flat:
            return [[] for _ in jobs], None
        self.batcher.submit(flat, after_s=after_s)
        gathered = asyncio.gather(*(job.future for job in flat))
        try:
            # wait, not wait_for: windows whose results came in as the deadline fell are not thrown away
            await asyncio.wait([gathered], timeout=max(0.0, deadline - time.monotonic()))
            if gathered.done() and (failure := gathered.exception()) is not None:
                raise failure  # DeadlineExceeded from the queue, or the model's error
            if not all(job.future.done() for job in flat):
                raise DeadlineExceeded()
            for job in flat:
                job.future.result()
        finally:
            # A cancelled gather ends with a CancelledError *exception* (not the cancelled state) that
            # nobody awaits: asyncio would log "exception was never retrieved" at error level for every
            # client that hung up or timed out. Retrieve it; the outcome was handled above.
            gathered.add_done_callback(discard_outcome)
            for job in flat:
                job.future.cancel()
            if any(job.future.cancelled() for job in flat):
                self.batcher.wake()  # drop them from the queue now, not at the next flush
        started = max(job.started_at for job in flat if job.started_at is not None)
        return [[job.future.result() for job in per_document] for per_document in jobs], started


class DecodeStage:
    """Per window softmax, then the bundle's rule (best valid BIOES path or vote and repair), spans with scores.

    ``rule`` is the bundle's ``decode`` (``word-viterbi`` and ``word``: spans hold whole words;
    ``subword``: bundles that predate the rule), so the server, training's dev selection, evaluation
    and export all decode alike.
    """

    def __init__(self, tags: Sequence[str], rule: DecodeRule = SUBWORD_DECODING) -> None:
        self.tags = list(tags)
        self.rule = rule

    def __call__(self, document: EncodedDocument, window_logits: Sequence[CentreLogits]) -> DocumentResult:
        probabilities = [np.stack([softmax(member) for member in logits]) for logits in window_logits]
        entities = document_entities(document.text, document.offsets, document.anchors, probabilities, self.tags,
                                     self.rule)
        return DocumentResult(entities, len(document.text), document.token_count, len(document.windows))


class EntityStage(Protocol):
    """A stage after decode: reads the texts and their spans, returns them enriched (same documents, same order).

    ``option`` is the request's value for the stage (``True`` when it gave none; a request that gives
    ``False`` skips the stage). ``start``/``stop`` run with the extractor's (a stage with a model of
    its own starts its batcher there).
    """

    name: str

    async def __call__(self, texts: Sequence[str], documents: list[DocumentResult], *, deadline: float,
                       option: Any = True) -> list[DocumentResult]: ...

    def expected_s(self, tokens: int, option: Any) -> float:
        """Seconds this stage expects to need for a request of ``tokens`` subwords (its queue included;
        0 when it runs no model or knows no rate yet): admission at the tagger counts it."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class StageContext:
    """What a stage with a model of its own needs to run it like the tagger: the tagger's device, the
    requested precision (``auto``: by device), and the queue settings, metrics observer and CPU lanes of the
    extractor."""

    provider: str
    variant: str
    device_id: int = 0
    intra_op_threads: int = 0
    max_batch_tokens: int = 0
    max_padding_ratio: float | None = 0.1
    max_queue_delay_s: float = 0.005
    max_reorder_s: float = 2.0
    max_queue_tokens: int = 262144
    observe: Callable[[str], Any] | None = None
    lanes: Lanes | None = None  # the tagger's CPU lanes, shared (app/engine/lanes.py)


EntityStageFactory = Callable[[Path, Manifest, StageContext], EntityStage]
ENTITY_STAGES: dict[str, EntityStageFactory] = {}
# Stages this server has, imported only when a bundle lists them (their dependencies load on demand).
BUILT_IN_STAGES = {"assertion": "app.assertion.stage"}


def register_entity_stage(name: str, factory: EntityStageFactory) -> None:
    """Make a stage available to bundles whose manifest lists ``name`` after the core stages."""
    ENTITY_STAGES[name] = factory


def entity_stages(root: Path, manifest: Manifest, context: StageContext) -> list[EntityStage]:
    """The stages the manifest lists after encode, tag, decode; BundleError for one this server lacks."""
    if tuple(manifest.stages[: len(CORE_STAGES)]) != CORE_STAGES:
        raise BundleError(f"{root / 'manifest.json'}: field stages must begin with {list(CORE_STAGES)}")
    built = []
    for name in manifest.stages[len(CORE_STAGES):]:
        if name not in ENTITY_STAGES and name in BUILT_IN_STAGES:
            importlib.import_module(BUILT_IN_STAGES[name])  # registers itself
        if name not in ENTITY_STAGES:
            raise BundleError(f"{root / 'manifest.json'}: field stages names {name!r}, which this server does not "
                              f"have (known: {sorted(ENTITY_STAGES) or 'none beyond the core stages'})")
        built.append(ENTITY_STAGES[name](root, manifest, context))
    return built


def with_entities(result: DocumentResult, entities: list[Entity]) -> DocumentResult:
    return replace(result, entities=entities)
