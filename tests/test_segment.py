"""Sentence segmentation: character ranges that partition the non-whitespace text, split by rules."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.text.segment import ABBREVIATIONS, split_sentences
from tests.text_support import SPACES, clinical_text, texts

LINE_BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x0b", "\x0c", "\x85", "\x1c", "\x1d", "\x1e"]


def check_ranges(text: str, ranges: list[tuple[int, int]]) -> None:
    """Every invariant split_sentences promises."""
    previous_end = -1
    covered: set[int] = set()
    for start, end in ranges:
        assert 0 <= start < end <= len(text), (start, end)
        # ordered and disjoint, with at least one whitespace character between neighbours
        assert start > previous_end
        previous_end = end
        # trimmed
        assert not text[start].isspace() and not text[end - 1].isspace()
        # boundaries fall on whitespace (or the ends of the text)
        assert start == 0 or text[start - 1].isspace()
        assert end == len(text) or text[end].isspace()
        # a line break always ends a sentence
        assert not any(text[start:end].find(br) >= 0 for br in LINE_BREAKS), text[start:end]
        covered.update(range(start, end))
    non_blank = {index for index, char in enumerate(text) if not char.isspace()}
    assert non_blank <= covered
    # no range holds a character outside the text's non-blank characters except inner whitespace
    assert all(text[index].isspace() for index in covered - non_blank)


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


@settings(max_examples=200, deadline=None)
@given(texts)
def test_invariants_hold_for_any_text(text: str) -> None:
    ranges = split_sentences(text)
    check_ranges(text, ranges)
    assert split_sentences(text) == ranges  # pure and deterministic


@settings(max_examples=200, deadline=None)
@given(st.lists(clinical_text, min_size=1, max_size=4), st.sampled_from(LINE_BREAKS))
def test_line_breaks_always_end_sentences(lines: list[str], line_break: str) -> None:
    text = line_break.join(lines)
    ranges = split_sentences(text)
    check_ranges(text, ranges)
    # a range never straddles the break: each range lies inside one of the lines
    line_spans = []
    position = 0
    for line in lines:
        line_spans.append((position, position + len(line)))
        position += len(line) + len(line_break)
    for start, end in ranges:
        assert any(line_start <= start and end <= line_end for line_start, line_end in line_spans)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", "B", "1", ".", "!", "?", ")", '"', " ", "\n", "\u00a0"]), max_size=80))
def test_invariants_on_punctuation_heavy_text(text: str) -> None:
    check_ranges(text, split_sentences(text))


def test_empty_and_blank_text() -> None:
    assert split_sentences("") == []
    for blank in [" ", "\n", "\r\n\r\n", " \t\u00a0\u3000\u2028 ", "".join(SPACES)]:
        assert split_sentences(blank) == []


def test_simple_split() -> None:
    text = "He was seen. She left."
    assert split_sentences(text) == [(0, 12), (13, 22)]
    assert sentences(text) == ["He was seen.", "She left."]


def test_split_keeps_surrounding_whitespace_out() -> None:
    text = "  He was seen.   She left.  "
    assert sentences(text) == ["He was seen.", "She left."]
    assert split_sentences(text) == [(2, 14), (17, 26)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Really? Yes! Done.", ["Really?", "Yes!", "Done."]),
        ("BP was 120/80. 2 doses given.", ["BP was 120/80.", "2 doses given."]),
        ('He said "stop." Then he left.', ['He said "stop."', "Then he left."]),
        ("Stable (see above.) Next visit in May.", ["Stable (see above.)", "Next visit in May."]),
        ('Pain resolved. "Better" he says.', ["Pain resolved.", '"Better" he says.']),
        ("Pain resolved. (Improved.)", ["Pain resolved.", "(Improved.)"]),
        ("Wait... Then it stopped.", ["Wait...", "Then it stopped."]),
        ("Pain?! Maybe.", ["Pain?!", "Maybe."]),
    ],
)
def test_splits_after_stops_before_capitals_and_digits(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Dr. Smith saw the patient.",
        "DR. Smith saw the patient.",
        "Seen by Mr. Jones and Mrs. Brown today.",
        "Give an NSAID, e.g. Aspirin, twice daily.",
        "Give an NSAID, e.g. aspirin, twice daily.",
        "Take one i.e. One tablet.",
        "Take 1 tab b.i.d. With food.",
        "Pt. Seen in clinic.",
        "Seen by J. Smith in clinic.",
        "Dose 5 mg. Twice daily.",
        "Appt on Jan. 5 at noon.",
        "He was seen. she left.",  # lower case after the stop: conservative, no split
        "He was seen.She left.",  # no whitespace: no split, tokens never straddle a boundary
        "Value 3.5 Units",
        "See fig. 2 for details.",
    ],
)
def test_no_split(text: str) -> None:
    assert split_sentences(text) == [(0, len(text))]


def test_every_abbreviation_blocks_a_split() -> None:
    for abbreviation in sorted(ABBREVIATIONS):
        text = f"Seen {abbreviation}. Smith"
        assert split_sentences(text) == [(0, len(text))], abbreviation


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_each_line_break_ends_a_sentence(line_break: str) -> None:
    text = f"chest pain{line_break}denies fever"
    assert sentences(text) == ["chest pain", "denies fever"]


@pytest.mark.parametrize("line_break", LINE_BREAKS)
def test_abbreviation_does_not_bridge_a_line_break(line_break: str) -> None:
    assert sentences(f"Dr.{line_break}Smith") == ["Dr.", "Smith"]
    assert sentences(f"no stop here{line_break}lower case") == ["no stop here", "lower case"]


def test_crlf_is_one_break_and_blank_lines_vanish() -> None:
    text = "HISTORY:\r\n\r\n  Pt seen.\r\n\r\nPLAN:\r\nf/u"
    assert sentences(text) == ["HISTORY:", "Pt seen.", "PLAN:", "f/u"]
    check_ranges(text, split_sentences(text))


def test_lone_carriage_return_and_unicode_separators() -> None:
    text = "a\rb\u2028c\u2029d\x85e"
    assert sentences(text) == ["a", "b", "c", "d", "e"]


def test_non_breaking_and_ideographic_spaces_are_whitespace() -> None:
    text = "He was seen.\u00a0She left.\u3000Then 2 more."
    assert sentences(text) == ["He was seen.", "She left.", "Then 2 more."]


@pytest.mark.parametrize(
    "text",
    [
        "\U0001f600. \U0001f600\U0001f600 \U0001f600.",
        "Pain\u0301. Na\u0308ive. E\u0301",
        "\u05e9\u05dc\u05d5\u05dd. \u0627\u0644\u0645 \u202eRTL\u202c. A",
        "x\u200by\u200d. \ufeffZ\u00ad. \u2060W",
        "\x00\x01\x02. \x7f\x1f A\x08. \x1b[31mB",
        "\ud800 lone surrogate. A",
        "a" * 50_000,
        "a" * 5_000 + ". " + "B" * 5_000,
        "İstanbul. ß. Ω. \U0001d400. ①. ﬁ.",
        " \u2028\u2029 . ! ? ",
        ".",
        "?!",
        "\n.\n",
    ],
)
def test_hostile_text_never_crashes(text: str) -> None:
    check_ranges(text, split_sentences(text))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "text",
    [
        "." * 200_000,
        "!?" * 100_000,
        "." * 50_000 + " " * 50_000 + "a",
        "a." + " " * 200_000 + "b",
        '."' * 100_000,
        "x. " * 66_000 + "A",
        "a. A" * 50_000,
        "\r\n" * 100_000,
        "a" * 200_000,
    ],
)
def test_long_hostile_text_is_linear(text: str) -> None:
    """A document at the request size limit (200,000 characters) segments in well under a second."""
    started = time.perf_counter()
    ranges = split_sentences(text)
    elapsed = time.perf_counter() - started
    check_ranges(text, ranges)
    assert elapsed < 2.0, f"{elapsed:.2f}s for {len(text)} characters"
