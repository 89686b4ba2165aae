"""i2b2 2014: PHI elements in TAGS, labelled by TYPE or by the element's category."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_export.corpora import CorpusError, read_corpus, read_i2b2_2014

TEXT = "\n\n\nRecord date: 2067-05-03\nZebulon Smith, MD\n"
# offsets: 2067-05-03 16:26, Zebulon Smith 27:40


def _write(path: Path, tags: str) -> None:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8" ?>\n<deIdi2b2>\n'
        f"<TEXT><![CDATA[{TEXT}]]></TEXT>\n<TAGS>\n{tags}</TAGS>\n</deIdi2b2>\n",
        encoding="utf-8",
    )


GOOD = (
    '<DATE id="P0" start="16" end="26" text="2067-05-03" TYPE="DATE" comment="" />\n'
    '<NAME id="P1" start="27" end="40" text="Zebulon Smith" TYPE="DOCTOR" comment="" />\n'
)


def test_labels_from_type_or_category(tmp_path: Path) -> None:
    _write(tmp_path / "110-01.xml", GOOD)
    report = read_corpus("i2b2-2014", tmp_path)
    (document,) = report.documents
    assert document.id == "110-01" and document.text == TEXT
    assert [(s.start, s.end, s.label) for s in document.spans] == [(16, 26, "DATE"), (27, 40, "DOCTOR")]
    assert dict(document.spans[1].attributes) == {"TYPE": "DOCTOR", "comment": "", "id": "P1"}
    by_category = read_i2b2_2014(tmp_path, label_from="category")
    assert [s.label for s in by_category.documents[0].spans] == ["DATE", "NAME"]
    with pytest.raises(ValueError, match="label_from"):
        read_i2b2_2014(tmp_path, label_from="element")  # type: ignore[arg-type]


def test_errors_are_located_and_leak_no_text(tmp_path: Path) -> None:
    _write(
        tmp_path / "110-01.xml",
        GOOD
        + '<NAME id="P2" start="27" end="34" text="Someone" TYPE="PATIENT" comment="" />\n'  # line 12
        + '<NAME id="P3" start="27" end="80" text="Zebulon" TYPE="PATIENT" comment="" />\n'  # line 13
        + '<NAME id="P4" end="34" text="Zebulon" TYPE="PATIENT" comment="" />\n',  # line 13
    )
    with pytest.raises(CorpusError) as caught:
        read_i2b2_2014(tmp_path)
    message = str(caught.value)
    assert message.startswith("3 error(s) in corpus:")
    assert (
        "110-01.xml:12: text_mismatch: annotation text (length 7) does not match the document text at 27:34" in message
    )
    assert "110-01.xml:13: out_of_range: span 27:80 lies outside the text (length 45)" in message
    assert "110-01.xml:14: malformed: NAME lacks integer start and end" in message
    assert "Zebulon" not in message and "Someone" not in message
    report = read_i2b2_2014(tmp_path, on_error="skip")
    assert report.counts["spans"] == 2 and report.dropped == 3


def test_bare_ampersand_in_text_attribute(tmp_path: Path) -> None:
    _write(tmp_path / "1.xml", GOOD.replace('comment=""', 'comment="A&B"', 1))
    report = read_i2b2_2014(tmp_path)
    assert report.counts["spans"] == 2
    assert [issue.kind for issue in report.issues] == ["tolerant_parse"] and report.issues[0].line == 10
    assert dict(report.documents[0].spans[0].attributes)["comment"] == "A&B"
