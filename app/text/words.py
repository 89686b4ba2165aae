"""Words: the units a clinician draws spans over, so that no span starts or ends inside one.

A word is a maximal run of letters and digits (``[^\\W_]+``, Unicode-aware: "Hämoglobin",
"HbA1c", "L4"). Punctuation, underscores, marks that are not letters and whitespace separate words,
so "x-ray", "methicillin-resistant" and "L4-L5" are several words and a span may still end at
their hyphen. Subword tokenizers cut words into pieces ("lap", "aro", "scopic"); word-level decoding
(:func:`app.text.decode.decode_entities` with rule ``"word"``) gives each word the tag of its first
piece, and :meth:`Words.widen` guarantees the rule whatever the tokenizer's offsets look like.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Words:
    """The word runs of one text, as sorted ``starts`` and ``ends`` (end exclusive)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Words:
        runs = [match.span() for match in WORD.finditer(text)]
        return cls(tuple(start for start, _ in runs), tuple(end for _, end in runs))

    def run_at(self, position: int) -> int | None:
        """Index of the word holding the character at ``position``; None for a non-word character."""
        index = bisect_right(self.starts, position) - 1
        return index if index >= 0 and position < self.ends[index] else None

    def cuts(self, boundary: int) -> bool:
        """Whether a span edge at ``boundary`` would fall between two characters of one word."""
        run = self.run_at(boundary)
        return run is not None and self.starts[run] < boundary

    def widen(self, start: int, end: int) -> tuple[int, int]:
        """``[start, end)`` grown to whole words at either edge that falls inside a word."""
        if self.cuts(start):
            run = self.run_at(start)
            assert run is not None
            start = self.starts[run]
        if self.cuts(end):
            run = self.run_at(end)
            assert run is not None
            end = self.ends[run]
        return start, end


def word_units(words: Words, anchors: Sequence[int | None]) -> list[int | None]:
    """Each token's unit: tokens of one word share a unit; any other token is a unit of its own.

    A token continues the unit before it when its anchor lies in the same word as the previous
    token's anchor, or inside a word that began before it (the word's start belongs to an earlier
    token). Blank tokens (no anchor) belong to no unit.
    """
    units: list[int | None] = []
    unit = -1
    previous_run: int | None = None
    for position in anchors:
        if position is None:
            units.append(None)
            continue
        run = words.run_at(position)
        continues = unit >= 0 and run is not None and (run == previous_run or words.starts[run] < position)
        if not continues:
            unit += 1
        units.append(unit)
        previous_run = run
    return units
