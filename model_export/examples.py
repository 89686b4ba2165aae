"""Training examples from documents, built by the same window code the server uses."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from tokenizers import Tokenizer

from app.text.encode import DocumentEncoder, EncodedDocument, SpecialTokens
from app.text.labels import encode_tags
from app.text.types import Document
from app.text.windows import Window, WindowGeometry

IGNORE = -100  # label of positions the loss skips: special tokens, context, blank subwords


@dataclass(frozen=True)
class Example:
    """One window: full input ids and per-position labels (IGNORE outside the centre)."""

    input_ids: list[int]
    labels: list[int]
    centre: tuple[int, int]

    def without_context(self) -> Example:
        """The centre alone between the special tokens: CLIN-X drops context half the time in training."""
        begin, end = self.centre
        ids = [self.input_ids[0], *self.input_ids[begin:end], self.input_ids[-1]]
        labels = [IGNORE, *self.labels[begin:end], IGNORE]
        return Example(ids, labels, (1, 1 + end - begin))


def make_encoder(tokenizer: Tokenizer, special: SpecialTokens, geometry: WindowGeometry) -> DocumentEncoder:
    return DocumentEncoder(tokenizer, special, geometry)


def document_examples(encoder: DocumentEncoder, encoded: EncodedDocument, document: Document,
                      tag_index: dict[str, int]) -> list[Example]:
    tags = encode_tags(encoded.anchors, document.spans)
    token_labels = [IGNORE if tag is None else tag_index[tag] for tag in tags]
    return [window_example(encoder, encoded, window, token_labels) for window in encoded.windows]


def window_example(encoder: DocumentEncoder, encoded: EncodedDocument, window: Window,
                   token_labels: Sequence[int]) -> Example:
    ids = encoder.input_ids(encoded, window)
    labels = [IGNORE] * len(ids)
    begin, end = window.centre_positions
    labels[begin:end] = token_labels[window.centre_start : window.centre_end]
    return Example(ids, labels, (begin, end))


def build_examples(encoder: DocumentEncoder, documents: Sequence[Document], tags: Sequence[str]) -> list[Example]:
    tag_index = {tag: index for index, tag in enumerate(tags)}
    unknown = sorted({span.label for document in documents for span in document.spans} - {
        tag.split("-", 1)[1] for tag in tags if tag != "O"})
    if unknown:
        raise ValueError(f"labels not in the tag set: {unknown}")
    encoded = encoder.encode_many([document.text for document in documents])
    return [
        example
        for document, encoding in zip(documents, encoded, strict=True)
        for example in document_examples(encoder, encoding, document, tag_index)
    ]


def epoch_batches(examples: Sequence[Example], batch_size: int, context_dropout: float, rng: random.Random,
                  *, pool: int = 1) -> list[list[Example]]:
    """Shuffled batches; each example loses its context with probability ``context_dropout``.

    With ``pool > 1`` batches are cut from runs of ``pool * batch_size`` shuffled examples sorted by
    length, and the batches shuffled again: windows with and without context differ several-fold in
    length, and mixing them would spend most of the compute on padding.
    """
    chosen = [example.without_context() if rng.random() < context_dropout else example for example in examples]
    rng.shuffle(chosen)
    if pool <= 1:
        return [chosen[start : start + batch_size] for start in range(0, len(chosen), batch_size)]
    batches: list[list[Example]] = []
    for begin in range(0, len(chosen), pool * batch_size):
        run = sorted(chosen[begin : begin + pool * batch_size], key=lambda example: len(example.input_ids))
        batches.extend(run[start : start + batch_size] for start in range(0, len(run), batch_size))
    rng.shuffle(batches)
    return batches
