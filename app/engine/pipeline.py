"""One served model end to end: encode, queue windows, vote, decode, assemble."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.bundle import Manifest
from app.engine.batcher import Batcher, DeadlineExceeded, Probabilities, WindowJob
from app.engine.runtime import Runtime
from app.text.decode import document_entities
from app.text.encode import DocumentEncoder, EncodedDocument
from app.text.types import Entity


def discard_outcome(future: asyncio.Future[Any]) -> None:
    """Done-callback for a future whose outcome nobody will await: mark its exception retrieved."""
    if not future.cancelled():
        future.exception()


@dataclass(frozen=True)
class DocumentResult:
    entities: list[Entity]
    characters: int
    tokens: int
    windows: int


@dataclass(frozen=True)
class ExtractResult:
    documents: list[DocumentResult]
    tokenize_s: float
    queue_wait_s: float
    inference_s: float


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    sha256: str
    demo: bool


class Pipeline:
    """Everything the API needs from one bundle; the API only translates HTTP around it."""

    def __init__(
        self,
        root: Path,
        manifest: Manifest,
        identity: ModelIdentity,
        encoder: DocumentEncoder,
        runtime: Runtime,
        batcher: Batcher,
    ) -> None:
        self.root = root
        self.manifest = manifest
        self.identity = identity
        self.encoder = encoder
        self.runtime = runtime
        self.batcher = batcher

    async def extract(self, texts: list[str], *, deadline: float) -> ExtractResult:
        """Entities per document. Raises QueueFull (nothing queued) or DeadlineExceeded."""
        started = time.monotonic()
        documents = await asyncio.to_thread(self.encoder.encode_many, texts)
        tokenized = time.monotonic()
        loop = asyncio.get_running_loop()
        jobs_per_document = [
            [
                WindowJob(
                    self.encoder.input_ids(document, window),
                    window.centre_positions,
                    deadline,
                    loop.create_future(),
                )
                for window in document.windows
            ]
            for document in documents
        ]
        jobs = [job for per_document in jobs_per_document for job in per_document]
        if jobs and tokenized >= deadline:
            raise DeadlineExceeded()
        self.batcher.submit(jobs)
        gathered = asyncio.gather(*(job.future for job in jobs))
        try:
            if jobs:
                await asyncio.wait_for(gathered, timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise DeadlineExceeded() from None
        finally:
            # A cancelled gather ends with a CancelledError *exception* (not the cancelled state) that
            # nobody awaits: asyncio would log "exception was never retrieved" at error level for every
            # client that hung up or timed out. Retrieve it; the outcome was handled above.
            gathered.add_done_callback(discard_outcome)
            for job in jobs:  # a request that is cancelled or failed takes its windows with it
                job.future.cancel()
            if any(job.future.cancelled() for job in jobs):
                self.batcher.wake()  # drop them from the queue now, not at the next flush
        finished = time.monotonic()
        results = [
            self._decode(document, [job.future.result() for job in per_document])
            for document, per_document in zip(documents, jobs_per_document, strict=False)
        ]
        starts = [job.started_at for job in jobs if job.started_at is not None]
        queue_wait = max((start - tokenized for start in starts), default=0.0)
        return ExtractResult(results, tokenized - started, queue_wait, finished - tokenized - queue_wait)

    def _decode(self, document: EncodedDocument, window_probs: list[Probabilities]) -> DocumentResult:
        entities = document_entities(
            document.text, document.offsets, document.anchors, window_probs, self.manifest.tags
        )
        return DocumentResult(entities, len(document.text), document.token_count, len(document.windows))
