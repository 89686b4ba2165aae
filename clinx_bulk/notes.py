"""What a bulk job does with one note, in pure functions: check it, and turn the engine's result into a row.

A note that cannot be processed gets an error (``type`` and a message that never quotes the note) and
still gets its row: nothing is dropped. The text arrives as UTF-8 bytes (Spark strings, or binary
columns from writers that store strings without the UTF-8 annotation), so a note with invalid bytes
fails alone instead of failing its whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.text.types import Entity

SCORE_DIGITS = 4  # as the HTTP API rounds scores (app/api/extract.py), so both give the same values


@dataclass(frozen=True)
class NoteError:
    """Why a note has no entities: a stable ``type`` for filtering and a message for people."""

    type: str
    message: str

    def as_row(self) -> dict[str, str]:
        return {"type": self.type, "message": self.message}


def check_note(raw: bytes | None, max_chars: int) -> str | NoteError:
    """The note's text, or why it cannot be processed (missing, not UTF-8, empty, over ``max_chars``)."""
    if raw is None:
        return NoteError("missing_text", "the text column is null")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return NoteError("invalid_utf8", f"the text is not valid UTF-8 (byte offset {error.start})")
    if not text.strip():
        return NoteError("empty_text", "the text is empty or only whitespace")
    if len(text) > max_chars:
        return NoteError("note_too_large", f"the text has {len(text)} characters, over the limit of {max_chars} "
                                           "(--max-note-chars); nothing is truncated")
    return text


def entity_rows(text: str, entities: list[Entity]) -> list[dict[str, Any]]:
    """The entities as the output's structs; ``text`` is the span's text (``note[start:end]``, code points)."""
    return [{"start": e.start, "end": e.end, "text": text[e.start:e.end], "label": e.label,
             "score": round(e.score, SCORE_DIGITS)} for e in entities]
