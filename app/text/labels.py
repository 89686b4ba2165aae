"""The BIOES label scheme: spans to subword tags for training, tags back to spans for serving."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.text.types import Span

OUTSIDE = "O"
PREFIXES = ("B", "I", "E", "S")


def bioes_tags(entity_types: Iterable[str]) -> list[str]:
    """The ordered tag list of a scheme: ``O`` first, then B/I/E/S for each type, sorted."""
    types = sorted(set(entity_types))
    for entity_type in types:
        if not entity_type or entity_type == OUTSIDE:
            raise ValueError(f"entity type {entity_type!r} is empty or reserved")
    return [OUTSIDE] + [f"{prefix}-{entity_type}" for entity_type in types for prefix in PREFIXES]


def entity_types_of(tags: Sequence[str]) -> list[str]:
    return sorted({tag.split("-", 1)[1] for tag in tags if tag != OUTSIDE})


def split_tag(tag: str) -> tuple[str, str | None]:
    if tag == OUTSIDE:
        return OUTSIDE, None
    prefix, _, entity_type = tag.partition("-")
    if prefix not in PREFIXES or not entity_type:
        raise ValueError(f"not a BIOES tag: {tag!r}")
    return prefix, entity_type


def encode_tags(anchors: Sequence[int | None], spans: Sequence[Span]) -> list[str | None]:
    """Each subword's BIOES tag, from the span holding its anchor (first non-blank) character.

    Blank tokens (no anchor) get None: they carry no character, so they are neither trained on
    nor decoded. Spans must not overlap; readers resolve overlaps before this.
    """
    ordered = sorted(spans, key=lambda span: (span.start, span.end))
    members: list[list[int]] = [[] for _ in ordered]
    starts = [span.start for span in ordered]
    for index, position in enumerate(anchors):
        if position is None:
            continue
        candidate = bisect_right(starts, position) - 1
        if candidate >= 0 and position < ordered[candidate].end:
            members[candidate].append(index)
    tags: list[str | None] = [None if position is None else OUTSIDE for position in anchors]
    for span, indices in zip(ordered, members, strict=False):
        if len(indices) == 1:
            tags[indices[0]] = f"S-{span.label}"
        elif indices:
            tags[indices[0]] = f"B-{span.label}"
            for index in indices[1:-1]:
                tags[index] = f"I-{span.label}"
            tags[indices[-1]] = f"E-{span.label}"
    return tags


@dataclass(frozen=True)
class TokenSpan:
    """A decoded span in token indices ``[start, end]`` (inclusive) with its mean probability."""

    first: int
    last: int
    label: str
    score: float


def decode_token_spans(tags: Sequence[str | None], scores: Sequence[float]) -> list[TokenSpan]:
    """Tags to spans with BIOES repair: a stray I-/E- starts a span, and a span keeps one type.

    None entries (blank tokens) are transparent: they neither end nor extend a span.
    """
    spans: list[TokenSpan] = []
    open_label: str | None = None
    open_first = open_last = 0
    open_scores: list[float] = []

    def close() -> None:
        nonlocal open_label
        if open_label is not None:
            spans.append(TokenSpan(open_first, open_last, open_label, sum(open_scores) / len(open_scores)))
        open_label = None

    for index, tag in enumerate(tags):
        if tag is None:
            continue
        prefix, entity_type = split_tag(tag)
        continues = open_label is not None and open_label == entity_type and prefix in ("I", "E")
        if not continues:
            close()
            if entity_type is None:
                continue
            open_label, open_first, open_scores = entity_type, index, []
        open_last = index
        open_scores.append(float(scores[index]))
        if prefix in ("E", "S"):
            close()
    close()
    return spans


def unit_tokens(units: Sequence[int | None]) -> tuple[list[int], list[int]]:
    """The first and last token of each unit (a word's tokens, see ``app.text.words.word_units``)."""
    first_token: list[int] = []
    last_token: list[int] = []
    for index, unit in enumerate(units):
        if unit is None:
            continue
        if unit == len(first_token):
            first_token.append(index)
            last_token.append(index)
        else:
            last_token[unit] = index
    return first_token, last_token


def unit_spans_to_tokens(spans: Sequence[TokenSpan], first_token: Sequence[int], last_token: Sequence[int]
                         ) -> list[TokenSpan]:
    """Spans over units as token spans, from a unit's first token to the last token of its last unit."""
    return [TokenSpan(first_token[span.first], last_token[span.last], span.label, span.score) for span in spans]


def decode_word_spans(units: Sequence[int | None], tags: Sequence[str | None], scores: Sequence[float]
                      ) -> list[TokenSpan]:
    """Word-level decoding: each unit takes the tag and score of its first token, its other tokens
    continue it; then the same BIOES repair. A span never ends part-way through a word."""
    first_token, last_token = unit_tokens(units)
    unit_spans = decode_token_spans([tags[index] for index in first_token],
                                    [float(scores[index]) for index in first_token])
    return unit_spans_to_tokens(unit_spans, first_token, last_token)


def char_span(text: str, offsets: Sequence[tuple[int, int]], span: TokenSpan) -> tuple[int, int] | None:
    """Character range of a token span, trimmed of whitespace; None if nothing is left."""
    start = offsets[span.first][0]
    end = offsets[span.last][1]
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def best_bioes_path(log_probs: npt.NDArray[np.floating], tags: Sequence[str]) -> list[int]:
    """The most probable tag sequence that is valid BIOES (a Viterbi path), as tag indices.

    Valid: a span opens with B or S, I and E continue a B or I of its own type, and nothing is left
    open at the end. Argmax-then-repair turns a lone ``B`` on "a" into the span "a"; here the word
    stays ``O`` unless a whole span is more probable. The BIOES structure leaves two kinds of state:
    closed (after O, E or S of any type) and open in type x (after B-x or I-x), so each step costs
    a few comparisons per type. A scheme lacking some prefix treats it as impossible.
    """
    count, width = log_probs.shape
    if width != len(tags):
        raise ValueError(f"{width} log-probability columns for {len(tags)} tags")
    if count == 0:
        return []
    scores = np.concatenate([np.asarray(log_probs, dtype=np.float64), np.full((count, 1), -np.inf)], axis=1)
    position: dict[str, int] = {tag: index for index, tag in enumerate(tags)}
    types = entity_types_of(tags)
    missing = int(width)  # the -inf column: a tag the scheme lacks
    column: dict[str, list[int]] = {
        prefix: [position.get(f"{prefix}-{name}", missing) for name in types] for prefix in PREFIXES
    }
    standalone = np.array([position.get(OUTSIDE, missing), *column["S"]], dtype=np.int64)  # O or S: closed to closed
    chosen = standalone[np.argmax(scores[:, standalone], axis=1)]
    standalone_score = scores[np.arange(count), chosen].tolist()
    begin, inside, end = (scores[:, column[prefix]].tolist() for prefix in ("B", "I", "E"))
    kinds = range(len(types))
    closed = standalone_score[0]
    opened = list(begin[0])
    closed_from: list[int] = [-1]  # per step: -1 = an O/S from closed, x = E-x from open x
    opened_from: list[list[bool]] = [[False] * len(types)]  # per step and type: True = I-x, False = B-x
    for step in range(1, count):
        stay = closed + standalone_score[step]
        source, best = -1, stay
        ends, begins, insides = end[step], begin[step], inside[step]
        for kind in kinds:
            candidate = opened[kind] + ends[kind]
            if candidate > best:
                source, best = kind, candidate
        continued = [opened[kind] + insides[kind] > closed + begins[kind] for kind in kinds]
        opened = [opened[kind] + insides[kind] if continued[kind] else closed + begins[kind] for kind in kinds]
        closed = best
        closed_from.append(source)
        opened_from.append(continued)
    path: list[int] = []
    state = -1  # -1: closed, else the open type
    for step in range(count - 1, -1, -1):
        if state < 0:
            source = closed_from[step]
            path.append(int(chosen[step]) if source < 0 else column["E"][source])
            state = source
        else:
            inside_step = opened_from[step][state]
            path.append(column["I" if inside_step else "B"][state])
            state = state if inside_step else -1
    return path[::-1]
