"""The trained classifier's input: the sentence around a span, with the span between marker tokens.

Pure (a ``tokenizers`` tokenizer and lists): training and serving build every row with these
functions, so the server feeds the classifier what it was trained on::

    [CLS] left context [E] span [/E] right context [SEP]

Each sentence is tokenized once, offsets into the original text; the markers are token ids
inserted at token boundaries (never text inserted into the note). A row holds at most
``max_length`` ids: the span first, then context taken evenly from both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tokenizers import Tokenizer

from app.text.segment import split_sentences


@dataclass(frozen=True)
class Markers:
    """The ids a row is built with (the marker ids are tokens added to the classifier's vocabulary)."""

    cls_id: int
    sep_id: int
    start_id: int
    end_id: int


def sentence_of(sentences: Sequence[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """The character range that decides a span: the sentences it touches (usually one)."""
    touching = [(s, e) for s, e in sentences if s < end and start < e]
    if not touching:  # a span of only whitespace between sentences: its own range
        return start, end
    return touching[0][0], touching[-1][1]


def group_by_sentence(text: str, spans: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """Span indices per sentence range (project segmentation), in order of first appearance."""
    sentences = split_sentences(text)
    groups: dict[tuple[int, int], list[int]] = {}
    for index, (start, end) in enumerate(spans):
        groups.setdefault(sentence_of(sentences, start, end), []).append(index)
    return groups


def marked_ids(ids: Sequence[int], offsets: Sequence[tuple[int, int]], span: tuple[int, int], max_length: int,
               markers: Markers) -> list[int]:
    """One row: the tokens overlapping ``span`` between the markers, context around them, CLS/SEP.

    ``offsets`` are the tokens' character ranges in the same coordinates as ``span``; tokens without
    characters are skipped. The span itself is cut (from its end) only if it alone exceeds the row.
    """
    start, end = span
    before: list[int] = []
    inside: list[int] = []
    after: list[int] = []
    for token, (begin, finish) in zip(ids, offsets, strict=True):
        if finish <= begin:
            continue
        if finish <= start:
            before.append(token)
        elif begin >= end:
            after.append(token)
        else:
            inside.append(token)
    budget = max(1, max_length - 4)
    inside = inside[:budget]
    room = budget - len(inside)
    left = min(len(before), max(room // 2, room - len(after)))
    right = min(len(after), room - left)
    return [markers.cls_id, *before[len(before) - left:], markers.start_id, *inside, markers.end_id,
            *after[:right], markers.sep_id]


def document_rows(tokenizer: Tokenizer, text: str, spans: Sequence[tuple[int, int]], max_length: int,
                  markers: Markers) -> list[list[int]]:
    """One row per span of ``text`` (same order); each sentence holding spans is tokenized once."""
    groups = group_by_sentence(text, spans)
    ranges = list(groups)
    encodings = tokenizer.encode_batch([text[begin:finish] for begin, finish in ranges], add_special_tokens=False)
    rows: list[list[int]] = [[] for _ in spans]
    for (begin, _), encoding, indices in zip(ranges, encodings, groups.values(), strict=True):
        offsets = [(int(a) + begin, int(b) + begin) for a, b in encoding.offsets]
        for index in indices:
            rows[index] = marked_ids(encoding.ids, offsets, spans[index], max_length, markers)
    return rows
