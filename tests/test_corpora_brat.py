"""brat standoff: T lines, the label map, every error kind, and the real NCBI disease corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from model_export.corpora import NCBI_DISEASE_LABELS, CorpusError, read_brat, read_corpus

NCBI = Path("/work/shared/data/ncbi-disease/standoff")
TEXT = "Zebulon has familial adenomatous polyposis and colon cancer.\n"


def _pair(directory: Path, name: str, ann: str, text: str = TEXT) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.txt").write_text(text, encoding="utf-8")
    (directory / f"{name}.ann").write_text(ann, encoding="utf-8")


def test_reads_t_lines_ignores_other_kinds_and_maps_labels(tmp_path: Path) -> None:
    _pair(
        tmp_path / "train",
        "doc1",
        "T1\tModifier 21 42\tadenomatous polyposis\n"
        "N1\tReference T1 MeSH:D011125\n"
        "T2\tSpecificDisease 47 59\tcolon cancer\n"
        "A1\tNegated T2\nR1\tRel Arg1:T1 Arg2:T2\n#1\tAnnotatorNotes T1\tnote\n\n",
    )
    report = read_brat(tmp_path, label_map=NCBI_DISEASE_LABELS)
    (document,) = report.documents
    assert document.id == "doc1" and document.text == TEXT
    assert [(s.start, s.end, s.label) for s in document.spans] == [(21, 42, "Disease"), (47, 59, "Disease")]
    assert dict(document.spans[0].attributes) == {"id": "T1"}
    assert report.issues == []
    unmapped = read_brat(tmp_path / "train" / "doc1.txt")
    assert [s.label for s in unmapped.documents[0].spans] == ["Modifier", "SpecificDisease"]


def test_every_error_kind_is_located_and_leaks_no_text(tmp_path: Path) -> None:
    _pair(
        tmp_path,
        "doc1",
        "T1\tDisease 21 42\tadenomatous polyposis\n"  # fine
        "T2\tDisease 0 7\tsomeone\n"  # text_mismatch, line 2
        "T3\tDisease 50 99\tcancer\n"  # out_of_range, line 3
        "T4\tDisease 21 32;33 42\tadenomatous polyposis\n"  # discontinuous, line 4
        "T5\tDisease x y\tcolon\n"  # malformed, line 5
        "X1\twhat\n",  # malformed, line 6
    )
    with pytest.raises(CorpusError) as caught:
        read_brat(tmp_path)
    message = str(caught.value)
    assert message.startswith("5 error(s) in corpus:")
    assert "doc1.ann:2: text_mismatch: annotation text (length 7) does not match the document text at 0:7" in message
    assert "doc1.ann:3: out_of_range: span 50:99 lies outside the text (length 61)" in message
    assert "doc1.ann:4: discontinuous: T4 has 2 fragments (21 32;33 42)" in message
    assert "doc1.ann:5: malformed: T5 has unreadable offsets" in message
    assert "doc1.ann:6: malformed: unknown annotation line kind" in message
    for private in ("Zebulon", "someone", "adenomatous", "cancer"):
        assert private not in message

    report = read_brat(tmp_path, on_error="skip")
    assert [(s.start, s.end) for s in report.documents[0].spans] == [(21, 42)]
    assert report.dropped == 5 and len(report.errors) == 5


def test_overlaps_resolved_to_the_longest(tmp_path: Path) -> None:
    _pair(tmp_path, "doc1", "T1\tDisease 47 52\tcolon\nT2\tDisease 47 59\tcolon cancer\n")
    report = read_brat(tmp_path)
    assert [(s.start, s.end) for s in report.documents[0].spans] == [(47, 59)]
    assert report.overlaps_resolved == 1
    assert str(report.issues[0]).startswith("doc1.ann:1: overlap: Disease span 47:52 overlaps the longer")


def test_missing_ann_is_reported_and_skippable(tmp_path: Path) -> None:
    _pair(tmp_path, "doc1", "")
    (tmp_path / "doc2.txt").write_text("lonely", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"doc2\.txt: malformed: no \.ann file beside it"):
        read_brat(tmp_path)
    report = read_brat(tmp_path, on_error="skip")
    assert [d.id for d in report.documents] == ["doc1"] and report.dropped_documents == 1


def test_crlf_text_keeps_offsets_as_stored(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_bytes(b"line one\r\nfever\r\n")
    (tmp_path / "d.ann").write_bytes(b"T1\tProblem 10 15\tfever\r\n")
    report = read_brat(tmp_path)
    document = report.documents[0]
    assert document.text[10:15] == "fever" and len(document.spans) == 1


def test_not_utf8_is_malformed(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_bytes(b"caf\xe9")
    (tmp_path / "d.ann").write_text("", encoding="utf-8")
    report = read_brat(tmp_path, on_error="skip")
    assert str(report.issues[0]) == "d.txt: malformed: not UTF-8 at byte 3"
    assert report.documents == [] and report.dropped_documents == 1


@pytest.mark.skipif(not NCBI.is_dir(), reason=f"NCBI disease corpus not found at {NCBI}")
def test_reads_the_whole_ncbi_disease_corpus() -> None:
    sizes = {}
    mentions = 0
    for split in ("train", "devel", "test"):
        report = read_corpus("brat", NCBI / split, on_error="fail", label_map=NCBI_DISEASE_LABELS)
        sizes[split] = report.counts["documents"]
        mentions += report.counts["spans"] + report.overlaps_resolved
        assert {span.label for document in report.documents for span in document.spans} == {"Disease"}
        assert report.errors == []
    assert sizes == {"train": 593, "devel": 100, "test": 100}
    assert 6800 <= mentions <= 7000  # 6,892 in the release read here
