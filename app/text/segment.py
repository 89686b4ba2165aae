"""Sentence segmentation as character ranges: the text itself is never changed.

Newlines end sentences (clinical notes put one statement per line far more often than not);
inside a line a conservative rule splits after ``.``, ``!`` or ``?`` followed by whitespace and an
upper-case letter or digit, unless the word before the stop is a known abbreviation or an initial.
Boundaries always fall on whitespace, so no subword token ever straddles two sentences.
"""

from __future__ import annotations

import re

SEGMENTER_NAME = "clinx-rules"
SEGMENTER_VERSION = "1"

# Words that end with a period without ending a sentence (compared lower-cased, without the dot).
ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "sr",
        "jr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "appt",
        "apt",
        "dept",
        "est",
        "fig",
        "no",
        "nos",
        "pt",
        "pts",
        "hx",
        "dx",
        "rx",
        "tx",
        "sx",
        "fx",
        "bx",
        "h/o",
        "s/p",
        "c/o",
        "q.d",
        "b.i.d",
        "t.i.d",
        "q.i.d",
        "p.o",
        "p.r",
        "i.v",
        "i.m",
        "s.c",
        "q.h.s",
        "p.r.n",
        "a.m",
        "p.m",
        "mg",
        "mcg",
        "ml",
        "cc",
        "kg",
        "lb",
        "lbs",
        "oz",
        "cm",
        "mm",
        "min",
        "hr",
        "hrs",
        "wk",
        "wks",
        "mo",
        "yr",
        "yrs",
        "approx",
        "ca",
        "cf",
        "al",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
    ]
)

_LINE_BREAK = re.compile(r"\r\n|\r|\n|\u2028|\u2029|\x0b|\x0c|\x1c|\x1d|\x1e|\x85")
# A run of stops (and closing quotes/brackets) followed by whitespace and a capital or digit. The
# lookbehind and possessive quantifiers keep it linear: a match only starts where a run starts, and
# nothing backtracks into a run (a shorter run could never be followed by whitespace anyway).
# Without them a 200,000-character line of "." took minutes to segment.
_STOP_THEN_SPACE = re.compile(r"(?<![.!?])[.!?]++[\"')\]]*+(?=\s++[\"'(\[]*+[A-Z0-9])")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentences as ``(start, end)`` character ranges, trimmed of surrounding whitespace.

    The ranges are ordered, disjoint and non-empty, and every non-whitespace character of
    ``text`` lies in exactly one of them.
    """
    sentences: list[tuple[int, int]] = []
    line_start = 0
    for match in _LINE_BREAK.finditer(text):
        _split_line(text, line_start, match.start(), sentences)
        line_start = match.end()
    _split_line(text, line_start, len(text), sentences)
    return sentences


def _split_line(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    piece_start = start
    for match in _STOP_THEN_SPACE.finditer(text, start, end):
        if _is_abbreviation(text, start, match.start()):
            continue
        _append_trimmed(text, piece_start, match.end(), out)
        piece_start = match.end()
    _append_trimmed(text, piece_start, end, out)


def _is_abbreviation(text: str, line_start: int, stop: int) -> bool:
    word_start = stop
    while word_start > line_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:stop].lower().rstrip(".")
    if not word:
        return False
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _append_trimmed(text: str, start: int, end: int, out: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append((start, end))
