"""Offline prediction with a model function (PyTorch during training, ONNX Runtime at export).

The same executor (padding), decode stage (softmax, vote, BIOES repair, spans) and window code as the
server; only the batching differs: every window is known up front, so batches are length-sorted
runs within a token budget. A *bundle* is never predicted here: it goes through the server's own
engine (:class:`app.engine.extractor.Extractor`), batching included.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.engine.executor import CentreLogits, Executor, RunModel
from app.engine.scheduler import length_sorted_batches
from app.engine.stages import DecodeStage, EncodeStage
from app.text.decode import DecodeRule
from app.text.encode import DocumentEncoder
from app.text.types import Entity

LogitsFn = RunModel
OFFLINE_BATCH_TOKENS = 8192


def predict_entities(encoder: DocumentEncoder, texts: Sequence[str], logits_fn: LogitsFn, tags: Sequence[str],
                     rule: DecodeRule, batch_tokens: int = OFFLINE_BATCH_TOKENS) -> list[list[Entity]]:
    encode = EncodeStage(encoder)
    documents = encode(list(texts))
    rows = [(doc, index, row) for doc, document in enumerate(documents)
            for index, row in enumerate(encode.rows(document))]
    executor = Executor(logits_fn, encoder.special.pad_id)
    logits: list[list[CentreLogits | None]] = [[None] * len(document.windows) for document in documents]
    for batch in length_sorted_batches([len(row.input_ids) for _, _, row in rows], batch_tokens):
        outcome = executor.run([rows[item][2] for item in batch])
        for item, centre in zip(batch, outcome.logits, strict=True):
            doc, index, _ = rows[item]
            logits[doc][index] = centre
    decode = DecodeStage(tags, rule)
    return [decode(document, [centre for centre in per_window if centre is not None]).entities
            for document, per_window in zip(documents, logits, strict=True)]
