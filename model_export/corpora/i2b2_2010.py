"""i2b2/VA 2010 concepts: whitespace-tokenised ``.txt`` (one sentence a line) and ``.con`` files.

``c="chest pain" 12:3 12:5||t="problem"`` names lines 1-based and tokens 0-based (split on
single spaces), end token inclusive; a concept may run over several lines. Optional ``.ast``
files add ``||a="present"``, attached as the span attribute ``("assertion", value)``. The
``c`` text is lower-cased in the official files, so it is compared case- and space-insensitively.
Files are looked up beside the ``.txt`` or in the release's sibling ``concept``/``ast`` folders,
unless ``concept_dir``/``assertion_dir`` say where they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from model_export.corpora._common import Candidate, CorpusReport, OnError, ReportBuilder, find_files, loose_match

_ENTRY = re.compile(r'c="(.*)" (\d+):(\d+) (\d+):(\d+)\|\|t="([^"]*)"(?:\|\|a="([^"]*)")?')
Position = tuple[int, int, int, int]  # start line, start token, end line, end token


@dataclass(frozen=True)
class _Entry:
    text: str
    position: Position
    label: str
    assertion: str | None
    line: int


class _Tokens:
    """Character offsets of every token of every line, so positions map to offsets."""

    def __init__(self, text: str) -> None:
        self.lines: list[list[tuple[int, int]]] = []
        offset = 0
        lines = text.split("\n")
        if len(lines) > 1 and not lines[-1]:
            lines.pop()  # the final newline ends the last line; it does not start another
        for line in lines:
            tokens: list[tuple[int, int]] = []
            start = offset
            for token in line.rstrip("\r").split(" "):
                tokens.append((start, start + len(token)))
                start += len(token) + 1
            self.lines.append(tokens)
            offset += len(line) + 1

    def span(self, position: Position) -> tuple[int, int] | str:
        """The offsets, or why the position lies outside the text."""
        start_line, start_token, end_line, end_token = position
        for line, token in ((start_line, start_token), (end_line, end_token)):
            if not 1 <= line <= len(self.lines):
                return f"line {line} is outside the text ({len(self.lines)} lines)"
            if token >= len(self.lines[line - 1]):
                return f"token {token} is outside line {line} ({len(self.lines[line - 1])} tokens)"
        return self.lines[start_line - 1][start_token][0], self.lines[end_line - 1][end_token][1]


def read_i2b2_2010(
    path: Path,
    *,
    on_error: OnError = "fail",
    concept_dir: Path | None = None,
    assertion_dir: Path | None = None,
) -> CorpusReport:
    """Read every ``.txt`` below ``path`` with its ``.con`` (required) and ``.ast`` (optional)."""
    builder = ReportBuilder("i2b2-2010", path, on_error)
    for text_path in find_files(path, ".txt"):
        con_path = _companion(text_path, ".con", concept_dir, ("concept", "concepts"))
        if con_path is None:
            builder.drop_document(builder.name(text_path), None, "malformed", "no .con file found")
            continue
        text = builder.read_text(text_path)
        concepts = None if text is None else builder.read_text(con_path)
        if text is None or concepts is None:
            continue
        con_file = builder.name(con_path)
        entries = _parse_entries(builder, con_file, concepts)
        assertions: dict[Position, str] = {}
        ast_path = _companion(text_path, ".ast", assertion_dir, ("ast", "assertions"))
        if ast_path is not None:
            assertions = _read_assertions(builder, ast_path, {entry.position for entry in entries})
        tokens = _Tokens(text)
        candidates: list[Candidate] = []
        for entry in entries:
            offsets = tokens.span(entry.position)
            if isinstance(offsets, str):
                builder.drop_annotation(con_file, entry.line, "out_of_range", offsets)
                continue
            assertion = assertions.get(entry.position)
            attributes = () if assertion is None else (("assertion", assertion),)
            candidates.append(Candidate(offsets[0], offsets[1], entry.label, entry.line, entry.text, attributes))
        builder.add_document(text_path.stem, text, candidates, file=con_file, match=loose_match)
    return builder.finish()


def _companion(text_path: Path, suffix: str, directory: Path | None, siblings: tuple[str, ...]) -> Path | None:
    """Where a ``.con``/``.ast`` file for ``text_path`` is: beside it, in ``directory`` or a sibling folder."""
    name = text_path.with_suffix(suffix).name
    if directory is not None:
        places = [directory]
    else:
        places = [text_path.parent, *(text_path.parent.parent / sibling for sibling in siblings)]
    return next((place / name for place in places if (place / name).is_file()), None)


def _parse_entries(builder: ReportBuilder, file: str, content: str) -> list[_Entry]:
    entries: list[_Entry] = []
    for number, line in enumerate(content.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        match = _ENTRY.fullmatch(line.strip())
        if match is None:
            builder.drop_annotation(file, number, "malformed", 'not c="..." L:T L:T||t="..."')
            continue
        start_line, start_token, end_line, end_token = (int(match.group(i)) for i in range(2, 6))
        position = (start_line, start_token, end_line, end_token)
        if (end_line, end_token) < (start_line, start_token):
            builder.drop_annotation(file, number, "out_of_range", f"ends ({end_line}:{end_token}) before it starts")
            continue
        entries.append(_Entry(match.group(1), position, match.group(6), match.group(7), number))
    return entries


def _read_assertions(builder: ReportBuilder, ast_path: Path, concepts: set[Position]) -> dict[Position, str]:
    """Assertions by concept position; one naming no concept, or without ``a=``, is reported."""
    content = builder.read_text(ast_path, whole_document=False)
    if content is None:
        return {}
    file = builder.name(ast_path)
    assertions: dict[Position, str] = {}
    for entry in _parse_entries(builder, file, content):
        if entry.assertion is None:
            builder.drop_annotation(file, entry.line, "malformed", 'no ||a="..." assertion')
        elif entry.position not in concepts:
            builder.drop_annotation(file, entry.line, "malformed", "assertion names no concept of the .con file")
        else:
            assertions[entry.position] = entry.assertion
    return assertions
