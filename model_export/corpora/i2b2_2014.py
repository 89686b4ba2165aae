"""i2b2/UTHealth 2014 de-identification: XML with a CDATA TEXT and one PHI element per tag.

Elements look like ``<DATE id="P0" start="16" end="26" text="2067-05-03" TYPE="DATE" />``:
the element name is the PHI category (NAME, DATE, ...), ``TYPE`` the finer type (PATIENT,
DOCTOR, ...). Labels are the TYPE by default; ``label_from="category"`` uses the element name
for the coarser task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from model_export.corpora._common import CorpusReport, OnError, ReportBuilder, find_files
from model_export.corpora._xml import XmlTag, read_standoff_corpus

LabelFrom = Literal["type", "category"]


def read_i2b2_2014(path: Path, *, on_error: OnError = "fail", label_from: LabelFrom = "type") -> CorpusReport:
    """Read a directory (or one file) of 2014 ``.xml`` files."""
    if label_from not in ("type", "category"):
        raise ValueError(f"label_from must be 'type' or 'category', got {label_from!r}")

    def label_of(tag: XmlTag) -> str:
        return tag.name if label_from == "category" else tag.attributes.get("TYPE", "").strip()

    builder = ReportBuilder("i2b2-2014", path, on_error)
    return read_standoff_corpus(builder, find_files(path, ".xml"), label_of)
