"""Word-level decoding (rules word and word-viterbi): spans of whole words, whatever the subwords said."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.decode import FloatArray, decode_entities, document_entities, softmax
from app.text.labels import bioes_tags, encode_tags
from app.text.offsets import OffsetConverter, OffsetEncoding
from app.text.types import Entity, Span
from app.text.windows import token_anchors
from app.text.words import Words, word_units
from tests.text_support import check_entities, minilm_tokenizer, texts, token_offsets, unigram_tokenizer

TAGS = bioes_tags(["problem", "test", "treatment"])


# --- word-level decoding --------------------------------------------------------------------------


def tag_ids_of(tags: list[str]) -> list[int]:
    return [TAGS.index(tag) for tag in tags]


def test_word_decoding_keeps_words_whole() -> None:
    # the example: subword decoding cut "laparoscopic" into three spans of two types
    text = "laparoscopic appendectomy."
    offsets = [(0, 3), (3, 6), (6, 12), (12, 16), (16, 25), (25, 26)]
    anchors = token_anchors(text, offsets)
    ids = tag_ids_of(["S-treatment", "S-problem", "B-treatment", "I-test", "E-treatment", "O"])
    scores = [0.6, 0.1, 0.2, 0.3, 0.4, 0.9]
    subword = decode_entities(text, offsets, anchors, ids, scores, TAGS, "subword")
    assert [text[e.start : e.end] for e in subword] == ["lap", "aro", "scopic", "app", "endectomy"]
    # a word takes the tag of its first subword: S-treatment, then I-test continues nothing of its type
    word = decode_entities(text, offsets, anchors, ids, scores, TAGS, "word")
    assert [(text[e.start : e.end], e.label) for e in word] == [("laparoscopic", "treatment"), ("appendectomy", "test")]
    assert [e.score for e in word] == [pytest.approx(0.6), pytest.approx(0.3)]
    ids = tag_ids_of(["B-treatment", "I-problem", "I-test", "E-treatment", "I-test", "O"])
    [entity] = decode_entities(text, offsets, anchors, ids, scores, TAGS, "word")
    assert (entity.start, entity.end, entity.label, entity.score) == (0, 25, "treatment", pytest.approx(0.45))


def test_word_decoding_lets_punctuation_separate_spans() -> None:
    text = "chest x-ray"
    offsets = [(0, 5), (5, 7), (7, 8), (8, 11)]
    anchors = token_anchors(text, offsets)
    entities = decode_entities(text, offsets, anchors, tag_ids_of(["B-test", "E-test", "S-problem", "O"]),
                               [1.0] * 4, TAGS, "word")
    assert [(text[e.start : e.end], e.label) for e in entities] == [("chest x", "test"), ("-", "problem")]


def test_word_decoding_widens_offsets_that_end_inside_a_word() -> None:
    # an NFKC ligature split over two tokens that share its character: one word, one span
    for tags in (["S-problem", "S-test"], ["B-problem", "E-test"], ["O", "S-test"]):
        entities = decode_entities("ﬁne", [(0, 1), (0, 3)], [0, 0], tag_ids_of(tags), [1.0, 1.0], TAGS, "word")
        expected = [] if tags[0] == "O" else [(0, 3, "problem")]
        assert [(e.start, e.end, e.label) for e in entities] == expected
    # offsets that cover only part of a word (a tokenizer that dropped characters) still give whole words
    [entity] = decode_entities("xyz abc", [(1, 2), (4, 6)], [1, 4], tag_ids_of(["B-test", "E-test"]), [1.0, 1.0],
                               TAGS, "word")
    assert (entity.start, entity.end) == (0, 7)


def arbitrary_offsets(text: str, data: st.DataObject) -> list[tuple[int, int]]:
    """Token ranges no tokenizer promises anything about: ordered cuts, some tokens sharing characters."""
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=len(text) + 2))) | {0, len(text)})
    offsets = list(itertools.pairwise(cuts))
    shared = data.draw(st.lists(st.integers(0, max(0, len(offsets) - 1)), max_size=3)) if offsets else []
    for index in sorted(set(shared), reverse=True):
        start, end = offsets[index]
        offsets[index : index + 1] = [(start, start + 1), (start, end)]
    return offsets


def check_round_trips(text: str, entities: list[Entity]) -> None:
    """Every entity's offsets in each encoding convert back, and name the same characters there."""
    converter = OffsetConverter(text)
    encoded = {"utf16": text.encode("utf-16-le", "surrogatepass"), "utf8": text.encode("utf-8", "surrogatepass")}
    encodings: tuple[OffsetEncoding, ...] = ("codepoint", "utf16", "utf8")
    for entity in entities:
        for encoding in encodings:
            start, end = converter.convert(entity.start, encoding), converter.convert(entity.end, encoding)
            assert (converter.to_codepoint(start, encoding), converter.to_codepoint(end, encoding)) == (
                entity.start, entity.end)
            if encoding != "codepoint":
                width = 2 if encoding == "utf16" else 1
                piece = encoded[encoding][start * width : end * width]
                assert piece == text[entity.start : entity.end].encode(
                    "utf-16-le" if encoding == "utf16" else "utf-8", "surrogatepass")


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from(["unigram", "minilm", "arbitrary"]), st.data())
def test_word_decoding_never_cuts_a_word(text: str, tokenization: str, data: st.DataObject) -> None:
    """For any text, any tokenization and any tags: no span edge falls between two letters or digits
    of one word, and the offsets round-trip in all three encodings."""
    if tokenization == "arbitrary":
        offsets = arbitrary_offsets(text, data)
    else:
        _, offsets = token_offsets(unigram_tokenizer() if tokenization == "unigram" else minilm_tokenizer(), text)
    anchors = token_anchors(text, offsets)
    tag_ids = data.draw(st.lists(st.integers(0, len(TAGS) - 1), min_size=len(offsets), max_size=len(offsets)))
    scores = data.draw(st.lists(st.floats(0, 1), min_size=len(offsets), max_size=len(offsets)))
    entities = decode_entities(text, offsets, anchors, tag_ids, scores, TAGS, "word")
    check_entities(text, entities)
    words = Words.of(text)
    for entity in entities:
        assert not words.cuts(entity.start) and not words.cuts(entity.end), (entity, text)
    check_round_trips(text, entities)


