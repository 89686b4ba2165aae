"""What every corpus reader shares: issues, the report, span validation and the overlap rule.

Readers only parse their format into :class:`Candidate` annotations; :class:`ReportBuilder`
checks them against the text, resolves overlaps and decides (``on_error``) whether bad input
fails the read or is dropped and counted. Messages carry file, line, offsets and lengths, never
note text, because reports end up in logs.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from app.text.types import Document, Span

IssueKind = Literal["text_mismatch", "out_of_range", "overlap", "discontinuous", "malformed", "tolerant_parse"]
OnError = Literal["fail", "skip"]
Attributes = tuple[tuple[str, Any], ...]

# Overlaps and tolerant parses are warnings: the read still yields everything it can vouch for.
ERROR_KINDS: frozenset[str] = frozenset({"text_mismatch", "out_of_range", "discontinuous", "malformed"})
ISSUE_KINDS: tuple[IssueKind, ...] = get_args(IssueKind)
SHOWN_IN_ERROR = 10

_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class CorpusIssue:
    """One problem found while reading, located by file and (1-based) line where known."""

    file: str
    line: int | None
    kind: IssueKind
    message: str

    @property
    def is_error(self) -> bool:
        return self.kind in ERROR_KINDS

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.kind}: {self.message}"


class CorpusError(ValueError):
    """A corpus read with ``on_error="fail"`` met errors; ``issues`` holds all of them."""

    def __init__(self, issues: Sequence[CorpusIssue]) -> None:
        self.issues = list(issues)
        shown = "\n".join(f"  {issue}" for issue in self.issues[:SHOWN_IN_ERROR])
        more = len(self.issues) - SHOWN_IN_ERROR
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.issues)} error(s) in corpus:\n{shown}{tail}")


@dataclass
class CorpusReport:
    """The documents read and everything that was reported, resolved or dropped on the way."""

    format: str
    documents: list[Document] = field(default_factory=list)
    issues: list[CorpusIssue] = field(default_factory=list)
    overlaps_resolved: int = 0
    dropped: int = 0  # annotations dropped because they were in error (on_error="skip")
    dropped_documents: int = 0  # whole documents (or files) that could not be read

    @property
    def errors(self) -> list[CorpusIssue]:
        return [issue for issue in self.issues if issue.is_error]

    @property
    def warnings(self) -> list[CorpusIssue]:
        return [issue for issue in self.issues if not issue.is_error]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "documents": len(self.documents),
            "spans": sum(len(document.spans) for document in self.documents),
            "overlaps_resolved": self.overlaps_resolved,
            "dropped": self.dropped,
            "dropped_documents": self.dropped_documents,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
        }

    def summary(self) -> str:
        """One line for logs: counts and issue kinds only, so no note text can leak."""
        counts = self.counts
        kinds = Counter(issue.kind for issue in self.issues)
        by_kind = ", ".join(f"{kind}={kinds[kind]}" for kind in ISSUE_KINDS if kinds[kind])
        return (
            f"{self.format}: {counts['documents']} documents, {counts['spans']} spans; "
            f"{counts['overlaps_resolved']} overlaps resolved; dropped {counts['dropped']} annotations "
            f"and {counts['dropped_documents']} documents; {counts['errors']} errors, "
            f"{counts['warnings']} warnings" + (f" ({by_kind})" if by_kind else "")
        )


@dataclass(frozen=True)
class Candidate:
    """An annotation as parsed, before validation: ``text`` is the format's copy, if it has one."""

    start: int
    end: int
    label: str
    line: int | None
    text: str | None = None
    attributes: Attributes = ()


TextMatch = Callable[[str, str], bool]


def exact_match(annotated: str, actual: str) -> bool:
    return annotated == actual


def whitespace_match(annotated: str, actual: str) -> bool:
    """Equal up to runs of whitespace: XML attribute values turn newlines into spaces.

    Edges are not stripped, so offsets that take in a stray space still count as a mismatch.
    """
    return _WHITESPACE.sub(" ", annotated) == _WHITESPACE.sub(" ", actual)


def loose_match(annotated: str, actual: str) -> bool:
    """Equal up to whitespace and case: i2b2 2010 ``.con`` files hold lower-cased text."""
    return whitespace_match(annotated.casefold(), actual.casefold())


def resolve_overlaps(candidates: Sequence[Candidate]) -> tuple[list[Candidate], list[tuple[Candidate, Candidate]]]:
    """Keep the longest of overlapping annotations (ties: the earliest start, then file order).

    Returns the kept annotations and, for each dropped one, the kept annotation it overlapped.
    A tagger needs disjoint spans; CLIN-X resolves overlaps the same way.
    """

    def rank(index: int) -> tuple[int, int, int]:
        candidate = candidates[index]
        return candidate.start - candidate.end, candidate.start, index

    order = sorted(range(len(candidates)), key=rank)
    # Kept spans are disjoint, so sorted by start they are sorted by end too: among those that
    # start before a candidate ends, only the last can reach past the candidate's start.
    starts: list[int] = []
    kept: list[Candidate] = []
    dropped: list[tuple[Candidate, Candidate]] = []
    for index in order:
        candidate = candidates[index]
        before = bisect_left(starts, candidate.end)
        if before and kept[before - 1].end > candidate.start:
            dropped.append((candidate, kept[before - 1]))
        else:
            starts.insert(before, candidate.start)
            kept.insert(before, candidate)
    return kept, dropped


