"""Model windows: each sentence (or chunk of a long one) is a centre, with context around it.

CLIN-X makes one window per sentence. With ``pack_sentences`` consecutive whole sentences share one
centre of up to ``chunk_subwords``: the model then reads about 1.5 tokens per note token instead of
about 8 (a 20-subword sentence with 100 subwords of context on each side), which is what makes
serving fast; the bundle records which geometry its model was trained with.

Training and serving build windows with this same code, so the server feeds the model exactly the
shape of input it was trained on. Windows are ranges of token indices into one document's
subword sequence; everything here is pure and cheap.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Offsets = Sequence[tuple[int, int]]
# How blank lines (paragraphs, notes pasted one after another) bound windows: "none" (they do not),
# "centres" (a packed centre never runs over one; context does) or "windows" (neither does context).
PARAGRAPH_BREAKS = ("none", "centres", "windows")
_BREAKS = "\n\r\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85"  # the line breaks app.text.segment knows
_ONE_BREAK = r"(?:\r\n|\r(?!\n)|[\n\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85])"
# A line break followed by a blank line: the next paragraph starts right after it.
_BLANK_LINE = re.compile(rf"{_ONE_BREAK}(?=[^\S{_BREAKS}]*{_ONE_BREAK})")


@dataclass(frozen=True)
class WindowGeometry:
    """How a bundle's model was trained to see a document; serving must cut windows the same way."""

    chunk_subwords: int
    context_subwords: int
    pack_sentences: bool = False
    paragraph_breaks: str = "none"  # one of PARAGRAPH_BREAKS

    def __post_init__(self) -> None:
        if self.chunk_subwords < 1:
            raise ValueError("chunk_subwords must be at least 1")
        if self.context_subwords < 0:
            raise ValueError("context_subwords must not be negative")
        if self.paragraph_breaks not in PARAGRAPH_BREAKS:
            raise ValueError(f"paragraph_breaks must be one of {PARAGRAPH_BREAKS}, got {self.paragraph_breaks!r}")

    @property
    def max_length(self) -> int:
        return max_window_length(self.chunk_subwords, self.context_subwords)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> WindowGeometry:
        """From a training record or manifest; bundles written before packing existed used sentences,
        those written before paragraph breaks existed ignore blank lines."""
        return cls(int(record["chunk_subwords"]), int(record["context_subwords"]),
                   bool(record.get("pack_sentences", False)), str(record.get("paragraph_breaks", "none")))

    def as_record(self) -> dict[str, Any]:
        return {"chunk_subwords": self.chunk_subwords, "context_subwords": self.context_subwords,
                "pack_sentences": self.pack_sentences, "paragraph_breaks": self.paragraph_breaks}


@dataclass(frozen=True)
class Window:
    """Token ranges ``[start, end)`` into a document: the labelled centre and the visible context."""

    centre_start: int
    centre_end: int
    context_start: int
    context_end: int

    @property
    def length(self) -> int:
        """Tokens the model sees, special tokens included."""
        return self.context_end - self.context_start + 2

    @property
    def centre_positions(self) -> tuple[int, int]:
        """Where the centre lies in the model input (after the leading special token)."""
        offset = 1 - self.context_start
        return self.centre_start + offset, self.centre_end + offset


def anchor(text: str, start: int, end: int) -> int | None:
    """The first non-whitespace character of a token's range; None for a blank token.

    Subword tokenizers often fold the preceding space into a token's offsets (SentencePiece's
    ``▁``); the anchor is the character whose label the token carries.
    """
    for position in range(start, end):
        if not text[position].isspace():
            return position
    return None


def token_anchors(text: str, offsets: Offsets) -> list[int | None]:
    return [anchor(text, start, end) for start, end in offsets]


