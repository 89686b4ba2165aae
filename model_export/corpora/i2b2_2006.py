"""i2b2 2006 de-identification: ``<RECORD ID=".."><TEXT>..<PHI TYPE="DATE">12/03</PHI>..</TEXT>``.

PHI is marked inline, so the document text is the TEXT content with the PHI tags removed and
entities unescaped, and offsets come from where each tag sits in that text. Each RECORD is
parsed on its own, so one broken record costs only itself; records that needed the tolerant
path are reported as ``tolerant_parse`` warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from model_export.corpora._common import Candidate, CorpusReport, OnError, ReportBuilder, find_files, line_of
from model_export.corpora._xml import (
    XmlError,
    normalize_newlines,
    parse_attributes,
    parse_tolerantly,
    run_expat,
    unescape,
)

_RECORD = re.compile(r"<RECORD\b.*?</RECORD\s*>", re.DOTALL)
_INLINE = re.compile(r"<PHI\b([^>]*)>|</PHI\s*>|[^<]+|<")


@dataclass
class _Record:
    """A record's text and PHI spans as they are built, from either parse path."""

    id: str | None = None
    chunks: list[str] = field(default_factory=list)
    length: int = 0
    phi: list[Candidate] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    open_phi: tuple[int, str, int] | None = None
    nesting: int = 0

    def add_text(self, text: str) -> None:
        self.chunks.append(text)
        self.length += len(text)

    def start_phi(self, phi_type: str, line: int) -> None:
        self.nesting += 1
        if self.open_phi is not None:
            self.problems.append((line, f"PHI nested in the PHI opened on line {self.open_phi[2]}; inner tag ignored"))
        else:
            self.open_phi = (self.length, phi_type, line)

    def end_phi(self, line: int) -> None:
        if self.nesting == 0 or self.open_phi is None:
            self.problems.append((line, "</PHI> without an open PHI"))
            return
        self.nesting -= 1
        if self.nesting == 0:
            start, phi_type, start_line = self.open_phi
            self.phi.append(Candidate(start, self.length, phi_type, start_line))
            self.open_phi = None

    def finish(self, line: int) -> _Record:
        if self.open_phi is not None:
            self.problems.append((self.open_phi[2], "PHI is never closed"))
            self.open_phi, self.nesting = None, 0
        if not self.id:
            raise XmlError(line, "no ID attribute", syntax=False)
        return self


def _strict(raw: str, line_offset: int) -> _Record:
    record = _Record()
    stack: list[str] = []

    def start(name: str, attributes: dict[str, str], line: int) -> None:
        if name == "RECORD" and not stack:
            record.id = attributes.get("ID", "").strip()
        elif name == "PHI" and "TEXT" in stack:
            record.start_phi(attributes.get("TYPE", "").strip(), line)
        stack.append(name)

    def end(name: str) -> None:
        stack.pop()
        if name == "PHI" and "TEXT" in stack:
            record.end_phi(0)  # expat has matched the tags already, so this never reports

    def data(content: str) -> None:
        if "TEXT" in stack:
            record.add_text(content)

    run_expat(raw, start, end, data, line_offset)
    return record.finish(1 + line_offset)


def _fallback(raw: str, line_offset: int) -> _Record:
    record = _Record()
    head = re.match(r"\s*<RECORD\b([^>]*)>", raw)
    text = re.search(r"<TEXT\s*>(.*?)</TEXT\s*>", raw, re.DOTALL)
    if head is None or text is None:
        raise XmlError(1 + line_offset, "no <RECORD> with a <TEXT>...</TEXT> section")
    record.id = parse_attributes(head.group(1)).get("ID", "").strip()
    for piece in _INLINE.finditer(raw, text.start(1), text.end(1)):
        line = line_of(raw, piece.start()) + line_offset
        if piece.group(1) is not None:
            record.start_phi(parse_attributes(piece.group(1)).get("TYPE", "").strip(), line)
        elif piece.group(0).startswith("</"):
            record.end_phi(line)
        else:
            record.add_text(unescape(piece.group(0)))
    return record.finish(1 + line_offset)


def read_i2b2_2006(path: Path, *, on_error: OnError = "fail") -> CorpusReport:
    """Read one 2006 XML file (or a directory of them); each RECORD is a document."""
    builder = ReportBuilder("i2b2-2006", path, on_error)
    for file_path in find_files(path, ".xml"):
        file = builder.name(file_path)
        raw = builder.read_text(file_path)
        if raw is None:
            continue
        raw = normalize_newlines(raw)
        records = list(_RECORD.finditer(raw))
        if not records:
            builder.drop_document(file, None, "malformed", "no <RECORD> elements")
        lines_before, position = 0, 0
        for match in records:
            lines_before += raw.count("\n", position, match.start())
            position = match.start()
            _add_record(builder, file, match.group(0), lines_before)
    return builder.finish()


def _add_record(builder: ReportBuilder, file: str, chunk: str, line_offset: int) -> None:
    """Parse one record (its lines counted from ``line_offset``) and add it."""
    try:
        record, note, error_line = parse_tolerantly(
            chunk, partial(_strict, line_offset=line_offset), partial(_fallback, line_offset=line_offset)
        )
    except XmlError as error:
        builder.drop_document(file, error.line, "malformed", f"RECORD unreadable: {error}")
        return
    if note is not None:
        builder.issue(file, error_line, "tolerant_parse", f"RECORD {record.id}: {note}")
    for line, message in record.problems:
        builder.drop_annotation(file, line, "malformed", message)
    builder.add_document(record.id or "", "".join(record.chunks), record.phi, file=file, line=line_offset + 1)