@settings(max_examples=200, deadline=None)
@given(texts, st.data())
def test_a_word_takes_the_tag_and_score_of_its_first_subword(text: str, data: st.DataObject) -> None:
    _, offsets = token_offsets(unigram_tokenizer(), text)
    anchors = token_anchors(text, offsets)
    count = len(offsets)
    tag_ids = data.draw(st.lists(st.integers(0, len(TAGS) - 1), min_size=count, max_size=count))
    scores = data.draw(st.lists(st.floats(0, 1), min_size=count, max_size=count))
    units = word_units(Words.of(text), anchors)
    firsts = {units.index(unit) for unit in set(units) if unit is not None}
    # the tags and scores of a word's other subwords (and of blank tokens) change nothing
    other_ids = [tag if index in firsts else data.draw(st.integers(0, len(TAGS) - 1))
                 for index, tag in enumerate(tag_ids)]
    other_scores = [score if index in firsts else data.draw(st.floats(0, 1)) for index, score in enumerate(scores)]
    assert decode_entities(text, offsets, anchors, other_ids, other_scores, TAGS, "word") == decode_entities(
        text, offsets, anchors, tag_ids, scores, TAGS, "word")


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from(["unigram", "minilm"]), st.data())
def test_whole_word_spans_round_trip_through_subword_tags(text: str, tokenizer: str, data: st.DataObject) -> None:
    """Training's subword tags of whole-word spans decode, at word level, to the same spans."""
    _, offsets = token_offsets(unigram_tokenizer() if tokenizer == "unigram" else minilm_tokenizer(), text)
    anchors = token_anchors(text, offsets)
    words = Words.of(text)
    units = word_units(words, anchors)
    # spans over runs of whole tokens whose edges cut no word and that start at a unit's first token
    anchored = [index for index, position in enumerate(anchors) if position is not None]
    firsts = [index for index in anchored if units[index] != (units[index - 1] if index else None)]
    spans: list[Span] = []
    cursor = 0
    while cursor < len(firsts):
        cursor += data.draw(st.integers(0, 2))
        length = data.draw(st.integers(1, 3))
        if cursor + length > len(firsts):
            break
        first = firsts[cursor]
        last = (firsts[cursor + length] if cursor + length < len(firsts) else len(offsets)) - 1
        while anchors[last] is None:
            last -= 1
        start, end = anchors[first], offsets[last][1]
        assert start is not None
        while end > start and text[end - 1].isspace():
            end -= 1
        previous_end = spans[-1].end if spans else 0
        # tokens that share characters (an NFKC ligature, a control character) can put another
        # unit's anchor inside the range: such a span is not one the tokens can express
        own = all((start <= position < end) == (first <= index <= last)
                  for index, position in enumerate(anchors) if position is not None)
        if own and start >= previous_end and not words.cuts(start) and not words.cuts(end):
            spans.append(Span(start, end, data.draw(st.sampled_from(["problem", "test", "treatment"]))))
        cursor += length
    tags = encode_tags(anchors, spans)
    tag_ids = [0 if tag is None else TAGS.index(tag) for tag in tags]
    entities = decode_entities(text, offsets, anchors, tag_ids, [1.0] * len(tags), TAGS, "word")
    assert [Span(e.start, e.end, e.label) for e in entities] == spans


