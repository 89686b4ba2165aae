"""CoNLL: text rebuilt from tokens, BIO and BIOES decoding, documents and malformed lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model_export.corpora import CorpusError, read_conll, read_corpus


def _spans(path: Path, **options: Any) -> list[tuple[str, str]]:
    report = read_corpus("conll", path, **options)
    return [(d.text[s.start : s.end], s.label) for d in report.documents for s in d.spans]


def test_bio_text_and_documents(tmp_path: Path) -> None:
    path = tmp_path / "train.conll"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\n"
        "Zebulon NNP B-PER\nSmith NNP I-PER\nhas VBZ O\nchest NN B-problem\npain NN I-problem\n\n"
        "No DT O\nfever NN B-problem\n\n"
        "-DOCSTART- -X- -X- O\n\n"
        "aspirin NN B-treatment\n",
        encoding="utf-8",
    )
    report = read_conll(path)
    assert [d.id for d in report.documents] == ["train-1", "train-2"]
    assert report.documents[0].text == "Zebulon Smith has chest pain\nNo fever"
    assert report.documents[1].text == "aspirin"
    assert _spans(path) == [
        ("Zebulon Smith", "PER"),
        ("chest pain", "problem"),
        ("fever", "problem"),
        ("aspirin", "treatment"),
    ]
    assert report.issues == [] and report.counts["spans"] == 4


def test_bioes_and_lenient_bio(tmp_path: Path) -> None:
    path = tmp_path / "a.conll"
    path.write_text(
        "a\tB-X\nb\tE-X\nc\tS-X\nd\tS-X\n"  # BIOES: [a b] [c] [d]
        "e\tI-X\nf\tI-X\n"  # I without B starts a span: [e f]
        "g\tI-Y\n"  # a type change starts a new span: [g]
        "h\tB-X\ni\tI-X\n\nj\tI-X\n"  # a sentence break ends a span: [h i] [j]
        "k\tE-X\n",  # an E continuing j's span: [j k]
        encoding="utf-8",
    )
    assert _spans(path) == [
        ("a b", "X"),
        ("c", "X"),
        ("d", "X"),
        ("e f", "X"),
        ("g", "Y"),
        ("h i", "X"),
        ("j k", "X"),
    ]


def test_file_without_docstart_is_one_document(tmp_path: Path) -> None:
    (tmp_path / "x.conll").write_text("a O\n\nb B-X\n\n\n", encoding="utf-8")
    report = read_conll(tmp_path)
    assert [(d.id, d.text) for d in report.documents] == [("x-1", "a\nb")]


def test_malformed_lines_are_located(tmp_path: Path) -> None:
    path = tmp_path / "bad.conll"
    path.write_text("Zebulon B-PER\nSmith\nhas X-PER\nit B-\n", encoding="utf-8")
    with pytest.raises(CorpusError) as caught:
        read_conll(path)
    message = str(caught.value)
    assert message.startswith("3 error(s) in corpus:")
    assert "bad.conll:2: malformed: line has a token but no tag; read as O" in message
    assert "bad.conll:3: malformed: tag is not O or B/I/E/S-TYPE (length 5); read as O" in message
    assert "bad.conll:4: malformed: tag is not O or B/I/E/S-TYPE (length 2); read as O" in message
    assert "Zebulon" not in message and "Smith" not in message
    report = read_conll(path, on_error="skip")
    assert report.documents[0].text == "Zebulon Smith has it"
    assert report.dropped == 3 and report.counts["spans"] == 1


def test_directory_uses_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.bio").write_text("x B-X\n", encoding="utf-8")
    assert read_conll(tmp_path, suffix=".bio").counts["spans"] == 1