def centre_ranges(
    anchors: Sequence[int | None], sentences: Sequence[tuple[int, int]], chunk_subwords: int
) -> list[tuple[int, int]]:
    """Token ranges of sentences, long ones cut into chunks of at most ``chunk_subwords``.

    The ranges tile ``[0, len(anchors))``: blank tokens join the sentence that follows them.
    """
    if chunk_subwords < 1:
        raise ValueError("chunk_subwords must be at least 1")
    count = len(anchors)
    if count == 0:
        return []
    sentence_starts = [start for start, _ in sentences]
    boundaries = [0]
    current = -1
    last_anchored = -1
    for index, position in enumerate(anchors):
        if position is None:
            continue
        sentence = max(current, bisect_right(sentence_starts, position) - 1)
        if sentence != current:
            if current != -1:
                # Cut right after the previous sentence's last anchored token, so the blank tokens
                # in between (a newline, a lone "▁") open the next sentence's range.
                boundaries.append(last_anchored + 1)
            current = sentence
        last_anchored = index
    boundaries.append(count)
    ranges: list[tuple[int, int]] = []
    for start, end in itertools.pairwise(boundaries):
        for chunk_start in range(start, end, chunk_subwords):
            ranges.append((chunk_start, min(chunk_start + chunk_subwords, end)))
    return ranges


def pack_ranges(ranges: Sequence[tuple[int, int]], limit: int, paragraphs: Sequence[int] | None = None
                ) -> list[tuple[int, int]]:
    """Merge consecutive ranges greedily while the merged range stays within ``limit`` tokens (and,
    given each range's paragraph, lies in one paragraph).

    A range is never split, so a packed centre still starts and ends on sentence (or chunk) edges.
    """
    packed: list[tuple[int, int]] = []
    for index, (start, end) in enumerate(ranges):
        same = paragraphs is None or (index > 0 and paragraphs[index] == paragraphs[index - 1])
        if packed and same and end - packed[-1][0] <= limit:
            packed[-1] = (packed[-1][0], end)
        else:
            packed.append((start, end))
    return packed


def paragraph_starts(text: str) -> list[int]:
    """Where each paragraph after the first begins: just after the first line break of a blank line."""
    return [match.end() for match in _BLANK_LINE.finditer(text)]


def range_paragraphs(anchors: Sequence[int | None], ranges: Sequence[tuple[int, int]], starts: Sequence[int]
                     ) -> list[int]:
    """The paragraph of each range: that of its first anchored token (a range of blank tokens takes
    the paragraph of the next anchored token, or the last paragraph when none follows)."""
    found: list[int | None] = []
    for start, end in ranges:
        position = next((anchors[i] for i in range(start, end) if anchors[i] is not None), None)
        found.append(None if position is None else bisect_right(starts, position))
    paragraphs, following = [0] * len(found), len(starts)
    for index in reversed(range(len(found))):
        own = found[index]
        following = own if own is not None else following
        paragraphs[index] = following
    return paragraphs


def build_windows(
    anchors: Sequence[int | None], sentences: Sequence[tuple[int, int]], geometry: WindowGeometry,
    paragraphs: Sequence[int] = (),
) -> list[Window]:
    """Windows of one document in order: every token lies in exactly one window's centre.

    ``paragraphs`` (from :func:`paragraph_starts`) bound the windows as ``geometry.paragraph_breaks``
    says; with "none" they are ignored.
    """
    count = len(anchors)
    context = geometry.context_subwords
    centres = centre_ranges(anchors, sentences, geometry.chunk_subwords)
    starts = paragraphs if geometry.paragraph_breaks != "none" else ()
    if geometry.pack_sentences:
        centres = pack_ranges(centres, geometry.chunk_subwords, range_paragraphs(anchors, centres, starts))
    groups = range_paragraphs(anchors, centres, starts)
    if geometry.paragraph_breaks != "windows":
        return [Window(start, end, max(0, start - context), min(count, end + context)) for start, end in centres]
    bounds: dict[int, tuple[int, int]] = {}
    for (start, end), group in zip(centres, groups, strict=True):
        first, _ = bounds.get(group, (start, end))
        bounds[group] = (first, end)
    return [Window(start, end, max(bounds[group][0], start - context), min(bounds[group][1], end + context))
            for (start, end), group in zip(centres, groups, strict=True)]


def window_input_ids(ids: Sequence[int], window: Window, cls_id: int, sep_id: int) -> list[int]:
    """The model input of a window: ``[CLS] context+centre+context [SEP]``."""
    return [cls_id, *ids[window.context_start : window.context_end], sep_id]


def max_window_length(chunk_subwords: int, context_subwords: int) -> int:
    return chunk_subwords + 2 * context_subwords + 2
