"""The shared layer: the overlap rule, on_error, the error message, the report and read_corpus."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from model_export.corpora import (
    FORMATS,
    Candidate,
    CorpusError,
    CorpusIssue,
    read_corpus,
    resolve_overlaps,
)

SECRET = "Zebulon Quackenbush"


def test_formats_names_every_reader() -> None:
    assert set(FORMATS) == {
        "i2b2-2010",
        "i2b2-2012-concepts",
        "i2b2-2012-time",
        "i2b2-2006",
        "i2b2-2014",
        "brat",
        "conll",
        "jsonl",
        "negex",
    }


def test_overlap_keeps_longest_then_earliest() -> None:
    short = Candidate(0, 4, "A", 1)
    longest = Candidate(2, 10, "B", 2)
    tie_late = Candidate(12, 16, "C", 3)
    tie_early = Candidate(11, 15, "D", 4)
    disjoint = Candidate(20, 22, "E", 5)
    kept, dropped = resolve_overlaps([short, longest, tie_late, tie_early, disjoint])
    assert kept == [longest, tie_early, disjoint]
    assert dropped == [(short, longest), (tie_late, tie_early)]


def test_overlap_exact_duplicate_keeps_first_in_file_order() -> None:
    first, second = Candidate(0, 4, "A", 1), Candidate(0, 4, "B", 2)
    assert resolve_overlaps([first, second]) == ([first], [(second, first)])


def test_touching_spans_do_not_overlap() -> None:
    spans = [Candidate(0, 4, "A", 1), Candidate(4, 8, "A", 2)]
    assert resolve_overlaps(spans) == (spans, [])


def _jsonl(tmp_path: Path, records: list[dict[str, object]]) -> Path:
    path = tmp_path / "notes.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_overlaps_are_warnings_counted_and_located(tmp_path: Path) -> None:
    text = f"{SECRET} has chest pain"
    spans = [{"start": 20, "end": 30, "label": "problem"}, {"start": 26, "end": 30, "label": "problem"}]
    report = read_corpus("jsonl", _jsonl(tmp_path, [{"id": "1", "text": text, "spans": spans}]))
    assert report.overlaps_resolved == 1
    assert [(s.start, s.end) for s in report.documents[0].spans] == [(20, 30)]
    (issue,) = report.issues
    assert (issue.file, issue.line, issue.kind, issue.is_error) == ("notes.jsonl", 1, "overlap", False)
    assert "26:30" in issue.message and "20:30" in issue.message


def test_fail_raises_with_all_errors_and_skip_drops_them(tmp_path: Path) -> None:
    text = f"{SECRET} has chest pain"
    spans = [
        {"start": 20, "end": 30, "label": "problem"},
        {"start": 20, "end": 99, "label": "problem"},
        {"start": 0, "end": 7, "label": "name", "text": "someone"},
    ]
    path = _jsonl(tmp_path, [{"id": "1", "text": text, "spans": spans}])
    with pytest.raises(CorpusError) as caught:
        read_corpus("jsonl", path, on_error="fail")
    assert [issue.kind for issue in caught.value.issues] == ["out_of_range", "text_mismatch"]
    message = str(caught.value)
    assert message.startswith("2 error(s) in corpus:")
    assert "notes.jsonl:1: out_of_range: span 20:99" in message
    assert SECRET.split()[0] not in message and "someone" not in message

    report = read_corpus("jsonl", path, on_error="skip")
    assert report.dropped == 2
    assert [(s.start, s.end) for s in report.documents[0].spans] == [(20, 30)]
    assert report.counts == {
        "documents": 1,
        "spans": 1,
        "overlaps_resolved": 0,
        "dropped": 2,
        "dropped_documents": 0,
        "errors": 2,
        "warnings": 0,
    }
    summary = report.summary()
    assert "1 documents, 1 spans" in summary and "out_of_range=1" in summary and "text_mismatch=1" in summary
    assert SECRET.split()[0] not in summary


def test_error_message_shows_first_ten_and_the_count() -> None:
    issues = [CorpusIssue("a.ann", line, "malformed", "bad") for line in range(1, 14)]
    message = str(CorpusError(issues))
    assert message.startswith("13 error(s) in corpus:")
    assert "a.ann:10: malformed: bad" in message and "a.ann:11:" not in message
    assert message.endswith("... and 3 more")


def test_issue_without_line_prints_file_only() -> None:
    assert str(CorpusIssue("x.txt", None, "malformed", "no .ann file")) == "x.txt: malformed: no .ann file"


def test_unknown_format_and_on_error_are_rejected(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [])
    with pytest.raises(ValueError, match="unknown corpus format 'csv'"):
        read_corpus("csv", path)
    with pytest.raises(ValueError, match="on_error"):
        read_corpus("jsonl", path, on_error="ignore")  # type: ignore[arg-type]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_corpus("brat", tmp_path / "nowhere")
    with pytest.raises(CorpusError, match=r"no \*\.txt files found"):
        read_corpus("brat", tmp_path)


def test_duplicate_document_ids_are_errors(tmp_path: Path) -> None:
    path = _jsonl(tmp_path, [{"id": "1", "text": "a", "spans": []}, {"id": "1", "text": "b", "spans": []}])
    report = read_corpus("jsonl", path, on_error="skip")
    assert [document.text for document in report.documents] == ["a"]
    assert report.dropped_documents == 1
    assert "document id '1' already read from notes.jsonl" in report.issues[0].message


def test_overlap_rule_matches_a_brute_force_reading() -> None:
    rng = random.Random(7)
    for _ in range(200):
        candidates = []
        for line in range(rng.randint(0, 12)):
            start = rng.randint(0, 30)
            candidates.append(Candidate(start, start + rng.randint(1, 8), "X", line))
        ranked = sorted(candidates, key=lambda c: (c.start - c.end, c.start, candidates.index(c)))
        expected: list[Candidate] = []
        for candidate in ranked:
            if all(k.end <= candidate.start or candidate.end <= k.start for k in expected):
                expected.append(candidate)
        kept, dropped = resolve_overlaps(candidates)
        assert kept == sorted(expected, key=lambda c: c.start)
        assert len(kept) + len(dropped) == len(candidates)
        assert all(loser.start < winner.end and winner.start < loser.end for loser, winner in dropped)


def test_read_corpus_passes_format_options(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("colon cancer", encoding="utf-8")
    (tmp_path / "d.ann").write_text("T1\tSpecificDisease 0 12\tcolon cancer\n", encoding="utf-8")
    report = read_corpus("brat", tmp_path, label_map={"SpecificDisease": "Disease"})
    assert report.documents[0].spans[0].label == "Disease"
