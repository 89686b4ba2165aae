"""Evaluation of bundles, checkpoints and ensembles: one decode path, one scorer, everywhere."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.bundle import read_manifest
from app.text.words import Words
from model_export.checkpoints import TRAINING_FILE
from model_export.evaluate import (
    EvaluationError,
    error_report,
    evaluate_documents,
    load_predictor,
)
from tests.train_support import exported_bundle, tiny_corpus, trained_checkpoint, trained_ensemble


def test_checkpoint_scores_equal_the_ones_recorded_in_training() -> None:
    checkpoint = trained_checkpoint()
    _, dev_docs = tiny_corpus()
    record = json.loads((checkpoint / TRAINING_FILE).read_text())
    evaluation = evaluate_documents(load_predictor(checkpoint), dev_docs)
    assert evaluation.scores.to_dict() == record["dev"]
    assert evaluation.scores.lenient.tp > 0  # the tiny model does predict spans


def test_bundle_scores_equal_the_checkpoint_and_the_figures_written_at_export() -> None:
    """Export scores the bundle with the same scorer; evaluating the bundle reproduces its figures."""
    bundle = exported_bundle()
    _, dev_docs = tiny_corpus()
    manifest = read_manifest(bundle)
    fp32 = evaluate_documents(load_predictor(bundle, variant="fp32"), dev_docs)
    torch_scores = evaluate_documents(load_predictor(trained_checkpoint()), dev_docs)
    assert fp32.scores.to_dict() == torch_scores.scores.to_dict() == manifest.evaluation["dev"]
    assert fp32.scores.to_dict() == manifest.evaluation["eval_corpus"]["variants"]["fp32"]
    int8 = load_predictor(bundle, variant="int8")
    assert (int8.kind, int8.members, int8.details["variant"]) == ("bundle", 1, "int8")
    assert evaluate_documents(int8, dev_docs).scores.to_dict() == manifest.evaluation["eval_corpus"]["variants"]["int8"]


def test_missing_variant_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    shutil.copytree(exported_bundle(), bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    for member in manifest["members"]:
        member["variants"].pop("int8", None)
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EvaluationError, match="int8"):
        load_predictor(bundle, variant="int8")


def test_ensemble_votes_all_members() -> None:
    root = trained_ensemble()
    _, dev_docs = tiny_corpus()
    predictor = load_predictor(root)
    assert (predictor.kind, predictor.members) == ("ensemble", 2)
    recorded = json.loads((root / "clinx_ensemble.json").read_text())["dev"]
    assert evaluate_documents(predictor, dev_docs).scores.to_dict() == recorded


def test_error_report_lists_strict_errors_without_text_unless_asked() -> None:
    _, dev_docs = tiny_corpus()
    evaluation = evaluate_documents(load_predictor(trained_checkpoint()), dev_docs)
    report = error_report(evaluation, dev_docs)
    assert sum(len(d["false_positives"]) for d in report.values()) == evaluation.scores.strict.fp
    assert sum(len(d["false_negatives"]) for d in report.values()) == evaluation.scores.strict.fn
    assert all("text" not in span for d in report.values() for spans in d.values() for span in spans)
    texts = {d.id: d.text for d in dev_docs}
    with_text = error_report(evaluation, dev_docs, with_text=True)
    for doc_id, kinds in with_text.items():
        for span in kinds["false_negatives"]:
            assert span["text"] == texts[doc_id][span["start"] : span["end"]]


def test_unknown_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="not a bundle"):
        load_predictor(tmp_path)


def test_the_recorded_decoding_rule_is_used_everywhere_and_can_be_overridden() -> None:
    """Training records word-viterbi decoding; the checkpoint, the bundle (through the server's engine) and
    the export figures agree on it, and ``decode="subword"`` or ``"word"`` gives the same spans from both."""
    checkpoint, bundle = trained_checkpoint(), exported_bundle()
    _, dev_docs = tiny_corpus()
    assert json.loads((checkpoint / TRAINING_FILE).read_text())["decode"] == "word-viterbi"
    assert read_manifest(bundle).decode == "word-viterbi"
    word = evaluate_documents(load_predictor(checkpoint), dev_docs)
    assert load_predictor(bundle).details["decode"] == load_predictor(checkpoint).details["decode"] == "word-viterbi"
    for document in dev_docs:
        words = Words.of(document.text)
        assert not any(words.cuts(span.start) or words.cuts(span.end) for span in word.predicted[document.id])
    for rule in ("subword", "word"):
        from_checkpoint, from_bundle = load_predictor(checkpoint, decode=rule), load_predictor(bundle, decode=rule)
        assert from_checkpoint.details["decode"] == from_bundle.details["decode"] == rule
        assert (evaluate_documents(from_checkpoint, dev_docs).predicted
                == evaluate_documents(from_bundle, dev_docs).predicted)


def test_a_checkpoint_without_a_rule_decodes_subwords_and_a_bad_rule_is_named(tmp_path: Path) -> None:
    checkpoint = tmp_path / "checkpoint"
    shutil.copytree(trained_checkpoint(), checkpoint, ignore=shutil.ignore_patterns("last"))
    record = json.loads((checkpoint / TRAINING_FILE).read_text())
    del record["decode"]
    (checkpoint / TRAINING_FILE).write_text(json.dumps(record))
    assert load_predictor(checkpoint).details["decode"] == "subword"
    (checkpoint / TRAINING_FILE).write_text(json.dumps({**record, "decode": "letters"}))
    with pytest.raises(EvaluationError, match="field decode is 'letters'"):
        load_predictor(checkpoint)
