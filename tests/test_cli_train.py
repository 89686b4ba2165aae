"""The ``clinx train`` and ``clinx evaluate`` command lines: formats, relabelling, errors, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.text.types import Document, Span
from model_export import commands
from model_export.checkpoints import ENSEMBLE_FILE, TRAINING_FILE
from model_export.corpus_options import parse_label_map, relabel
from tests.train_support import tiny_base, tiny_corpus, trained_checkpoint, write_jsonl

TINY = ["--chunk-subwords", "24", "--context-subwords", "8", "--learning-rate", "3e-3", "--device", "cpu",
        "--seed", "0", "--no-progress"]


def write_brat(root: Path, documents: list[Document]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for document in documents:
        (root / f"{document.id}.txt").write_text(document.text, encoding="utf-8")
        lines = [f"T{n}\t{span.label} {span.start} {span.end}\t{document.text[span.start:span.end]}"
                 for n, span in enumerate(document.spans, start=1)]
        (root / f"{document.id}.ann").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


def test_label_map_from_text_and_json(tmp_path: Path) -> None:
    assert parse_label_map("SpecificDisease=Disease, Modifier=Disease,Other=") == {
        "SpecificDisease": "Disease", "Modifier": "Disease", "Other": ""}
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"problem": "Problem"}))
    assert parse_label_map(str(path)) == {"problem": "Problem"}
    with pytest.raises(ValueError, match="SOURCE=TARGET"):
        parse_label_map("nonsense")


def test_relabel_maps_drops_and_collapses() -> None:
    document = Document("d", "abc def ghi", (Span(0, 3, "a"), Span(4, 7, "b"), Span(8, 11, "c")))
    mapped = relabel([document], {"a": "A", "b": ""}, None)[0]
    assert [(s.start, s.label) for s in mapped.spans] == [(0, "A"), (8, "c")]
    collapsed = relabel([document], {"b": ""}, "Thing")[0]
    assert [(s.start, s.label) for s in collapsed.spans] == [(0, "Thing"), (8, "Thing")]


def test_train_on_brat_with_collapsed_labels_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    train_docs, dev_docs = tiny_corpus()
    train_dir, dev_dir = write_brat(tmp_path / "train", train_docs[:12]), write_brat(tmp_path / "dev", dev_docs[:3])
    output = tmp_path / "model"
    code = commands.train(["--base-model", str(tiny_base()), "--train", str(train_dir), "--dev", str(dev_dir),
                           "--output", str(output), "--format", "brat", "--collapse-labels", "Concept",
                           "--epochs", "1", "--pack-sentences", "--paragraph-breaks", "windows", *TINY])
    assert code == 0
    record = json.loads((output / TRAINING_FILE).read_text())
    assert record["pack_sentences"] is True and record["config"]["pack_sentences"] is True
    assert record["paragraph_breaks"] == "windows" == record["config"]["paragraph_breaks"]
    assert record["config"]["batch_size"] == 4  # packed windows hold several sentences each
    assert record["tags"] == ["O", "B-Concept", "I-Concept", "E-Concept", "S-Concept"]
    assert record["corpus"]["format"] == "brat" and record["corpus"]["collapse_labels"] == "Concept"
    assert (output / "train_log.jsonl").is_file()
    err = capsys.readouterr().err
    assert "brat: 12 documents" in err and "brat: 3 documents" in err

    scores, errors = tmp_path / "scores.json", tmp_path / "errors.json"
    code = commands.evaluate([str(output), "--corpus", str(dev_dir), "--format", "brat", "--collapse-labels",
                              "Concept", "--output", str(scores), "--errors", str(errors)])
    assert code == 0
    out = capsys.readouterr().out
    assert "strict" in out and "lenient" in out and "micro" in out and "Concept" in out
    result = json.loads(scores.read_text())
    assert result["model"]["kind"] == "checkpoint" and result["corpus"]["documents"] == 3
    assert result["model"]["decode"] == "word-viterbi" and "word-viterbi decoding" in out
    assert set(result["scores"]) == {"strict", "lenient"}
    for kind in ("strict", "lenient"):
        low, high = result["intervals"][kind]
        assert 0.0 <= low <= high <= 1.0 and f"{kind} {low:.4f} to {high:.4f}" in out
    assert result["intervals"]["rounds"] == 1000
    assert isinstance(json.loads(errors.read_text()), dict)
    code = commands.evaluate([str(output), "--corpus", str(dev_dir), "--format", "brat", "--collapse-labels",
                              "Concept", "--decode", "subword", "--output", str(scores), "--bootstrap", "0"])
    out = capsys.readouterr().out
    assert code == 0 and "subword decoding" in out and "interval" not in out
    assert json.loads(scores.read_text())["model"]["decode"] == "subword"
    assert "intervals" not in json.loads(scores.read_text())


def test_evaluate_warns_about_types_the_model_does_not_know(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    _, dev_docs = tiny_corpus()
    corpus = write_jsonl(tmp_path / "dev.jsonl", dev_docs[:2])
    code = commands.evaluate([str(trained_checkpoint()), "--corpus", str(corpus), "--label-map", "problem=Finding"])
    assert code == 0
    assert "corpus types the model does not predict: ['Finding']" in capsys.readouterr().err


def test_on_error_fail_stops_and_skip_drops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train_docs, dev_docs = tiny_corpus()
    corpus = write_jsonl(tmp_path / "train.jsonl", train_docs[:6])
    lines = corpus.read_text().splitlines()
    broken = json.loads(lines[0])
    broken["spans"].append({"start": 0, "end": len(broken["text"]) + 5, "label": "problem"})  # beyond the text
    corpus.write_text("\n".join([json.dumps(broken), *lines[1:]]) + "\n")
    dev = write_jsonl(tmp_path / "dev.jsonl", dev_docs[:2])
    common = ["--base-model", str(tiny_base()), "--train", str(corpus), "--dev", str(dev), "--epochs", "1", *TINY]
    assert commands.train([*common, "--output", str(tmp_path / "fail")]) == 1
    assert "out_of_range" in capsys.readouterr().err
    assert commands.train([*common, "--output", str(tmp_path / "skip"), "--on-error", "skip"]) == 0
    assert "dropped 1 annotations" in capsys.readouterr().err


def test_dev_is_required_without_ensemble(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        commands.train(["--base-model", "x", "--train", str(tmp_path), "--output", str(tmp_path / "o")])
    assert exit_info.value.code == 2


def test_ensemble_and_resume_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train_docs, _ = tiny_corpus()
    corpus = write_jsonl(tmp_path / "train.jsonl", train_docs[:12])
    output = tmp_path / "ensemble"
    argv = ["--base-model", str(tiny_base()), "--train", str(corpus), "--output", str(output), "--ensemble", "2",
            "--epochs", "1", *TINY]
    assert commands.train(argv) == 0
    record = json.loads((output / ENSEMBLE_FILE).read_text())
    assert [(output / name / TRAINING_FILE).is_file() for name in record["members"]] == [True, True]
    assert sorted(doc_id for split in record["splits"] for doc_id in split) == sorted(d.id for d in train_docs[:12])
    assert "member-2: best epoch 1" in capsys.readouterr().out
    assert commands.train([*argv, "--resume"]) == 0  # finished members are kept, not retrained
    code = commands.evaluate([str(output), "--corpus", str(corpus)])
    assert code == 0 and "ensemble" in capsys.readouterr().out


def test_missing_base_model_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train_docs, dev_docs = tiny_corpus()
    corpus, dev = write_jsonl(tmp_path / "t.jsonl", train_docs[:2]), write_jsonl(tmp_path / "d.jsonl", dev_docs[:1])
    code = commands.train(["--base-model", str(tmp_path / "nothing"), "--train", str(corpus), "--dev", str(dev),
                           "--output", str(tmp_path / "o"), *TINY])
    assert code == 1
    assert "clinx train:" in capsys.readouterr().err


def test_several_training_corpora_are_joined_and_duplicate_ids_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CLIN-X's ensembles split train and dev together: `--train TRAIN DEV` joins them."""
    train_docs, _ = tiny_corpus()
    first = write_jsonl(tmp_path / "a.jsonl", train_docs[:5])
    second = write_jsonl(tmp_path / "b.jsonl", train_docs[5:9])
    output = tmp_path / "ensemble"
    common = ["--base-model", str(tiny_base()), "--epochs", "1", "--ensemble", "2", *TINY]
    assert commands.train(["--train", str(first), str(second), "--output", str(output), *common]) == 0
    record = json.loads((output / "clinx_ensemble.json").read_text())
    assert sorted(doc for split in record["splits"] for doc in split) == sorted(d.id for d in train_docs[:9])
    assert record["corpus"]["train"] == "a.jsonl+b.jsonl"

    again = write_jsonl(tmp_path / "c.jsonl", train_docs[4:6])
    assert commands.train(["--train", str(first), str(again), "--output", str(tmp_path / "x"), *common]) == 1
    assert f"document id {train_docs[4].id!r} appears in more than one --train corpus" in capsys.readouterr().err