def find_files(root: Path, suffix: str) -> list[Path]:
    """The corpus files: ``root`` itself, or every ``*suffix`` file below it, in a stable order."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"corpus path does not exist: {root}")
    files = sorted(path for path in root.rglob(f"*{suffix}") if path.is_file())
    if not files:
        raise CorpusError([CorpusIssue(str(root), None, "malformed", f"no *{suffix} files found")])
    return files


class ReportBuilder:
    """Collects documents and issues for one read, then applies the ``on_error`` policy."""

    def __init__(self, format: str, root: Path, on_error: OnError) -> None:
        if on_error not in ("fail", "skip"):
            raise ValueError(f"on_error must be 'fail' or 'skip', got {on_error!r}")
        self.root = root
        self.on_error = on_error
        self.report = CorpusReport(format)
        self._ids: dict[str, str] = {}

    def name(self, path: Path) -> str:
        """A file's name relative to the corpus root, so issues stay short and portable."""
        base = self.root if self.root.is_dir() else self.root.parent
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            return path.as_posix()

    def issue(self, file: str, line: int | None, kind: IssueKind, message: str) -> None:
        self.report.issues.append(CorpusIssue(file, line, kind, message))

    def drop_annotation(self, file: str, line: int | None, kind: IssueKind, message: str) -> None:
        self.issue(file, line, kind, message)
        self.report.dropped += 1

    def drop_document(self, file: str, line: int | None, kind: IssueKind, message: str) -> None:
        self.issue(file, line, kind, message)
        self.report.dropped_documents += 1

    def read_text(self, path: Path, *, whole_document: bool = True) -> str | None:
        """The file as UTF-8 with newlines untouched (offsets count them); None if unreadable.

        An unreadable file is reported, and counted as a dropped document if ``whole_document``.
        """
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                return handle.read()
        except UnicodeDecodeError as error:
            problem = f"not UTF-8 at byte {error.start}"
        except OSError as error:
            problem = f"cannot be read ({error.strerror})"
        self.issue(self.name(path), None, "malformed", problem)
        self.report.dropped_documents += whole_document
        return None

    def add_document(
        self,
        doc_id: str,
        text: str,
        candidates: Sequence[Candidate],
        *,
        file: str,
        line: int | None = None,
        match: TextMatch = exact_match,
    ) -> None:
        """Validate ``candidates`` against ``text``, resolve overlaps and keep the document."""
        if doc_id in self._ids:
            self.drop_document(file, line, "malformed", f"document id {doc_id!r} already read from {self._ids[doc_id]}")
            return
        self._ids[doc_id] = file
        valid = [c for c in candidates if self._is_valid(c, text, file, match)]
        kept, dropped = resolve_overlaps(valid)
        for loser, winner in dropped:
            where = "" if winner.line is None else f" (line {winner.line})"
            self.issue(
                file,
                loser.line,
                "overlap",
                f"{loser.label} span {loser.start}:{loser.end} overlaps the longer {winner.label} span "
                f"{winner.start}:{winner.end}{where} and was dropped",
            )
        self.report.overlaps_resolved += len(dropped)
        spans = tuple(Span(c.start, c.end, c.label, c.attributes) for c in kept)
        self.report.documents.append(Document(doc_id, text, spans))

    def _is_valid(self, candidate: Candidate, text: str, file: str, match: TextMatch) -> bool:
        start, end, line = candidate.start, candidate.end, candidate.line
        if not candidate.label:
            self.drop_annotation(file, line, "malformed", f"span {start}:{end} has an empty label")
            return False
        if not 0 <= start < end <= len(text):
            problem = "is empty or inverted" if start >= end else f"lies outside the text (length {len(text)})"
            self.drop_annotation(file, line, "out_of_range", f"span {start}:{end} {problem}")
            return False
        if candidate.text is not None and not match(candidate.text, text[start:end]):
            self.drop_annotation(
                file,
                line,
                "text_mismatch",
                f"annotation text (length {len(candidate.text)}) does not match the document text "
                f"at {start}:{end} (length {end - start})",
            )
            return False
        return True

    def finish(self) -> CorpusReport:
        """The report, or :class:`CorpusError` if ``on_error="fail"`` and any error was found."""
        errors = self.report.errors
        if errors and self.on_error == "fail":
            raise CorpusError(errors)
        return self.report


def line_of(text: str, position: int) -> int:
    """The 1-based line number of a character position."""
    return text.count("\n", 0, position) + 1
