"""Offline prediction with the server's decode path, for dev selection, evaluation and parity.

``logits_fn`` is anything that maps a padded batch to logits: a PyTorch model during training, an
ONNX Runtime session at export and evaluation. Batches are length-sorted, like the server's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from app.text.decode import document_entities, softmax
from app.text.encode import DocumentEncoder, EncodedDocument
from app.text.types import Entity

LogitsFn = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], list[npt.NDArray[np.float32]]]


def window_probabilities(
    encoder: DocumentEncoder, documents: Sequence[EncodedDocument], logits_fn: LogitsFn, batch_tokens: int = 8192
) -> list[list[npt.NDArray[np.float32]]]:
    """Per document, per window: centre probabilities ``[members, centre, tags]``."""
    items = [
        (doc_index, window_index, encoder.input_ids(document, window), window.centre_positions)
        for doc_index, document in enumerate(documents)
        for window_index, window in enumerate(document.windows)
    ]
    items.sort(key=lambda item: len(item[2]))
    results: list[list[npt.NDArray[np.float32]]] = [[None] * len(d.windows) for d in documents]  # type: ignore[list-item]
    start = 0
    while start < len(items):
        end = start + 1
        while end < len(items) and len(items[end][2]) * (end - start + 1) <= batch_tokens:
            end += 1
        batch = items[start:end]
        longest = len(batch[-1][2])
        ids = np.full((len(batch), longest), encoder.special.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), longest), dtype=np.int64)
        for row, (_, _, input_ids, _) in enumerate(batch):
            ids[row, : len(input_ids)] = input_ids
            mask[row, : len(input_ids)] = 1
        member_logits = logits_fn(ids, mask)
        for row, (doc_index, window_index, _, (begin, finish)) in enumerate(batch):
            results[doc_index][window_index] = np.stack(
                [softmax(logits[row, begin:finish]) for logits in member_logits])
        start = end
    return results


def predict_entities(
    encoder: DocumentEncoder, texts: Sequence[str], logits_fn: LogitsFn, tags: Sequence[str]
) -> list[list[Entity]]:
    documents = encoder.encode_many(list(texts))
    probabilities = window_probabilities(encoder, documents, logits_fn)
    return [
        document_entities(document.text, document.offsets, document.anchors, windows, tags)
        for document, windows in zip(documents, probabilities, strict=True)
    ]
