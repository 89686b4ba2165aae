"""The NegEx/ConText evaluation set: one sentence per row, one condition, three judgements.

Tab-separated with a header line: row number, condition, sentence (the condition in UPPER CASE),
negation status (``Affirmed``/``Negated``), temporality (``Recent``/``Historical``/``Not
particular``), experiencer (``Patient``/``Family member``/``Other``). Each row becomes a document
(id ``negex-<row>``) with one span labelled ``problem``, whose attributes carry ``assertion``
(``absent`` when negated, ``associated_with_someone_else`` when another person's, else
``present``), ``historical`` and the original ``negation``. The condition is found
case-insensitively, the upper-case occurrence first. ``split``: ``heldout`` keeps the rows whose
number ends in 0 (this project's held-out split), ``dev`` those ending in 5 (model selection),
``train`` the others, ``all`` every row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from model_export.corpora._common import Candidate, CorpusReport, OnError, ReportBuilder, find_files

Split = Literal["all", "train", "dev", "heldout"]
LABEL = "problem"
NEGATIONS = {"affirmed": False, "negated": True}
TEMPORALITY = {"recent": False, "historical": True, "not particular": False}


def in_split(row: int, split: Split) -> bool:
    part = {0: "heldout", 5: "dev"}.get(row % 10, "train")
    return split in ("all", part)


def find_condition(sentence: str, condition: str) -> tuple[int, int] | None:
    """Where the condition lies: its upper-case occurrence first, else any case; whitespace runs may differ."""
    words = condition.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(word) for word in words), re.IGNORECASE)
    matches = list(pattern.finditer(sentence))
    if not matches:
        return None
    upper = [match for match in matches if match.group(0).upper() == match.group(0)]
    chosen = (upper or matches)[0]
    return chosen.start(), chosen.end()


def read_negex(path: Path, *, on_error: OnError = "fail", split: Split = "all") -> CorpusReport:
    """Read every ``.tsv`` under ``path`` (or the file itself)."""
    builder = ReportBuilder("negex", path, on_error)
    for file_path in find_files(path, ".tsv"):
        content = builder.read_text(file_path, whole_document=False)
        if content is None:
            continue
        file = builder.name(file_path)
        for number, line in enumerate(content.split("\n"), start=1):
            if number == 1 or not line.strip():
                continue  # the header
            _read_row(builder, file, number, line.rstrip("\r"), split)
    return builder.finish()


def _read_row(builder: ReportBuilder, file: str, number: int, line: str, split: Split) -> None:
    fields = line.split("\t")
    if len(fields) != 6 or not fields[0].strip().isdigit():
        builder.drop_document(file, number, "malformed", "not 6 tab-separated fields starting with a row number")
        return
    row, condition, _, negation, temporality, experiencer = (field.strip() for field in fields)
    if not in_split(int(row), split):
        return
    negated, historical = NEGATIONS.get(negation.lower()), TEMPORALITY.get(temporality.lower())
    if negated is None or historical is None:
        builder.drop_document(file, number, "malformed", "unknown negation status or temporality")
        return
    found = find_condition(fields[2], condition)
    if found is None:
        builder.drop_document(file, number, "text_mismatch", "the condition does not occur in the sentence")
        return
    assertion = ("associated_with_someone_else" if experiencer.lower() != "patient" else
                 "absent" if negated else "present")
    attributes = (("assertion", assertion), ("historical", historical), ("negation", negation.lower()))
    builder.add_document(f"negex-{row}", fields[2], [Candidate(found[0], found[1], LABEL, number, None, attributes)],
                         file=file, line=number)
