"""i2b2 2010: token positions to offsets, multi-line concepts, assertions and every error kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_export.corpora import CorpusError, read_corpus, read_i2b2_2010

TEXT = "Zebulon Smith reports Chest Pain .\nNo  fever .\nHe takes aspirin\ndaily .\n"
#       line 1 tokens: 0 Zebulon 1 Smith 2 reports 3 Chest 4 Pain 5 .
#       line 2 tokens: 0 No 1 '' 2 fever 3 .   (double space keeps an empty token)


def _write(directory: Path, con: str, ast: str | None = None, name: str = "record-1") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.txt").write_text(TEXT, encoding="utf-8")
    (directory / f"{name}.con").write_text(con, encoding="utf-8")
    if ast is not None:
        (directory / f"{name}.ast").write_text(ast, encoding="utf-8")


def test_concepts_assertions_and_multiline_spans(tmp_path: Path) -> None:
    _write(
        tmp_path,
        'c="chest pain" 1:3 1:4||t="problem"\nc="fever" 2:2 2:2||t="problem"\n'
        'c="aspirin daily" 3:2 4:0||t="treatment"\n',
        'c="chest pain" 1:3 1:4||t="problem"||a="present"\nc="fever" 2:2 2:2||t="problem"||a="absent"\n',
    )
    report = read_i2b2_2010(tmp_path)
    (document,) = report.documents
    found = [(document.text[s.start : s.end], s.label, dict(s.attributes)) for s in document.spans]
    assert found == [
        ("Chest Pain", "problem", {"assertion": "present"}),
        ("fever", "problem", {"assertion": "absent"}),
        ("aspirin\ndaily", "treatment", {}),
    ]
    assert document.id == "record-1" and report.issues == []


def test_release_layout_with_sibling_folders_and_explicit_dirs(tmp_path: Path) -> None:
    (tmp_path / "beth" / "txt").mkdir(parents=True)
    (tmp_path / "beth" / "txt" / "r.txt").write_text(TEXT, encoding="utf-8")
    _write(tmp_path / "beth" / "concept", 'c="fever" 2:2 2:2||t="problem"\n', name="r")
    (tmp_path / "beth" / "concept" / "r.txt").unlink()
    (tmp_path / "beth" / "ast").mkdir()
    (tmp_path / "beth" / "ast" / "r.ast").write_text('c="fever" 2:2 2:2||t="problem"||a="absent"\n', encoding="utf-8")
    report = read_corpus("i2b2-2010", tmp_path / "beth" / "txt")
    assert dict(report.documents[0].spans[0].attributes) == {"assertion": "absent"}

    test_dir, reference = tmp_path / "test_data", tmp_path / "reference" / "concepts"
    test_dir.mkdir()
    (test_dir / "r.txt").write_text(TEXT, encoding="utf-8")
    _write(reference, 'c="pain" 1:4 1:4||t="problem"\n', name="r")
    (reference / "r.txt").unlink()
    report = read_i2b2_2010(test_dir, concept_dir=reference)
    assert report.counts["spans"] == 1


def test_every_error_kind_is_located_and_leaks_no_text(tmp_path: Path) -> None:
    _write(
        tmp_path,
        'c="chest pain" 1:3 1:4||t="problem"\n'  # fine
        'c="headache" 1:0 1:1||t="problem"\n'  # text_mismatch, line 2
        'c="pain" 9:0 9:1||t="problem"\n'  # out_of_range line, line 3
        'c="pain" 1:4 1:9||t="problem"\n'  # out_of_range token, line 4
        'c="pain" 1:4 1:3||t="problem"\n'  # inverted, line 5
        "chest pain 1:3 1:4 problem\n"  # malformed, line 6
        'c="" 2:1 2:1||t="problem"\n',  # empty token -> empty span, line 7
        'c="chest pain" 1:3 1:4||t="problem"\nc="fever" 2:2 2:2||t="problem"||a="absent"\n',
    )
    with pytest.raises(CorpusError) as caught:
        read_i2b2_2010(tmp_path)
    message = str(caught.value)
    assert message.startswith("8 error(s) in corpus:")
    expected = [
        "record-1.con:3: out_of_range: line 9 is outside the text (4 lines)",
        "record-1.con:4: out_of_range: token 9 is outside line 1 (6 tokens)",
        "record-1.con:5: out_of_range: ends (1:3) before it starts",
        'record-1.con:6: malformed: not c="..." L:T L:T||t="..."',
        'record-1.ast:1: malformed: no ||a="..." assertion',
        "record-1.ast:2: malformed: assertion names no concept of the .con file",
        (
            "record-1.con:2: text_mismatch: annotation text (length 8) does not match the document text at 0:13 "
            "(length 13)"
        ),
        "record-1.con:7: out_of_range: span 38:38 is empty or inverted",
    ]
    for line in expected:
        assert line in message
    for private in ("Zebulon", "Smith", "headache", "chest"):
        assert private not in message

    report = read_i2b2_2010(tmp_path, on_error="skip")
    assert [(s.start, s.end) for s in report.documents[0].spans] == [(22, 32)]
    assert report.dropped == 8


def test_missing_con_file(tmp_path: Path) -> None:
    (tmp_path / "lonely.txt").write_text(TEXT, encoding="utf-8")
    with pytest.raises(CorpusError, match=r"lonely\.txt: malformed: no \.con file found"):
        read_i2b2_2010(tmp_path)
