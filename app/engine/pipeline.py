"""One loaded model as its stages in order: encode, tag, decode, then the stages that work on spans."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.engine.batcher import DeadlineExceeded
from app.engine.stages import DecodeStage, DocumentResult, EncodeStage, EntityStage, TagStage


@dataclass(frozen=True)
class ExtractResult:
    documents: list[DocumentResult]
    tokenize_s: float
    queue_wait_s: float
    inference_s: float


class Pipeline:
    """Runs the stages for one request; knows nothing of HTTP, loading or the server's lifecycle."""

    def __init__(self, encode: EncodeStage, tag: TagStage, decode: DecodeStage,
                 after: list[EntityStage] | None = None) -> None:
        self.encode = encode
        self.tag = tag
        self.decode = decode
        self.after = after or []

    @property
    def stage_names(self) -> list[str]:
        return ["encode", "tag", "decode", *(stage.name for stage in self.after)]

    async def run(self, texts: list[str], *, deadline: float, options: Mapping[str, Any] | None = None
                  ) -> ExtractResult:
        """Entities per document. Raises QueueFull (nothing queued) or DeadlineExceeded.

        ``options`` holds the request's value per entity stage (``False`` skips that stage).
        """
        started = time.monotonic()
        documents = await asyncio.to_thread(self.encode, texts)
        tokenized = time.monotonic()
        rows = [self.encode.rows(document) for document in documents]
        if any(rows) and tokenized >= deadline:
            raise DeadlineExceeded()
        active = [(stage, (options or {}).get(stage.name, True)) for stage in self.after]
        active = [(stage, option) for stage, option in active if option is not False]
        tokens = sum(document.token_count for document in documents)
        after_s = sum(stage.expected_s(tokens, option) for stage, option in active)
        logits, last_started = await self.tag(rows, deadline, after_s)
        results = [self.decode(document, window_logits) for document, window_logits in zip(documents, logits,
                                                                                               strict=True)]
        for stage, option in active:
            results = await stage(texts, results, deadline=deadline, option=option)
        finished = time.monotonic()
        queue_wait = last_started - tokenized if last_started is not None else 0.0
        return ExtractResult(results, tokenized - started, queue_wait, finished - tokenized - queue_wait)
