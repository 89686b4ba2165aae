"""The trained assertion classifier as a second model stage, batched across requests like the tagger.

Rows (one marked sentence per span, :mod:`app.assertion.marking`) go through their own
:class:`~app.engine.batcher.Batcher` over their own ONNX Runtime sessions, with the same scheduler
and an :class:`~app.engine.executor.Executor` that hands back each row's one vector of logits
(``whole_row``) instead of a tagger's centre: concurrent requests share batches, deadlines and
cancellation behave as for the tagger.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tokenizers import Tokenizer

from app.assertion.classes import Assessment
from app.assertion.marking import Markers, document_rows
from app.bundle import AssertionModel, verify_file, verify_variant
from app.engine.batcher import Batcher, current_client
from app.engine.budget import batch_budget
from app.engine.executor import Executor, WindowRow, whole_row
from app.engine.runtime import CPU, choose_variant, create_session
from app.engine.stages import StageContext, TagStage

log = logging.getLogger("clinx.assertion")


def decide(logits: npt.NDArray[np.float32], classes: Sequence[str], historical: bool) -> Assessment:
    """Members' logits ``[members, classes (+2)]`` to an assessment: mean of the members' softmax, argmax."""
    def mean_softmax(part: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        shifted = np.exp(part - part.max(axis=-1, keepdims=True))
        return (shifted / shifted.sum(axis=-1, keepdims=True)).mean(axis=0)  # type: ignore[no-any-return]

    count = len(classes)
    assertion = classes[int(np.argmax(mean_softmax(logits[:, :count])))]
    return Assessment(assertion, bool(np.argmax(mean_softmax(logits[:, count:count + 2]))) if historical else None)


class AssertionClassifier:
    """The bundle's classifier in the tagger's precision and on its device, with a batcher of its own."""

    name = "model"

    def __init__(self, root: Path, model: AssertionModel, context: StageContext, model_name: str) -> None:
        self.model = model
        self.tokenizer = Tokenizer.from_file(str(verify_file(root, model.tokenizer)))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        special = model.special_tokens
        self.markers = Markers(special["cls_id"], special["sep_id"], special["start_id"], special["end_id"])
        available = model.precisions()
        self.variant = choose_variant(context.variant if context.variant in available else "auto", context.provider,
                                      available)
        providers: list[Any] | None = None if context.provider == CPU else [
            (context.provider, {"device_id": context.device_id}), CPU]
        self.sessions = [create_session(verify_variant(root, member.variants[self.variant]), providers,  # type: ignore[index]
                                        context.intra_op_threads) for member in model.members]
        executor = Executor(self._run, special["pad_id"], select=whole_row)
        budget = batch_budget(context.max_batch_tokens, context.provider, model.max_length)
        self._warm_up(executor, budget)
        self.batcher = Batcher(
            executor, max_batch_tokens=budget, max_delay_s=context.max_queue_delay_s,
            max_queue_tokens=context.max_queue_tokens, max_padding=context.max_padding_ratio,
            age_half_life_s=context.max_reorder_s, workers=2, lanes=context.lanes, stage_rank=1,
            observer=context.observe(f"{model_name}/assertion") if context.observe is not None else None)
        self.rows_through = TagStage(self.batcher)
        # Row subwords per tagger subword, learnt from the requests seen (how many assertable spans a
        # text holds, and how long their rows are): admission at the tagger estimates this stage with it.
        self.row_tokens_per_token = 0.0

    @property
    def historical(self) -> bool:
        return self.model.historical

    def _run(self, input_ids: npt.NDArray[np.int64], attention_mask: npt.NDArray[np.int64]) -> list[npt.NDArray[Any]]:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        return [session.run(["logits"], feeds)[0] for session in self.sessions]

    def _warm_up(self, executor: Executor, budget: int) -> None:
        rows = max(1, budget // self.model.max_length)
        started = time.monotonic()
        executor.run([WindowRow([executor.pad_id] * self.model.max_length, (0, 0))] * rows)
        log.info("assertion classifier warm-up: %d x %d tokens in %.2f s", rows, self.model.max_length,
                 time.monotonic() - started)

    def rows(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> list[list[WindowRow]]:
        """One marked row per span, per document (CPU work: run it off the event loop)."""
        return [[WindowRow(ids, (0, len(ids))) for ids in document_rows(self.tokenizer, text, document_spans,
                                                                         self.model.max_length, self.markers)]
                for text, document_spans in zip(texts, spans, strict=True)]

    def expected_s(self, tagger_tokens: int) -> float:
        """Seconds this stage would need for a request of ``tagger_tokens`` tagger subwords of the running
        request's client: the rows such a request brings, after what the classifier's queue holds ahead
        of them (0 before any rate is known)."""
        return self.batcher.expected_s(current_client.get(), round(tagger_tokens * self.row_tokens_per_token))

    async def classify(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], deadline: float,
                       tagger_tokens: int = 0) -> list[list[Assessment]]:
        """Assessments per span per document; QueueFull or DeadlineExceeded like the tagger.

        ``tagger_tokens``: the request's subwords in the tagger (when it came through one), to learn
        how many row subwords a subword of text brings."""
        rows = await asyncio.to_thread(self.rows, texts, spans)
        if tagger_tokens > 0:
            ratio = sum(len(row.input_ids) for document in rows for row in document) / tagger_tokens
            self.row_tokens_per_token = ratio if self.row_tokens_per_token == 0 else (
                0.9 * self.row_tokens_per_token + 0.1 * ratio)
        outputs, _ = await self.rows_through(rows, deadline)
        return [[decide(logits, self.model.classes, self.model.historical) for logits in document]
                for document in outputs]

    async def start(self) -> None:
        self.batcher.start()

    async def stop(self) -> None:
        await self.batcher.stop()

    @property
    def running(self) -> bool:
        return self.batcher.running
