"""The BIOES scheme: spans to subword tags (training), tags back to spans with repair (serving)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.labels import (
    OUTSIDE,
    TokenSpan,
    best_bioes_path,
    bioes_tags,
    char_span,
    decode_token_spans,
    encode_tags,
    entity_types_of,
    split_tag,
)
from app.text.types import Span
from app.text.windows import token_anchors

TYPES = ["problem", "test", "treatment"]
TAGS = bioes_tags(TYPES)


# --- the tag list ---------------------------------------------------------------------------------


def test_bioes_tags_order() -> None:
    assert bioes_tags(["treatment", "problem", "test", "problem"]) == [
        "O",
        "B-problem", "I-problem", "E-problem", "S-problem",
        "B-test", "I-test", "E-test", "S-test",
        "B-treatment", "I-treatment", "E-treatment", "S-treatment",
    ]
    assert bioes_tags([]) == ["O"]
    assert bioes_tags(iter(["x-y"])) == ["O", "B-x-y", "I-x-y", "E-x-y", "S-x-y"]


@pytest.mark.parametrize("bad", ["", "O"])
def test_bioes_tags_rejects_reserved_types(bad: str) -> None:
    with pytest.raises(ValueError, match="empty or reserved"):
        bioes_tags(["problem", bad])


@settings(max_examples=200, deadline=None)
@given(st.sets(st.text(min_size=1, max_size=8).filter(lambda t: t != OUTSIDE), max_size=6))
def test_entity_types_round_trip(types: set[str]) -> None:
    tags = bioes_tags(types)
    assert tags[0] == OUTSIDE
    assert len(tags) == 1 + 4 * len(types)
    assert entity_types_of(tags) == sorted(types)
    for tag in tags[1:]:
        prefix, entity_type = split_tag(tag)
        assert prefix in "BIES" and entity_type in types


def test_split_tag() -> None:
    assert split_tag("O") == ("O", None)
    assert split_tag("B-problem") == ("B", "problem")
    assert split_tag("S-a-b") == ("S", "a-b")
    for bad in ["X-problem", "B-", "B", "", "o", "b-problem"]:
        with pytest.raises(ValueError, match="not a BIOES tag"):
            split_tag(bad)


# --- spans to tags --------------------------------------------------------------------------------


def words(text: str) -> list[tuple[int, int]]:
    offsets, start = [], None
    for index, char in enumerate(text + " "):
        if char.isspace() and start is not None:
            offsets.append((start, index))
            start = None
        elif not char.isspace() and start is None:
            start = index
    return offsets


def test_encode_tags_bioes() -> None:
    text = "chest pain and fever after aspirin"
    anchors = token_anchors(text, words(text))
    spans = [Span(0, 10, "problem"), Span(15, 20, "problem"), Span(27, 34, "treatment")]
    assert encode_tags(anchors, spans) == ["B-problem", "E-problem", "O", "S-problem", "O", "S-treatment"]
    # order of the spans given does not matter
    assert encode_tags(anchors, spans[::-1]) == encode_tags(anchors, spans)
    assert encode_tags(anchors, []) == ["O"] * 6


def test_encode_tags_three_tokens_and_adjacent_spans() -> None:
    text = "severe chest pain"
    anchors = token_anchors(text, words(text))
    assert encode_tags(anchors, [Span(0, 17, "problem")]) == ["B-problem", "I-problem", "E-problem"]
    # two spans that touch stay two spans
    assert encode_tags(anchors, [Span(0, 6, "problem"), Span(7, 17, "test")]) == ["S-problem", "B-test", "E-test"]


def test_encode_tags_blank_tokens_are_none_and_transparent() -> None:
    text = "chest \n pain"
    offsets = [(0, 5), (5, 8), (8, 12)]  # the middle token is whitespace only
    anchors = token_anchors(text, offsets)
    assert anchors == [0, None, 8]
    assert encode_tags(anchors, [Span(0, 12, "problem")]) == ["B-problem", None, "E-problem"]
    assert encode_tags(anchors, []) == ["O", None, "O"]


def test_encode_tags_uses_the_anchor_not_the_token_start() -> None:
    # SentencePiece folds the space before a word into the word's first token
    text = "no chest pain"
    offsets = [(0, 2), (2, 8), (8, 13)]
    anchors = token_anchors(text, offsets)
    assert anchors == [0, 3, 9]
    assert encode_tags(anchors, [Span(3, 13, "problem")]) == ["O", "B-problem", "E-problem"]


def test_encode_tags_partial_token_follows_its_anchor() -> None:
    text = "hypertension"
    offsets = [(0, 5), (5, 12)]
    anchors = token_anchors(text, offsets)
    # a span starting inside the first token does not hold its anchor (0): only the second token
    assert encode_tags(anchors, [Span(2, 12, "problem")]) == ["O", "S-problem"]
    # a span ending inside the second token still holds its anchor (5)
    assert encode_tags(anchors, [Span(0, 7, "problem")]) == ["B-problem", "E-problem"]


@st.composite
def tokenized_spans(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]], list[Span]]:
    """Words cut into subwords, whitespace either folded into tokens (SentencePiece), emitted as
    blank tokens, or dropped (WordPiece); spans are random disjoint runs of non-blank tokens."""
    style = draw(st.sampled_from(["sentencepiece", "blank", "wordpiece"]))
    text = ""
    offsets: list[tuple[int, int]] = []
    for _ in range(draw(st.integers(0, 14))):
        space = draw(st.sampled_from(["", " ", " ", "  ", "\n", "\r\n", "\t", "\u00a0"]))
        subwords = draw(st.lists(st.text(alphabet="abcXYZé.,😀\u0301", min_size=1, max_size=4), min_size=1, max_size=3))
        start = len(text)
        text += space
        if space and style == "blank":
            offsets.append((start, len(text)))
            start = len(text)
        elif style == "wordpiece":
            start = len(text)
        for subword in subwords:
            offsets.append((start, len(text) + len(subword)))
            text += subword
            start = len(text)
    anchors = token_anchors(text, offsets)
    anchored = [index for index, position in enumerate(anchors) if position is not None]
    spans: list[Span] = []
    cursor = 0
    while cursor < len(anchored):
        cursor += draw(st.integers(0, 3))
        length = draw(st.integers(1, 4))
        if cursor + length > len(anchored):
            break
        first, last = anchored[cursor], anchored[cursor + length - 1]
        start = anchors[first]
        assert start is not None
        spans.append(Span(start, offsets[last][1], draw(st.sampled_from(TYPES))))
        cursor += length
    return text, offsets, spans


@settings(max_examples=200, deadline=None)
@given(tokenized_spans(), st.randoms(use_true_random=False))
def test_spans_round_trip_through_tags(case: tuple[str, list[tuple[int, int]], list[Span]], rng: random.Random) -> None:
    text, offsets, spans = case
    anchors = token_anchors(text, offsets)
    shuffled = list(spans)
    rng.shuffle(shuffled)
    tags = encode_tags(anchors, shuffled)
    assert len(tags) == len(offsets)
    for tag, position in zip(tags, anchors, strict=True):
        assert (tag is None) == (position is None)
    scores = [rng.random() for _ in tags]
    decoded = decode_token_spans(tags, scores)
    recovered = []
    for token_span in decoded:
        characters = char_span(text, offsets, token_span)
        assert characters is not None
        recovered.append(Span(characters[0], characters[1], token_span.label))
    assert recovered == spans
    for token_span in decoded:
        inside = [scores[i] for i in range(token_span.first, token_span.last + 1) if tags[i] is not None]
        assert token_span.score == pytest.approx(sum(inside) / len(inside))


# --- tags to spans: BIOES repair ------------------------------------------------------------------

Case = tuple[list[str | None], list[tuple[int, int, str]]]

REPAIRS: list[Case] = [
    ([], []),
    (["O", "O"], []),
    ([None, None], []),
    (["S-A"], [(0, 0, "A")]),
    (["B-A", "E-A"], [(0, 1, "A")]),
    (["B-A", "I-A", "I-A", "E-A"], [(0, 3, "A")]),
    # a stray I-/E- starts a span
    (["I-A", "E-A"], [(0, 1, "A")]),
    (["O", "I-A", "I-A", "O"], [(1, 2, "A")]),
    (["E-A"], [(0, 0, "A")]),
    (["O", "E-A", "E-A"], [(1, 1, "A"), (2, 2, "A")]),
    (["I-A"], [(0, 0, "A")]),
    # a span keeps one type: a type change splits it
    (["B-A", "I-B", "E-B"], [(0, 0, "A"), (1, 2, "B")]),
    (["B-A", "E-B"], [(0, 0, "A"), (1, 1, "B")]),
    (["B-A", "I-A", "I-B", "I-A", "E-A"], [(0, 1, "A"), (2, 2, "B"), (3, 4, "A")]),
    # B and S always open a new span; E and S close
    (["B-A", "B-A", "E-A"], [(0, 0, "A"), (1, 2, "A")]),
    (["B-A", "S-A"], [(0, 0, "A"), (1, 1, "A")]),
    (["S-A", "I-A", "E-A"], [(0, 0, "A"), (1, 2, "A")]),
    (["S-A", "E-A"], [(0, 0, "A"), (1, 1, "A")]),
    (["B-A", "E-A", "I-A", "E-A"], [(0, 1, "A"), (2, 3, "A")]),
    (["I-A", "B-A"], [(0, 0, "A"), (1, 1, "A")]),
    # an unterminated span ends at its last token; O closes a span
    (["B-A", "I-A"], [(0, 1, "A")]),
    (["B-A"], [(0, 0, "A")]),
    (["B-A", "O", "E-A"], [(0, 0, "A"), (2, 2, "A")]),
    (["B-A", "I-A", "O", "I-A"], [(0, 1, "A"), (3, 3, "A")]),
    # None (blank tokens) is transparent
    (["B-A", None, "E-A"], [(0, 2, "A")]),
    ([None, "I-A", None], [(1, 1, "A")]),
    (["B-A", None, None, "I-A", None, "E-A", None], [(0, 5, "A")]),
    (["S-A", None, "S-A"], [(0, 0, "A"), (2, 2, "A")]),
    (["B-A", None, "O", None, "E-A"], [(0, 0, "A"), (4, 4, "A")]),
    (["B-A", None, "I-B"], [(0, 0, "A"), (2, 2, "B")]),
    (["B-A", None], [(0, 0, "A")]),
]


@pytest.mark.parametrize(("tags", "expected"), REPAIRS)
def test_bioes_repair(tags: list[str | None], expected: list[tuple[int, int, str]]) -> None:
    scores = [0.1 * (index + 1) for index in range(len(tags))]
    spans = decode_token_spans(tags, scores)
    assert [(span.first, span.last, span.label) for span in spans] == expected
    for span in spans:
        inside = [scores[i] for i in range(span.first, span.last + 1) if tags[i] is not None]
        assert span.score == pytest.approx(sum(inside) / len(inside))


def test_blank_token_scores_are_ignored() -> None:
    [span] = decode_token_spans(["B-A", None, "E-A"], [0.5, 0.0, 1.0])
    assert span == TokenSpan(0, 2, "A", 0.75)


def test_decode_rejects_unknown_tags() -> None:
    with pytest.raises(ValueError, match="not a BIOES tag"):
        decode_token_spans(["B-A", "X-A"], [1.0, 1.0])


ARBITRARY_TAGS = st.lists(st.one_of(st.none(), st.sampled_from(bioes_tags(["A", "B"]))), max_size=40)


def canonical_tags(length: int, spans: list[TokenSpan], blanks: set[int]) -> list[str | None]:
    """Well-formed BIOES for the given spans, keeping the blank tokens blank."""
    tags: list[str | None] = [None if index in blanks else OUTSIDE for index in range(length)]
    for span in spans:
        members = [index for index in range(span.first, span.last + 1) if index not in blanks]
        if len(members) == 1:
            tags[members[0]] = f"S-{span.label}"
        else:
            tags[members[0]] = f"B-{span.label}"
            for index in members[1:-1]:
                tags[index] = f"I-{span.label}"
            tags[members[-1]] = f"E-{span.label}"
    return tags


@settings(max_examples=200, deadline=None)
@given(ARBITRARY_TAGS, st.randoms(use_true_random=False))
def test_decoded_spans_are_ordered_disjoint_and_cover_every_entity_tag(
    tags: list[str | None], rng: random.Random
) -> None:
    scores = [rng.random() for _ in tags]
    spans = decode_token_spans(tags, scores)
    owner: dict[int, int] = {}
    previous_last = -1
    for number, span in enumerate(spans):
        assert previous_last < span.first <= span.last < len(tags)
        previous_last = span.last
        first_tag, last_tag = tags[span.first], tags[span.last]
        assert first_tag is not None and first_tag != OUTSIDE
        assert last_tag is not None and last_tag != OUTSIDE
        inside = [index for index in range(span.first, span.last + 1) if tags[index] is not None]
        for position, index in enumerate(inside):
            tag = tags[index]
            assert tag is not None
            prefix, entity_type = split_tag(tag)
            assert entity_type == span.label
            if position > 0:
                assert prefix in ("I", "E")  # only I/E continue a span
            if position < len(inside) - 1:
                assert prefix not in ("E", "S")  # E and S close it
            owner[index] = number
        assert 0.0 <= span.score <= 1.0
        assert span.score == pytest.approx(sum(scores[i] for i in inside) / len(inside))
    for index, tag in enumerate(tags):
        if tag is not None and tag != OUTSIDE:
            assert index in owner, index
    # repair is a fixed point: re-encoding the spans as well-formed tags decodes to the same spans
    blanks = {index for index, tag in enumerate(tags) if tag is None}
    again = decode_token_spans(canonical_tags(len(tags), spans, blanks), scores)
    assert [(s.first, s.last, s.label) for s in again] == [(s.first, s.last, s.label) for s in spans]


# --- token spans to characters --------------------------------------------------------------------


def test_char_span_trims_whitespace() -> None:
    text = "no  chest pain \n"
    offsets = [(0, 2), (2, 9), (9, 14), (14, 16)]
    assert char_span(text, offsets, TokenSpan(1, 2, "A", 1.0)) == (4, 14)
    assert char_span(text, offsets, TokenSpan(1, 3, "A", 1.0)) == (4, 14)
    assert char_span(text, offsets, TokenSpan(0, 0, "A", 1.0)) == (0, 2)
    assert char_span(text, offsets, TokenSpan(3, 3, "A", 1.0)) is None


def test_char_span_counts_code_points() -> None:
    text = "\U0001f600 café\u0301 x"
    offsets = [(0, 1), (1, 7), (7, 9)]
    assert char_span(text, offsets, TokenSpan(1, 1, "A", 1.0)) == (2, 7)
    assert text[2:7] == "café\u0301"


# --- the most probable valid path (rule word-viterbi) ---------------------------------------------


def valid_bioes(tags: list[str]) -> bool:
    """Whether a tag sequence is valid BIOES: every span opened by B is continued and closed in type."""
    open_type: str | None = None
    for tag in tags:
        prefix, entity_type = split_tag(tag)
        continues = prefix in ("I", "E")
        if continues != (open_type is not None) or (continues and entity_type != open_type):
            return False
        open_type = entity_type if prefix in ("B", "I") else None
    return open_type is None


SMALL_TAGS = bioes_tags(["problem", "test"])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_best_path_is_the_best_valid_sequence(length: int, seed: int) -> None:
    """Against brute force over every tag sequence of a short text (9 tags, up to 5 words)."""
    log_probs = np.log(np.random.default_rng(seed).dirichlet(np.ones(len(SMALL_TAGS)), size=length))
    path = best_bioes_path(log_probs, SMALL_TAGS)
    assert valid_bioes([SMALL_TAGS[tag] for tag in path])
    best = max(sum(log_probs[step, tag] for step, tag in enumerate(sequence))
               for sequence in itertools.product(range(len(SMALL_TAGS)), repeat=length)
               if valid_bioes([SMALL_TAGS[tag] for tag in sequence]))
    assert sum(log_probs[step, tag] for step, tag in enumerate(path)) == pytest.approx(best)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TAGS), min_size=1, max_size=30), st.integers(0, 2**32 - 1))
def test_a_valid_argmax_sequence_is_the_path(sequence: list[str], seed: int) -> None:
    """Without transition scores the per-word best tags, when valid, are the optimum itself."""
    if not valid_bioes(sequence):
        return
    log_probs = np.log(np.random.default_rng(seed).dirichlet(np.ones(len(TAGS)), size=len(sequence)) * 0.5)
    for step, tag in enumerate(sequence):
        log_probs[step, TAGS.index(tag)] = np.log(0.6)  # above the rest (they share 0.5)
    assert [TAGS[tag] for tag in best_bioes_path(log_probs, TAGS)] == sequence


def test_a_lone_begin_stays_outside_unless_a_span_is_likelier() -> None:
    # "a" leans B-test (0.6), nothing after it continues: repair would make "a" a span, the path does not
    probs = np.full((3, len(TAGS)), 0.01)
    probs[0, TAGS.index("B-test")], probs[0, 0], probs[1:, 0] = 0.6, 0.3, 0.9
    assert [TAGS[tag] for tag in best_bioes_path(np.log(probs), TAGS)] == ["O", "O", "O"]
    probs[0, TAGS.index("S-test")] = 0.4  # a single-word test is now likelier than nothing
    assert [TAGS[tag] for tag in best_bioes_path(np.log(probs), TAGS)] == ["S-test", "O", "O"]


def test_best_path_edge_cases() -> None:
    assert best_bioes_path(np.zeros((0, len(TAGS))), TAGS) == []
    with pytest.raises(ValueError, match="3 log-probability columns for 13 tags"):
        best_bioes_path(np.zeros((2, 3)), TAGS)
    # a scheme without S tags: a one-word span is impossible, so the word stays O
    no_single = [tag for tag in SMALL_TAGS if not tag.startswith("S-")]
    probs = np.full((1, len(no_single)), 0.1)
    probs[0, no_single.index("B-test")] = 0.9
    assert best_bioes_path(np.log(probs), no_single) == [0]
