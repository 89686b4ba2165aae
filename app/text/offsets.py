"""Offset encodings for the HTTP API.

Spans are stored in code points (Python ``str`` indices), but integration engines written in
Java, .NET or JavaScript index strings in UTF-16 code units, and byte-oriented clients want UTF-8
byte offsets. The two differ from code points as soon as a note holds an emoji, CJK text or an
accented letter, so a client that trusts the wrong unit highlights the wrong characters. These
pure functions translate between the units; they never touch the text itself.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

OffsetEncoding = Literal["codepoint", "utf16", "utf8"]
"""The unit an offset counts: Python code points, UTF-16 code units, or UTF-8 bytes."""

OFFSET_ENCODINGS: tuple[str, ...] = get_args(OffsetEncoding)


def _check_encoding(encoding: str) -> None:
    """Reject unknown names early: a typo would otherwise silently fall back to some unit."""
    if encoding not in OFFSET_ENCODINGS:
        raise ValueError(f"unknown offset encoding {encoding!r}; expected one of {', '.join(OFFSET_ENCODINGS)}")


class OffsetConverter:
    """Converts offsets of one document's text between code points and UTF-16 or UTF-8 units.

    Built once per text so that converting the many span offsets of a response costs O(1) each
    (O(log n) for the inverse). Cumulative unit counts are only computed when the text holds a
    non-ASCII character: for ASCII text every encoding is the identity and nothing is allocated.
    """

    __slots__ = ("_ascii", "_length", "_utf8", "_utf16")

    def __init__(self, text: str) -> None:
        self._length: int = len(text)
        self._ascii: bool = text.isascii()
        self._utf16: npt.NDArray[np.int64] | None = None
        self._utf8: npt.NDArray[np.int64] | None = None
        if not self._ascii:
            # "surrogatepass" keeps lone surrogates (possible in a str, invalid in UTF-8) countable
            # instead of failing the whole request; they take 1 UTF-16 unit and 3 bytes that way.
            codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
            utf16_widths = 1 + (codepoints >= 0x10000).astype(np.int64)
            utf8_widths = (
                1
                + (codepoints >= 0x80).astype(np.int64)
                + (codepoints >= 0x800).astype(np.int64)
                + (codepoints >= 0x10000).astype(np.int64)
            )
            self._utf16 = np.concatenate(([0], np.cumsum(utf16_widths))).astype(np.int64)
            self._utf8 = np.concatenate(([0], np.cumsum(utf8_widths))).astype(np.int64)

    @property
    def is_ascii(self) -> bool:
        """Whether every encoding is the identity for this text."""
        return self._ascii

    def length(self, encoding: OffsetEncoding = "codepoint") -> int:
        """The length of the whole text in the given unit, i.e. the largest valid offset."""
        return self.convert(self._length, encoding)

    def _table(self, encoding: OffsetEncoding) -> npt.NDArray[np.int64] | None:
        """The cumulative unit counts for ``encoding``, or None when it is the identity."""
        _check_encoding(encoding)
        if encoding == "codepoint" or self._ascii:
            return None
        return self._utf16 if encoding == "utf16" else self._utf8

    def convert(self, index: int, encoding: OffsetEncoding) -> int:
        """The offset, in ``encoding`` units, of the code point boundary ``index`` (0..len(text))."""
        table = self._table(encoding)
        if not 0 <= index <= self._length:
            raise ValueError(f"code point offset {index} lies outside the text (0..{self._length})")
        if table is None:
            return index
        return int(table[index])

    def to_codepoint(self, index: int, encoding: OffsetEncoding) -> int:
        """The code point offset of an offset in ``encoding`` units; the inverse of :meth:`convert`.

        Raises ValueError when ``index`` falls inside a character (between the two units of a
        surrogate pair, or inside a UTF-8 multibyte sequence): such an offset names no position a
        span could start or end at, and rounding it would silently move the client's span.
        """
        table = self._table(encoding)
        if table is None:
            if not 0 <= index <= self._length:
                raise ValueError(f"{encoding} offset {index} lies outside the text (0..{self._length})")
            return index
        total = int(table[-1])
        if not 0 <= index <= total:
            raise ValueError(f"{encoding} offset {index} lies outside the text (0..{total})")
        position = int(np.searchsorted(table, index, side="left"))
        if int(table[position]) != index:
            raise ValueError(f"{encoding} offset {index} falls inside a character (code point {position - 1})")
        return position
