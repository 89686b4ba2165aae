"""CoNLL-style BIO/BIOES files: a token and its tag (last column) a line, blank lines between sentences.

``-DOCSTART-`` lines separate documents. The text is rebuilt by joining tokens with single
spaces and sentences with newlines, so spans need no text check; only unreadable lines and
tags are errors. An ``I-``/``E-`` that continues no span of its type starts one, as most
BIO consumers do; ``L-``/``U-`` (BILOU) are read as ``E-``/``S-``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from model_export.corpora._common import Candidate, CorpusReport, OnError, ReportBuilder, find_files

_PREFIXES = {"B": "B", "I": "I", "E": "E", "S": "S", "L": "E", "U": "S"}


@dataclass
class _Document:
    """One document's text and spans as they are built, a token at a time."""

    chunks: list[str] = field(default_factory=list)
    length: int = 0
    sentence_open: bool = False
    spans: list[Candidate] = field(default_factory=list)
    open_span: tuple[int, int, str, int] | None = None  # start, end so far, label, line

    def add_token(self, token: str, prefix: str | None, label: str, line: int) -> None:
        separator = " " if self.sentence_open else ("\n" if self.chunks else "")
        start = self.length + len(separator)
        self.chunks.append(separator + token)
        self.length = start + len(token)
        self.sentence_open = True
        current = self.open_span
        continues = current is not None and current[2] == label and prefix in ("I", "E")
        if not continues:
            self.close_span()
            if prefix is not None:
                self.open_span = (start, self.length, label, line)
        elif current is not None:
            self.open_span = (current[0], self.length, label, current[3])
        if prefix in ("E", "S"):
            self.close_span()

    def close_span(self) -> None:
        if self.open_span is not None:
            start, end, label, line = self.open_span
            self.spans.append(Candidate(start, end, label, line))
            self.open_span = None

    def end_sentence(self) -> None:
        self.close_span()
        self.sentence_open = False


def read_conll(path: Path, *, on_error: OnError = "fail", suffix: str = ".conll") -> CorpusReport:
    """Read one CoNLL file, or every ``*suffix`` file below a directory."""
    builder = ReportBuilder("conll", path, on_error)
    for file_path in find_files(path, suffix):
        content = builder.read_text(file_path)
        if content is not None:
            _read_file(builder, builder.name(file_path), file_path.stem, content)
    return builder.finish()


def _read_file(builder: ReportBuilder, file: str, stem: str, content: str) -> None:
    documents: list[_Document] = [_Document()]
    for number, raw_line in enumerate(content.split("\n"), start=1):
        columns = raw_line.split()
        document = documents[-1]
        if not columns:
            document.end_sentence()
        elif columns[0] == "-DOCSTART-":
            document.end_sentence()
            documents.append(_Document())
        elif len(columns) < 2:
            builder.drop_annotation(file, number, "malformed", "line has a token but no tag; read as O")
            document.add_token(columns[0], None, "", number)
        else:
            prefix, label = _parse_tag(columns[-1])
            if prefix == "?":
                message = f"tag is not O or B/I/E/S-TYPE (length {len(columns[-1])}); read as O"
                builder.drop_annotation(file, number, "malformed", message)
                prefix = None
            document.add_token(columns[0], prefix, label, number)
    documents[-1].end_sentence()
    non_empty = [document for document in documents if document.chunks]
    for index, document in enumerate(non_empty, start=1):
        builder.add_document(f"{stem}-{index}", "".join(document.chunks), document.spans, file=file)


def _parse_tag(tag: str) -> tuple[str | None, str]:
    """``(prefix, type)``; prefix None for O and ``"?"`` for a tag that cannot be read."""
    if tag == "O":
        return None, ""
    prefix, separator, label = tag.partition("-")
    if not separator or not label or prefix.upper() not in _PREFIXES:
        return "?", ""
    return _PREFIXES[prefix.upper()], label
