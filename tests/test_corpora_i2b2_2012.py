"""i2b2 2012: both tasks, attributes, the tolerant paths for broken XML, and error kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_export.corpora import CorpusError, read_corpus, read_i2b2_2012

TEXT = "\nAdmission Date :\n2013-01-02\nZebulon had pain & fever .\n"
# offsets: Admission 1:10, 2013-01-02 18:28, Zebulon 29:36, pain 41:45, "pain & fever" 41:53


def _xml(tags: str, text: str = TEXT, cdata: bool = True) -> str:
    body = f"<![CDATA[{text}]]>" if cdata else text
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<ClinicalNarrativeTemporalAnnotation>\n'
        f"<TEXT>{body}</TEXT>\n<TAGS>\n{tags}</TAGS>\n</ClinicalNarrativeTemporalAnnotation>\n"
    )


GOOD_TAGS = (
    '<EVENT id="E0" start="1" end="10" text="Admission" modality="FACTUAL" polarity="POS" type="OCCURRENCE" />\n'
    '<EVENT id="E1" start="41" end="45" text="pain" modality="FACTUAL" polarity="POS" type="PROBLEM" />\n'
    '<TIMEX3 id="T0" start="18" end="28" text="2013-01-02" type="DATE" val="2013-01-02" mod="NA" />\n'
    '<TLINK id="TL0" fromID="E0" fromText="Admission" toID="T0" toText="2013-01-02" type="BEFORE" />\n'
    '<SECTIONTIME id="S0" start="1" end="10" text="Admission" type="DATE" dvalue="2013-01-02" />\n'
)


def test_concepts_and_time_tasks(tmp_path: Path) -> None:
    (tmp_path / "1.xml").write_text(_xml(GOOD_TAGS), encoding="utf-8")
    concepts = read_corpus("i2b2-2012-concepts", tmp_path)
    (document,) = concepts.documents
    assert document.id == "1" and document.text == TEXT
    assert [(s.start, s.end, s.label) for s in document.spans] == [(1, 10, "OCCURRENCE"), (41, 45, "PROBLEM")]
    assert dict(document.spans[1].attributes) == {
        "id": "E1",
        "modality": "FACTUAL",
        "polarity": "POS",
        "type": "PROBLEM",
    }
    assert concepts.issues == []
    time = read_corpus("i2b2-2012-time", tmp_path)
    assert [(s.start, s.end, s.label) for s in time.documents[0].spans] == [(18, 28, "DATE")]
    with pytest.raises(ValueError, match="task"):
        read_i2b2_2012(tmp_path, task="relations")  # type: ignore[arg-type]


def test_escaped_text_without_cdata(tmp_path: Path) -> None:
    (tmp_path / "1.xml").write_text(_xml(GOOD_TAGS, TEXT.replace("&", "&amp;"), cdata=False), encoding="utf-8")
    report = read_corpus("i2b2-2012-concepts", tmp_path)
    assert report.documents[0].text == TEXT and report.issues == []


def test_bare_ampersand_is_escaped_and_reported(tmp_path: Path) -> None:
    tags = GOOD_TAGS + '<EVENT id="E2" start="41" end="53" text="pain & fever" type="PROBLEM" />\n'
    (tmp_path / "1.xml").write_text(_xml(tags), encoding="utf-8")
    report = read_corpus("i2b2-2012-concepts", tmp_path)
    assert [(s.start, s.end) for s in report.documents[0].spans] == [(1, 10), (41, 53)]
    assert [str(issue) for issue in report.issues] == [
        (
            "1.xml:14: tolerant_parse: not well-formed XML (not well-formed (invalid token) at line 14, column 47); "
            "read after escaping bare '&'"
        ),
        "1.xml:10: overlap: PROBLEM span 41:45 overlaps the longer PROBLEM span 41:53 (line 14) and was dropped",
    ]
    assert report.errors == []


def test_pattern_fallback_for_other_breakage(tmp_path: Path) -> None:
    tags = GOOD_TAGS + '<EVENT id="E2" start="46" end="53" text="<fever" type="PROBLEM" />\n<BROKEN>\n'
    (tmp_path / "1.xml").write_text(_xml(tags), encoding="utf-8")
    report = read_corpus("i2b2-2012-concepts", tmp_path, on_error="skip")
    assert report.issues[0].kind == "tolerant_parse" and "read by pattern matching" in report.issues[0].message
    assert report.issues[1].kind == "text_mismatch" and report.issues[1].line == 14
    assert [(s.start, s.end) for s in report.documents[0].spans] == [(1, 10), (41, 45)]


def test_error_kinds_are_located_and_leak_no_text(tmp_path: Path) -> None:
    tags = (
        '<EVENT id="E0" start="29" end="36" text="Someone" type="PROBLEM" />\n'  # line 9: text_mismatch
        '<EVENT id="E1" start="41" end="999" text="pain" type="PROBLEM" />\n'  # line 10: out_of_range
        '<EVENT id="E2" start="forty" end="45" text="pain" type="PROBLEM" />\n'  # line 11: malformed
        '<EVENT id="E3" start="41" end="45" text="pain" />\n'  # line 12: no type
    )
    (tmp_path / "1.xml").write_text(_xml(tags), encoding="utf-8")
    (tmp_path / "2.xml").write_text("<nothing/>", encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        read_corpus("i2b2-2012-concepts", tmp_path)
    message = str(caught.value)
    assert "1.xml:9: text_mismatch: annotation text (length 7) does not match the document text at 29:36" in message
    assert "1.xml:10: out_of_range: span 41:999 lies outside the text (length 56)" in message
    assert "1.xml:11: malformed: EVENT lacks integer start and end" in message
    assert "1.xml:12: malformed: span 41:45 has an empty label" in message
    assert "2.xml: malformed: no TEXT element" in message
    assert "Zebulon" not in message and "Someone" not in message
    report = read_corpus("i2b2-2012-concepts", tmp_path, on_error="skip")
    assert [d.id for d in report.documents] == ["1"] and report.documents[0].spans == ()
    assert report.dropped == 4 and report.dropped_documents == 1
