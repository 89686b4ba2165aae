"""i2b2/VA 2012 temporal relations: XML with a CDATA TEXT and EVENT/TIMEX3 tags in TAGS.

Offsets are character offsets into the TEXT content. Two tasks share the files: clinical
concepts (EVENT, labelled by ``type``) and time expressions (TIMEX3, labelled by ``type``).
Several official files are not well-formed XML (bare ``&``), so parsing is tolerant and each
file that needed it is reported as a ``tolerant_parse`` warning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from model_export.corpora._common import CorpusReport, OnError, ReportBuilder, find_files
from model_export.corpora._xml import XmlTag, read_standoff_corpus

Task = Literal["concepts", "time"]
_ELEMENT: dict[str, str] = {"concepts": "EVENT", "time": "TIMEX3"}


def read_i2b2_2012(path: Path, *, task: Task, on_error: OnError = "fail") -> CorpusReport:
    """Read a directory (or one file) of 2012 ``.xml`` files for one task."""
    if task not in _ELEMENT:
        raise ValueError(f"task must be 'concepts' or 'time', got {task!r}")
    builder = ReportBuilder(f"i2b2-2012-{task}", path, on_error)
    return read_standoff_corpus(builder, find_files(path, ".xml"), _labeller(_ELEMENT[task]))


def read_i2b2_2012_concepts(path: Path, *, on_error: OnError = "fail") -> CorpusReport:
    return read_i2b2_2012(path, task="concepts", on_error=on_error)


def read_i2b2_2012_time(path: Path, *, on_error: OnError = "fail") -> CorpusReport:
    return read_i2b2_2012(path, task="time", on_error=on_error)


def _labeller(element: str) -> Callable[[XmlTag], str | None]:
    def label_of(tag: XmlTag) -> str | None:
        return tag.attributes.get("type", "").strip() if tag.name == element else None

    return label_of
