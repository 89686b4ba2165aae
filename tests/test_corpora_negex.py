"""The NegEx/ConText TSV reader: spans found in the sentence, attributes, splits, defects reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_export.corpora import CorpusError, read_corpus
from tests.conftest import DATA

HEADER = "line number\tCondition\tsentence\tnegation_status\ttemporality\texperiencer\n"


def write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "rows.tsv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_rows_become_documents_with_one_attributed_span(tmp_path: Path) -> None:
    path = write(tmp_path, ["1\tedema\tNo edema. Leg EDEMA absent.\tNegated\tRecent\tPatient",
                            "2\tcancer\tMother had CANCER.\tAffirmed\tHistorical\tFamily member",
                            "10\tfever\tFEVER.\tAffirmed\tNot particular\tPatient"])
    documents = read_corpus("negex", path).documents
    assert [d.id for d in documents] == ["negex-1", "negex-2", "negex-10"]
    first = documents[0]
    assert first.text[first.spans[0].start : first.spans[0].end] == "EDEMA"  # the upper-case occurrence
    assert dict(first.spans[0].attributes) == {"assertion": "absent", "historical": False, "negation": "negated"}
    assert dict(documents[1].spans[0].attributes)["assertion"] == "associated_with_someone_else"
    assert dict(documents[1].spans[0].attributes)["historical"] is True
    assert [d.id for d in read_corpus("negex", path, split="heldout").documents] == ["negex-10"]
    assert [d.id for d in read_corpus("negex", path, split="train").documents] == ["negex-1", "negex-2"]


def test_defects_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, ["1\tedema\tNothing here.\tNegated\tRecent\tPatient", "2\tx\ttoo few"])
    with pytest.raises(CorpusError) as raised:
        read_corpus("negex", path)
    assert "rows.tsv:2: text_mismatch" in str(raised.value) and "rows.tsv:3: malformed" in str(raised.value)
    assert len(read_corpus("negex", path, on_error="skip").documents) == 0


def test_the_shared_set_reads_with_its_known_defects() -> None:
    path = DATA / "negex"
    if not path.is_dir():
        pytest.skip(f"NegEx data not found at {path} (../shared/data is absent on this machine)")
    report = read_corpus("negex", path, on_error="skip")
    assert report.counts["documents"] == 1594 and report.dropped_documents == 6
    held_out = read_corpus("negex", path, on_error="skip", split="heldout").documents
    assert len(held_out) == 158 and all(int(d.id.split("-")[1]) % 10 == 0 for d in held_out)
