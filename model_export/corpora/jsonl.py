"""JSON lines: ``{"id": .., "text": .., "spans": [{"start": .., "end": .., "label": ..}]}`` per line.

This is the format the project's own exports use. A span may carry ``"text"`` (checked exactly
against the document) and ``"attributes"`` (an object, kept as span attributes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from model_export.corpora._common import Candidate, CorpusReport, OnError, ReportBuilder, find_files


def read_jsonl(path: Path, *, on_error: OnError = "fail", suffix: str = ".jsonl") -> CorpusReport:
    """Read one JSON-lines file, or every ``*suffix`` file below a directory."""
    builder = ReportBuilder("jsonl", path, on_error)
    for file_path in find_files(path, suffix):
        content = builder.read_text(file_path)
        if content is None:
            continue
        file = builder.name(file_path)
        for number, line in enumerate(content.split("\n"), start=1):
            if line.strip():
                _read_line(builder, file, number, line)
    return builder.finish()


def _read_line(builder: ReportBuilder, file: str, number: int, line: str) -> None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        builder.drop_document(file, number, "malformed", f"not JSON ({error.msg} at column {error.colno})")
        return
    if not isinstance(record, dict) or not isinstance(record.get("id"), str | int):
        builder.drop_document(file, number, "malformed", 'not an object with a string "id"')
        return
    text, spans = record.get("text"), record.get("spans", [])
    if not isinstance(text, str) or not isinstance(spans, list):
        builder.drop_document(file, number, "malformed", 'needs a string "text" and a list "spans"')
        return
    parsed = (_candidate(builder, file, number, index, span) for index, span in enumerate(spans))
    candidates = [candidate for candidate in parsed if candidate is not None]
    builder.add_document(str(record["id"]), text, candidates, file=file, line=number)


def _candidate(builder: ReportBuilder, file: str, number: int, index: int, span: Any) -> Candidate | None:
    fields_ok = isinstance(span, dict) and all(
        isinstance(span.get(key), int) and not isinstance(span.get(key), bool) for key in ("start", "end")
    )
    if not fields_ok or not isinstance(span.get("label"), str):
        message = f'span {index} needs integer "start"/"end" and a string "label"'
        builder.drop_annotation(file, number, "malformed", message)
        return None
    text, attributes = span.get("text"), span.get("attributes", {})
    if (text is not None and not isinstance(text, str)) or not isinstance(attributes, dict):
        message = f'span {index} has a non-string "text" or non-object "attributes"'
        builder.drop_annotation(file, number, "malformed", message)
        return None
    return Candidate(span["start"], span["end"], span["label"], number, text, tuple(sorted(attributes.items())))
