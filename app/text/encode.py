"""Text to model windows: subword encoding with offsets into the original string.

Wraps a Hugging Face ``tokenizers`` tokenizer (fast, Rust; offsets in code points). Truncation and
padding stored in a ``tokenizer.json`` are switched off: a document is always encoded whole and cut
into windows here, never silently shortened by the tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from app.text.segment import split_sentences
from app.text.windows import (
    Window,
    WindowGeometry,
    build_windows,
    paragraph_starts,
    token_anchors,
    window_input_ids,
)


@dataclass(frozen=True)
class SpecialTokens:
    cls_id: int
    sep_id: int
    pad_id: int


@dataclass(frozen=True)
class EncodedDocument:
    """One document's subwords and windows; what both training and serving feed the model."""

    text: str
    ids: list[int]
    offsets: list[tuple[int, int]]
    anchors: list[int | None]
    windows: list[Window]

    @property
    def token_count(self) -> int:
        return len(self.ids)


class DocumentEncoder:
    """Encodes documents into windows with one bundle's tokenizer and window geometry."""

    def __init__(self, tokenizer: Tokenizer, special: SpecialTokens, geometry: WindowGeometry) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.tokenizer = tokenizer
        self.special = special
        self.geometry = geometry

    @classmethod
    def from_file(cls, path: Path, special: SpecialTokens, geometry: WindowGeometry) -> DocumentEncoder:
        return cls(Tokenizer.from_file(str(path)), special, geometry)

    def encode(self, text: str) -> EncodedDocument:
        return self.encode_many([text])[0]

    def encode_many(self, texts: list[str]) -> list[EncodedDocument]:
        encodings = self.tokenizer.encode_batch(texts, add_special_tokens=False) if texts else []
        documents = []
        for text, encoding in zip(texts, encodings, strict=False):
            offsets = [(int(start), int(end)) for start, end in encoding.offsets]
            anchors = token_anchors(text, offsets)
            paragraphs = paragraph_starts(text) if self.geometry.paragraph_breaks != "none" else []
            windows = build_windows(anchors, split_sentences(text), self.geometry, paragraphs)
            documents.append(EncodedDocument(text, list(encoding.ids), offsets, anchors, windows))
        return documents

    def input_ids(self, document: EncodedDocument, window: Window) -> list[int]:
        return window_input_ids(document.ids, window, self.special.cls_id, self.special.sep_id)
