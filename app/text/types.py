"""The shapes shared by training and serving: a document and its concept spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Span:
    """A concept: character offsets into the document's text (code points, end exclusive)."""

    start: int
    end: int
    label: str
    attributes: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"span offsets must satisfy 0 <= start < end, got {self.start}:{self.end}")


@dataclass(frozen=True)
class Document:
    """A note as read from a corpus or a request; spans are empty at inference."""

    id: str
    text: str
    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        for span in self.spans:
            if span.end > len(self.text):
                raise ValueError(f"span {span.start}:{span.end} lies beyond the text of document {self.id!r}")


@dataclass(frozen=True)
class Entity:
    """A predicted concept: code point offsets into the text, the label and its mean probability.

    ``assertion`` (present, absent, possible, conditional, hypothetical, associated_with_someone_else)
    and ``historical`` are set by the assertion stage on entities of an assertable type; None elsewhere,
    and ``historical`` is None too where the source cannot tell.
    """

    start: int
    end: int
    label: str
    score: float
    assertion: str | None = None
    historical: bool | None = None
