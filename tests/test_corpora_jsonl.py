"""JSON lines: documents, span attributes, text checks and every malformed shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model_export.corpora import CorpusError, read_jsonl

TEXT = "Zebulon has chest pain."


def test_reads_documents_and_attributes(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    record = {
        "id": 7,
        "text": TEXT,
        "spans": [
            {"start": 12, "end": 22, "label": "problem", "text": "chest pain", "attributes": {"assertion": "present"}}
        ],
    }
    path.write_text(
        json.dumps(record) + "\n\n" + json.dumps({"id": "8", "text": "", "spans": []}) + "\n", encoding="utf-8"
    )
    report = read_jsonl(path)
    first, second = report.documents
    assert first.id == "7" and first.text == TEXT and second.id == "8"
    (span,) = first.spans
    assert (span.start, span.end, span.label, dict(span.attributes)) == (12, 22, "problem", {"assertion": "present"})


def test_malformed_shapes_are_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    lines = [
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"id": "a", "text": 3}),
        json.dumps(
            {
                "id": "b",
                "text": TEXT,
                "spans": [
                    {"start": "12", "end": 22, "label": "problem"},
                    {"start": True, "end": 22, "label": "problem"},
                    {"start": 12, "end": 22, "label": "problem", "text": ["chest"]},
                    {"start": 12, "end": 22, "label": "problem", "text": "Chest pain"},
                    {"start": 0, "end": 7, "label": "name"},
                ],
            }
        ),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        read_jsonl(path)
    message = str(caught.value)
    assert message.startswith("7 error(s) in corpus:")
    assert "bad.jsonl:1: malformed: not JSON (Expecting property name enclosed in double quotes at column 2)" in message
    assert 'bad.jsonl:2: malformed: not an object with a string "id"' in message
    assert 'bad.jsonl:3: malformed: needs a string "text" and a list "spans"' in message
    assert 'bad.jsonl:4: malformed: span 0 needs integer "start"/"end" and a string "label"' in message
    assert 'bad.jsonl:4: malformed: span 1 needs integer "start"/"end" and a string "label"' in message
    assert 'bad.jsonl:4: malformed: span 2 has a non-string "text" or non-object "attributes"' in message
    assert (
        "bad.jsonl:4: text_mismatch: annotation text (length 10) does not match the document text at 12:22" in message
    )
    assert "Zebulon" not in message and "hest" not in message
    report = read_jsonl(path, on_error="skip")
    assert [d.id for d in report.documents] == ["b"]
    assert [(s.start, s.end) for s in report.documents[0].spans] == [(0, 7)]
    assert report.dropped == 4 and report.dropped_documents == 3
