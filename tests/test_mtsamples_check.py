"""The stand-off annotations of MTSamples sentences (two sets of 40) resolve against the notes and hold no
note text; each set is the draw its README names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.text.words import Words
from benchmarks.mtsamples_check import (
    ANNOTATIONS,
    NOTES,
    SECOND_SET,
    AnnotationError,
    draw,
    fresh_draw,
    read_annotations,
    read_notes,
    sentence_digest,
)

pytestmark = pytest.mark.skipif(not NOTES.is_file(), reason=f"MTSamples notes not found at {NOTES}")


@pytest.fixture(scope="module")
def notes() -> dict[str, str]:
    return read_notes()


@pytest.mark.parametrize("path", [ANNOTATIONS, SECOND_SET], ids=["mtsamples-40", "mtsamples-40b"])
def test_forty_sentences_resolve_on_word_boundaries(notes: dict[str, str], path: Path) -> None:
    sentences = read_annotations(notes, path)
    assert len(sentences) == 40 and len({sentence.note for sentence in sentences}) == 40
    assert sum(len(sentence.spans) for sentence in sentences) >= 40
    labels = {span.label for sentence in sentences for span in sentence.spans}
    assert labels == {"problem", "test", "treatment"}
    for sentence in sentences:
        text = notes[sentence.note]
        words = Words.of(text)
        for span in sentence.spans:
            assert sentence.start <= span.start < span.end <= sentence.end
            assert not words.cuts(span.start) and not words.cuts(span.end)
            assert text[span.start : span.end] == text[span.start : span.end].strip()


@pytest.mark.parametrize("path", [ANNOTATIONS, SECOND_SET], ids=["mtsamples-40", "mtsamples-40b"])
def test_the_file_holds_no_note_text(notes: dict[str, str], path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    assert all(set(json.loads(line)) == {"note", "sentence", "sha256", "spans"} for line in raw.splitlines())
    for sentence in read_annotations(notes, path):
        text = notes[sentence.note]
        assert text[sentence.start : sentence.end] not in raw
        for span in sentence.spans:
            if span.end - span.start >= 5:
                assert text[span.start : span.end] not in raw


def test_the_draw_is_reproducible_and_is_the_annotated_one(notes: dict[str, str]) -> None:
    drawn = draw(notes, 4040, 40)
    assert drawn == draw(notes, 4040, 40)
    assert [(s.note, s.start, s.end) for s in read_annotations(notes)] == drawn


def test_the_second_set_is_a_fresh_draw_sharing_no_note_with_the_first(notes: dict[str, str]) -> None:
    first = read_annotations(notes)
    second = read_annotations(notes, SECOND_SET)
    assert [(s.note, s.start, s.end) for s in second] == fresh_draw(notes, 4141, 40, first)
    assert not {s.note for s in first} & {s.note for s in second}


@pytest.mark.parametrize(("change", "message"), [
    ({"sha256": "0" * 64}, "does not hold the annotated sentence"),
    ({"note": "mts-nope"}, "is not in the notes"),
    ({"text": "copied"}, "keys must be"),
])
def test_a_record_that_does_not_resolve_is_named(notes: dict[str, str], tmp_path: Path, change: dict[str, str],
                                                  message: str) -> None:
    first = json.loads(ANNOTATIONS.read_text(encoding="utf-8").splitlines()[0])
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps({**first, **change}) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=rf"broken.jsonl line 1: .*{message}"):
        read_annotations(notes, path)


def test_a_span_that_cuts_a_word_is_refused(notes: dict[str, str], tmp_path: Path) -> None:
    note = next(iter(notes))
    text = notes[note]
    words = Words.of(text)
    start, end = words.starts[0], words.ends[0]
    assert end - start >= 2, "the first word of the first note is long enough to cut"
    record = {"note": note, "sentence": [start, end], "sha256": sentence_digest(text[start:end]),
              "spans": [[start, end - 1, "problem"]]}
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match="cuts a word"):
        read_annotations(notes, path)


def test_the_pooled_set_scores_both_sets_with_intervals(tiny_bundle: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    output = tmp_path / "pooled"
    subprocess.run([sys.executable, "benchmarks/mtsamples_check.py", "score", "--bundle", str(tiny_bundle),
                    "--set", "mtsamples-80", "--variant", "fp32", "--output", str(output)], check=True,
                   capture_output=True, cwd=Path(__file__).resolve().parents[1])
    result = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    assert (result["set"], result["sentences"], result["gold_spans"]) == ("mtsamples-80", 80, 40 + 49)
    for kind in ("strict", "lenient"):
        low, high = result["intervals"][kind]
        assert 0.0 <= low <= result["scores"][kind]["f1"] <= high <= 1.0
    assert "95% interval of F1" in output.with_suffix(".md").read_text(encoding="utf-8")
