"""Words (runs of letters and digits) and the units word-level decoding groups tokens into."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.windows import token_anchors
from app.text.words import Words, word_units
from tests.text_support import texts, token_offsets, unigram_tokenizer


def spelled(text: str) -> list[str]:
    words = Words.of(text)
    return [text[start:end] for start, end in zip(words.starts, words.ends, strict=True)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a chest x-ray", ["a", "chest", "x", "ray"]),
        ("L4-L5 disc, HbA1c 8.1%", ["L4", "L5", "disc", "HbA1c", "8", "1"]),
        ("methicillin-resistant", ["methicillin", "resistant"]),
        ("Hämoglobin ﬁne ①", ["Hämoglobin", "ﬁne", "①"]),
        ("snake_case", ["snake", "case"]),  # the underscore separates: [^\W_]
        ("na\u0308ive", ["na", "ive"]),  # a combining mark is not a letter
        ("  \n", []),
        ("", []),
    ],
)
def test_words_are_runs_of_letters_and_digits(text: str, expected: list[str]) -> None:
    assert spelled(text) == expected


def test_cuts_and_widen() -> None:
    text = "a chest x-ray"
    words = Words.of(text)
    assert [boundary for boundary in range(len(text) + 1) if words.cuts(boundary)] == [3, 4, 5, 6, 11, 12]
    assert words.run_at(0) == 0 and words.run_at(1) is None and words.run_at(9) is None
    assert words.widen(4, 6) == (2, 7)  # "he" -> "chest"
    assert words.widen(2, 7) == (2, 7)
    assert words.widen(8, 9) == (8, 9)  # "x" alone; the hyphen is a boundary
    assert words.widen(10, 12) == (10, 13)  # "ra" -> "ray"
    assert words.widen(0, len(text)) == (0, len(text))


@settings(max_examples=300, deadline=None)
@given(texts, st.data())
def test_widen_gives_whole_words_and_the_least_growth(text: str, data: st.DataObject) -> None:
    words = Words.of(text)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    wide_start, wide_end = words.widen(start, end)
    assert wide_start <= start <= end <= wide_end
    assert not words.cuts(wide_start) and not words.cuts(wide_end)
    # only letters and digits of the cut words were added
    assert re.fullmatch(r"[^\W_]*", text[wide_start:start]) and re.fullmatch(r"[^\W_]*", text[end:wide_end])
    # the definition, checked against the regular expression directly
    for boundary in range(len(text) + 1):
        inside = 0 < boundary < len(text) and all(re.fullmatch(r"[^\W_]", c) for c in text[boundary - 1 : boundary + 1])
        assert words.cuts(boundary) == inside


def test_units_group_the_subwords_of_a_word() -> None:
    # the example: "laparoscopic appendectomy" in SentencePiece pieces
    text = "laparoscopic appendectomy."
    offsets = [(0, 3), (3, 6), (6, 12), (12, 16), (16, 25), (25, 26)]
    assert word_units(Words.of(text), token_anchors(text, offsets)) == [0, 0, 0, 1, 1, 2]
    # punctuation is its own unit; a blank token belongs to none
    text = "x-ray \n ok"
    offsets = [(0, 1), (1, 2), (2, 5), (5, 8), (8, 10)]
    assert word_units(Words.of(text), token_anchors(text, offsets)) == [0, 1, 2, None, 3]
    # tokens sharing a character (NFKC "ﬁ" split in two) stay one unit
    assert word_units(Words.of("ﬁne"), token_anchors("ﬁne", [(0, 1), (0, 3)])) == [0, 0]
    # a token that starts inside a word whose start an earlier token holds continues that unit
    assert word_units(Words.of("(seeing"), token_anchors("(seeing", [(0, 4), (4, 7)])) == [0, 0]


@settings(max_examples=200, deadline=None)
@given(texts)
def test_units_follow_words_with_a_real_tokenizer(text: str) -> None:
    _, offsets = token_offsets(unigram_tokenizer(), text)
    anchors = token_anchors(text, offsets)
    words = Words.of(text)
    units = word_units(words, anchors)
    anchored = [(index, position) for index, position in enumerate(anchors) if position is not None]
    numbered = [units[index] for index, _ in anchored]
    assert numbered == sorted(numbered) and (not numbered or numbered[0] == 0)
    assert all(later - earlier <= 1 for earlier, later in itertools.pairwise(numbered))
    for (index, position), (next_index, next_position) in itertools.pairwise(anchored):
        if words.run_at(position) is not None and words.run_at(position) == words.run_at(next_position):
            assert units[index] == units[next_index]  # two pieces of one word: one unit
        if words.run_at(next_position) is None:
            assert units[next_index] == units[index] + 1  # punctuation starts its own unit