# --- word-level decoding along the most probable valid path (rule word-viterbi) --------------------


def one_hot_probs(tags: list[str], leaning: float = 0.6) -> FloatArray:
    """One member's probabilities ``[1, tokens, tags]``: each token leans to its tag, O has the rest."""
    probs = np.full((1, len(tags), len(TAGS)), (1.0 - leaning) / (len(TAGS) - 1), dtype=np.float32)
    for index, tag in enumerate(tags):
        probs[0, index, TAGS.index(tag)] = leaning
    return probs


def test_viterbi_drops_a_lone_article_that_repair_would_keep() -> None:
    # the demo's "a" tagged alone: its first word leans B-test, the next word leans O
    text = "had a fever"
    offsets = [(0, 3), (4, 5), (6, 11)]
    anchors = token_anchors(text, offsets)
    probs = one_hot_probs(["O", "B-test", "O"])
    word = document_entities(text, offsets, anchors, [probs], TAGS, "word")
    assert [text[e.start : e.end] for e in word] == ["a"]
    assert document_entities(text, offsets, anchors, [probs], TAGS, "word-viterbi") == []
    # where the argmax tags are valid BIOES, both rules give the same spans and scores
    probs = one_hot_probs(["O", "B-problem", "E-problem"])
    viterbi = document_entities(text, offsets, anchors, [probs], TAGS, "word-viterbi")
    assert viterbi == document_entities(text, offsets, anchors, [probs], TAGS, "word")
    assert [(text[e.start : e.end], e.label, e.score) for e in viterbi] == [("a fever", "problem", pytest.approx(0.6))]


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from(["unigram", "minilm", "arbitrary"]), st.integers(1, 3), st.integers(0, 2**32 - 1),
       st.data())
def test_viterbi_decoding_never_cuts_a_word(text: str, tokenization: str, members: int, seed: int,
                                            data: st.DataObject) -> None:
    """Any text, tokenization and probabilities (of one or more members): spans are ordered, disjoint,
    whole words, and round-trip in all three encodings."""
    if tokenization == "arbitrary":
        offsets = arbitrary_offsets(text, data)
    else:
        _, offsets = token_offsets(unigram_tokenizer() if tokenization == "unigram" else minilm_tokenizer(), text)
    anchors = token_anchors(text, offsets)
    logits = np.random.default_rng(seed).normal(0.0, 3.0, size=(members, len(offsets), len(TAGS))).astype(np.float32)
    entities = document_entities(text, offsets, anchors, [softmax(logits)], TAGS, "word-viterbi")
    check_entities(text, entities)
    words = Words.of(text)
    for entity in entities:
        assert not words.cuts(entity.start) and not words.cuts(entity.end), (entity, text)
    check_round_trips(text, entities)
