"""Tolerant XML for the i2b2 releases, several of whose official files are not well-formed.

Each reader gives a strict parser (expat, which reports line numbers) and a pattern-matching
fallback. :func:`parse_tolerantly` tries strict, then strict after escaping bare ``&`` outside
CDATA, then the fallback, and says which path was needed so the reader can warn about it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from xml.parsers import expat

from model_export.corpora._common import Candidate, CorpusReport, ReportBuilder, line_of, whitespace_match

T = TypeVar("T")

_CDATA = re.compile(r"<!\[CDATA\[.*?\]\]>", re.DOTALL)
_BARE_AMPERSAND = re.compile(r"&(?!#[0-9]+;|#x[0-9A-Fa-f]+;|[A-Za-z_][\w.-]*;)")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_STANDOFF_TAG = re.compile(r"""<([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*/?>""")


class XmlError(Exception):
    """Markup that could not be read; the message holds expat's error name and position only.

    ``syntax`` is False for a well-formed file of the wrong shape, which no tolerance can fix.
    """

    def __init__(self, line: int | None, message: str, *, syntax: bool = True) -> None:
        super().__init__(message)
        self.line = line
        self.syntax = syntax


@dataclass(frozen=True)
class XmlTag:
    """An element with its attributes and the line it starts on."""

    name: str
    attributes: dict[str, str]
    line: int


@dataclass
class Standoff:
    """A TEXT section and the tag elements annotating it (the 2012 and 2014 layout)."""

    text: str = ""
    tags: list[XmlTag] = field(default_factory=list)


def normalize_newlines(raw: str) -> str:
    """XML parsers turn CR LF into LF; doing it first keeps every path's offsets identical."""
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def unescape(value: str) -> str:
    """Replace XML's predefined and numeric entities, as a parser would."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int("0" + name[1:], 0))  # "#x1F" -> "0x1F"
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _NAMED[name]

    return _ENTITY.sub(replace, value)


def escape_bare_ampersands(raw: str) -> str:
    """Escape ``&`` that starts no entity, outside CDATA (where ``&`` is already legal)."""
    pieces: list[str] = []
    position = 0
    for match in _CDATA.finditer(raw):
        pieces.append(_BARE_AMPERSAND.sub("&amp;", raw[position : match.start()]))
        pieces.append(match.group(0))
        position = match.end()
    pieces.append(_BARE_AMPERSAND.sub("&amp;", raw[position:]))
    return "".join(pieces)


def parse_attributes(markup: str) -> dict[str, str]:
    """Attributes of tag-shaped markup, found by pattern where a parser gave up."""
    found = _ATTRIBUTE.finditer(markup)
    return {m.group(1): unescape(m.group(2) if m.group(2) is not None else m.group(3)) for m in found}


def parse_tolerantly(
    raw: str, strict: Callable[[str], T], fallback: Callable[[str], T]
) -> tuple[T, str | None, int | None]:
    """The parse, a note saying which tolerant path was needed (None if none), and the error line."""
    try:
        return strict(raw), None, None
    except XmlError as error:
        if not error.syntax:
            raise
        first = error
    escaped = escape_bare_ampersands(raw)
    if escaped != raw:
        try:
            return strict(escaped), f"not well-formed XML ({first}); read after escaping bare '&'", first.line
        except XmlError:
            pass
    try:
        return fallback(raw), f"not well-formed XML ({first}); read by pattern matching", first.line
    except XmlError as error:
        raise XmlError(first.line, f"not well-formed XML ({first}); pattern fallback failed: {error}") from None


def run_expat(
    raw: str,
    start: Callable[[str, dict[str, str], int], None],
    end: Callable[[str], None],
    data: Callable[[str], None],
    line_offset: int = 0,
) -> None:
    """Drive expat with element (name, attributes, line) and text callbacks.

    Lines, in callbacks and in :class:`XmlError`, are shifted by ``line_offset`` so a chunk of
    a file reports the file's own lines.
    """
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def on_start(name: str, attributes: dict[str, str]) -> None:
        start(name, attributes, parser.CurrentLineNumber + line_offset)

    parser.StartElementHandler = on_start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as error:
        line = error.lineno + line_offset
        raise XmlError(line, f"{expat.ErrorString(error.code)} at line {line}, column {error.offset}") from None


def strict_standoff(raw: str) -> Standoff:
    """TEXT content (CDATA or escaped) and every element inside TAGS, by a real XML parse."""
    result = Standoff()
    stack: list[str] = []
    chunks: list[str] = []
    seen: set[str] = set()

    def start(name: str, attributes: dict[str, str], line: int) -> None:
        seen.add(name)
        if "TAGS" in stack:
            result.tags.append(XmlTag(name, dict(attributes), line))
        stack.append(name)

    def data(content: str) -> None:
        if "TEXT" in stack:
            chunks.append(content)

    def end(name: str) -> None:
        stack.pop()

    run_expat(raw, start, end, data)
    if "TEXT" not in seen:
        raise XmlError(None, "no TEXT element", syntax=False)
    result.text = "".join(chunks)
    return result


def fallback_standoff(raw: str) -> Standoff:
    """The same by pattern matching: TEXT's first occurrence and tag-shaped markup within TAGS."""
    text_match = re.search(r"<TEXT>(.*?)</TEXT>", raw, re.DOTALL)
    if text_match is None:
        raise XmlError(None, "no <TEXT>...</TEXT> section")
    result = Standoff(text=_text_content(text_match.group(1)))
    tags_match = re.search(r"<TAGS\s*>(.*?)</TAGS\s*>", raw, re.DOTALL)
    if tags_match is None:
        if re.search(r"<TAGS\s*/>", raw) is None:
            raise XmlError(None, "no <TAGS> section")
        return result
    for tag in _STANDOFF_TAG.finditer(raw, tags_match.start(1), tags_match.end(1)):
        result.tags.append(XmlTag(tag.group(1), parse_attributes(tag.group(2)), line_of(raw, tag.start())))
    return result


def _text_content(content: str) -> str:
    """Character data of a section: CDATA taken literally, the rest unescaped."""
    pieces: list[str] = []
    position = 0
    for match in _CDATA.finditer(content):
        pieces.append(unescape(content[position : match.start()]))
        pieces.append(match.group(0)[len("<![CDATA[") : -len("]]>")])
        position = match.end()
    pieces.append(unescape(content[position:]))
    return "".join(pieces)


def read_standoff(raw: str) -> tuple[Standoff, str | None, int | None]:
    """A 2012/2014-style file, tolerantly: the parse, the tolerant-path note and its line."""
    return parse_tolerantly(normalize_newlines(raw), strict_standoff, fallback_standoff)


def read_standoff_corpus(
    builder: ReportBuilder, files: list[Path], label_of: Callable[[XmlTag], str | None]
) -> CorpusReport:
    """Read 2012/2014-style files: one document per file, its id the file stem.

    ``label_of`` names a tag's label, or returns None for tags the task ignores (TLINKs, say).
    """
    for path in files:
        file = builder.name(path)
        raw = builder.read_text(path)
        if raw is None:
            continue
        try:
            standoff, note, error_line = read_standoff(raw)
        except XmlError as error:
            builder.drop_document(file, error.line, "malformed", str(error))
            continue
        if note is not None:
            builder.issue(file, error_line, "tolerant_parse", note)
        candidates: list[Candidate] = []
        for tag in standoff.tags:
            label = label_of(tag)
            if label is None:
                continue
            try:
                start, end = int(tag.attributes["start"]), int(tag.attributes["end"])
            except (KeyError, ValueError):
                builder.drop_annotation(file, tag.line, "malformed", f"{tag.name} lacks integer start and end")
                continue
            extra = tuple(sorted((k, v) for k, v in tag.attributes.items() if k not in ("start", "end", "text")))
            candidates.append(Candidate(start, end, label, tag.line, tag.attributes.get("text"), extra))
        builder.add_document(path.stem, standoff.text, candidates, file=file, match=whitespace_match)
    return builder.finish()
