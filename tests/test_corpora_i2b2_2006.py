"""i2b2 2006: inline PHI markup turned into text and offsets, per record, tolerantly."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_export.corpora import CorpusError, read_corpus

GOOD = (
    '<ROOT>\n<RECORD ID="101">\n<TEXT>\n'
    '<PHI TYPE="PATIENT">Zebulon Smith</PHI> seen &amp; admitted <PHI TYPE="DATE">12/03</PHI>.\n'
    'Dr. <PHI TYPE="DOCTOR">Who</PHI> &lt;attending&gt;\n</TEXT>\n</RECORD>\n'
)


def test_offsets_come_from_inline_markup(tmp_path: Path) -> None:
    path = tmp_path / "deid.xml"
    path.write_text(GOOD + '<RECORD ID="102">\n<TEXT>\nnone here\n</TEXT>\n</RECORD>\n</ROOT>\n', encoding="utf-8")
    report = read_corpus("i2b2-2006", path)
    first, second = report.documents
    assert first.id == "101" and second.id == "102"
    assert first.text == "\nZebulon Smith seen & admitted 12/03.\nDr. Who <attending>\n"
    assert [(first.text[s.start : s.end], s.label) for s in first.spans] == [
        ("Zebulon Smith", "PATIENT"),
        ("12/03", "DATE"),
        ("Who", "DOCTOR"),
    ]
    assert second.text == "\nnone here\n" and second.spans == ()
    assert report.issues == []


def test_bare_ampersand_record_is_read_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "deid.xml"
    path.write_text(GOOD.replace("&amp;", "&") + "</ROOT>\n", encoding="utf-8")
    report = read_corpus("i2b2-2006", path)
    assert report.documents[0].text.startswith("\nZebulon Smith seen & admitted")
    (issue,) = report.issues
    assert issue.kind == "tolerant_parse" and issue.line == 4
    assert "RECORD 101" in issue.message and "escaping bare '&'" in issue.message


def test_broken_records_cost_only_themselves(tmp_path: Path) -> None:
    path = tmp_path / "deid.xml"
    path.write_text(
        GOOD
        + '<RECORD ID="102">\n<TEXT>\nZebulon <PHI TYPE="PATIENT">Smith <PHI TYPE="DATE">1/2</PHI></PHI> x < y\n'
        + '<PHI TYPE="DATE">3/4\n</TEXT>\n</RECORD>\n'  # line 11: never closed
        + "<RECORD>\n<TEXT>\nno id\n</TEXT>\n</RECORD>\n"  # line 14: no ID
        + '<RECORD ID="104">\n<TEXT>\n<PHI>Zebulon</PHI> <PHI TYPE="AGE"></PHI>\n</TEXT>\n</RECORD>\n</ROOT>\n',
        encoding="utf-8",
    )
    with pytest.raises(CorpusError) as caught:
        read_corpus("i2b2-2006", path)
    message = str(caught.value)
    assert "deid.xml:10: malformed: PHI nested in the PHI opened on line 10; inner tag ignored" in message
    assert "deid.xml:11: malformed: PHI is never closed" in message
    assert "deid.xml:14: malformed: RECORD unreadable: no ID attribute" in message
    assert "deid.xml:21: malformed: span 1:8 has an empty label" in message
    assert "deid.xml:21: out_of_range: span 9:9 is empty or inverted" in message
    assert "Zebulon" not in message and "Smith" not in message

    report = read_corpus("i2b2-2006", path, on_error="skip")
    assert [d.id for d in report.documents] == ["101", "102", "104"]
    tolerant = [issue for issue in report.issues if issue.kind == "tolerant_parse"]
    assert [issue.line for issue in tolerant] == [10]
    record = report.documents[1]
    assert record.text == "\nZebulon Smith 1/2 x < y\n3/4\n"
    assert [(record.text[s.start : s.end], s.label) for s in record.spans] == [("Smith 1/2", "PATIENT")]
    assert report.dropped_documents == 1 and report.dropped == 4
