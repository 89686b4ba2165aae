"""Bulk's per-note rules as pure functions: which notes get an error, and entity rows that quote the note exactly."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.text.types import Entity
from clinx_bulk.notes import NoteError, check_note, entity_rows


def test_a_note_that_cannot_be_processed_gets_a_typed_error_that_never_quotes_it() -> None:
    cases = {None: "missing_text", b"\xff\xfesecret": "invalid_utf8", b"": "empty_text", b" \n\t": "empty_text",
             "x" * 11: "note_too_large"}
    for raw, expected in cases.items():
        encoded = raw.encode() if isinstance(raw, str) else raw
        outcome = check_note(encoded, max_chars=10)
        assert isinstance(outcome, NoteError), raw
        assert outcome.type == expected
        assert "secret" not in outcome.message and "xxxx" not in outcome.message


def test_a_good_note_comes_back_as_its_text() -> None:
    assert check_note("Née à Zürich 🙂, denies chest pain.".encode(), max_chars=100) == \
        "Née à Zürich 🙂, denies chest pain."


@given(st.text(min_size=1, max_size=60), st.data())
def test_entity_text_is_the_notes_code_points_from_start_to_end(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    score = data.draw(st.floats(0, 1))
    [row] = entity_rows(text, [Entity(start, end, "problem", score)])
    assert row["text"] == text[start:end]
    assert (row["start"], row["end"], row["label"]) == (start, end, "problem")
    assert abs(row["score"] - score) <= 5e-5


@given(st.binary(max_size=40))
def test_any_bytes_give_text_or_an_error_never_an_exception(raw: bytes) -> None:
    outcome = check_note(raw, max_chars=30)
    if isinstance(outcome, str):
        assert outcome.strip() and len(outcome) <= 30 and outcome.encode() == raw
    else:
        assert outcome.type in {"invalid_utf8", "empty_text", "note_too_large"}
