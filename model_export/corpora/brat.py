"""brat standoff: a ``.txt`` per document and a ``.ann`` beside it with ``T`` (text-bound) lines.

``T1<TAB>Disease 43 76<TAB>text``: offsets are character offsets into the ``.txt`` as stored.
Discontinuous spans (``43 50;55 60``) cannot be one tagger span, so they are errors. Other line
kinds (normalisations, attributes, relations, events, notes) carry no spans and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from model_export.corpora._common import Candidate, CorpusReport, OnError, ReportBuilder, find_files, whitespace_match

# NCBI disease: the four mention classes collapse to one type for the usual disease NER task.
NCBI_DISEASE_LABELS: dict[str, str] = {
    "SpecificDisease": "Disease",
    "DiseaseClass": "Disease",
    "Modifier": "Disease",
    "CompositeMention": "Disease",
}

_IGNORED = ("N", "A", "M", "R", "E", "*", "#")
_FRAGMENT = re.compile(r"(\d+) (\d+)")


def read_brat(path: Path, *, on_error: OnError = "fail", label_map: Mapping[str, str] | None = None) -> CorpusReport:
    """Read every ``.txt``/``.ann`` pair below ``path``; types missing from ``label_map`` stay as they are."""
    builder = ReportBuilder("brat", path, on_error)
    for text_path in find_files(path, ".txt"):
        ann_path = text_path.with_suffix(".ann")
        if not ann_path.is_file():
            builder.drop_document(builder.name(text_path), None, "malformed", "no .ann file beside it")
            continue
        text = builder.read_text(text_path)
        annotations = None if text is None else builder.read_text(ann_path)
        if text is None or annotations is None:
            continue
        file = builder.name(ann_path)
        candidates = _parse_ann(builder, file, annotations, label_map or {})
        builder.add_document(text_path.stem, text, candidates, file=file, match=whitespace_match)
    return builder.finish()


def _parse_ann(builder: ReportBuilder, file: str, annotations: str, label_map: Mapping[str, str]) -> list[Candidate]:
    candidates: list[Candidate] = []
    for number, line in enumerate(annotations.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip() or line.startswith(_IGNORED):
            continue
        if not line.startswith("T"):
            builder.drop_annotation(file, number, "malformed", "unknown annotation line kind")
            continue
        fields = line.split("\t", 2)
        if len(fields) != 3 or " " not in fields[1]:
            builder.drop_annotation(file, number, "malformed", "T line is not 'ID<TAB>TYPE START END<TAB>TEXT'")
            continue
        label, _, offsets = fields[1].partition(" ")
        fragments = offsets.split(";")
        if not all(_FRAGMENT.fullmatch(fragment) for fragment in fragments):
            builder.drop_annotation(file, number, "malformed", f"{fields[0]} has unreadable offsets")
            continue
        if len(fragments) > 1:
            builder.drop_annotation(
                file, number, "discontinuous", f"{fields[0]} has {len(fragments)} fragments ({offsets})"
            )
            continue
        start, end = (int(value) for value in fragments[0].split(" "))
        candidates.append(Candidate(start, end, label_map.get(label, label), number, fields[2], (("id", fields[0]),)))
    return candidates
