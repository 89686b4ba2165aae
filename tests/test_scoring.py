"""Span-level strict/lenient scoring, checked against hand-computed figures."""

from __future__ import annotations

import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from app.text.types import Span
from model_export.scoring import Counts, Scores, bootstrap_f1, errors, score


def figures(scores: Scores, criterion: str) -> tuple[int, int, int]:
    f = getattr(scores, criterion)
    return (f.tp, f.fp, f.fn)


# --- empty cases -----------------------------------------------------------------------------


def test_empty_corpus_scores_zero_without_dividing_by_zero() -> None:
    Corpus = dict[str, list[Span]]
    cases: list[tuple[Corpus, Corpus]] = [({}, {}), ({"d": []}, {}), ({"d": []}, {"d": []})]
    for gold, predicted in cases:
        scores = score(gold, predicted)
        for f in (scores.strict, scores.lenient):
            assert (f.tp, f.fp, f.fn) == (0, 0, 0)
            assert (f.precision, f.recall, f.f1) == (0.0, 0.0, 0.0)
            assert dict(f.per_type) == {}


def test_no_gold_spans_only_false_positives() -> None:
    scores = score({"d": []}, {"d": [Span(0, 3, "problem")]})
    assert figures(scores, "strict") == figures(scores, "lenient") == (0, 1, 0)
    assert (scores.strict.precision, scores.strict.recall, scores.strict.f1) == (0.0, 0.0, 0.0)


def test_document_missing_from_predictions_counts_as_no_predictions() -> None:
    scores = score({"d1": [Span(0, 3, "problem")], "d2": [Span(4, 8, "test")]}, {"d1": [Span(0, 3, "problem")]})
    assert figures(scores, "strict") == (1, 0, 1)
    assert scores.strict.precision == 1.0
    assert scores.strict.recall == 0.5
    assert scores.strict.f1 == pytest.approx(2 / 3)


def test_unknown_predicted_document_is_an_error_naming_it() -> None:
    with pytest.raises(ValueError, match="'ghost'"):
        score({"d": []}, {"d": [], "ghost": [Span(0, 1, "test")]})
    with pytest.raises(ValueError, match="'ghost'"):
        errors({"d": []}, {"ghost": []})


# --- single mismatches -----------------------------------------------------------------------


def test_exact_match_is_perfect() -> None:
    scores = score({"d": [Span(0, 10, "problem")]}, {"d": [Span(0, 10, "problem")]})
    for f in (scores.strict, scores.lenient):
        assert (f.tp, f.fp, f.fn, f.precision, f.recall, f.f1) == (1, 0, 0, 1.0, 1.0, 1.0)


def test_boundary_mismatch_is_strict_fp_and_fn_but_lenient_tp() -> None:
    scores = score({"d": [Span(0, 10, "problem")]}, {"d": [Span(0, 8, "problem")]})
    assert figures(scores, "strict") == (0, 1, 1)
    assert (scores.strict.precision, scores.strict.recall, scores.strict.f1) == (0.0, 0.0, 0.0)
    assert figures(scores, "lenient") == (1, 0, 0)
    assert (scores.lenient.precision, scores.lenient.recall, scores.lenient.f1) == (1.0, 1.0, 1.0)


def test_type_mismatch_is_wrong_under_both_criteria() -> None:
    scores = score({"d": [Span(0, 5, "problem")]}, {"d": [Span(0, 5, "test")]})
    for criterion in ("strict", "lenient"):
        f = getattr(scores, criterion)
        assert (f.tp, f.fp, f.fn) == (0, 1, 1)
        assert f.per_type["problem"] == Counts(tp=0, fp=0, fn=1)
        assert f.per_type["test"] == Counts(tp=0, fp=1, fn=0)


def test_touching_spans_do_not_overlap() -> None:
    # end is exclusive: 0:5 and 5:9 share no character
    scores = score({"d": [Span(0, 5, "problem")]}, {"d": [Span(5, 9, "problem")]})
    assert figures(scores, "lenient") == (0, 1, 1)


def test_attributes_are_ignored() -> None:
    gold = {"d": [Span(0, 5, "problem", attributes=(("assertion", "present"),))]}
    predicted = {"d": [Span(0, 5, "problem")]}
    assert figures(score(gold, predicted), "strict") == (1, 0, 0)


# --- one-to-many overlaps --------------------------------------------------------------------


def test_one_prediction_covering_two_gold_spans_matches_only_one() -> None:
    gold = {"d": [Span(0, 5, "problem"), Span(6, 12, "problem")]}
    predicted = {"d": [Span(0, 12, "problem")]}
    scores = score(gold, predicted)
    assert figures(scores, "strict") == (0, 1, 2)
    # lenient: one TP (the larger overlap, 6:12), the other gold is missed
    assert figures(scores, "lenient") == (1, 0, 1)
    assert scores.lenient.precision == 1.0
    assert scores.lenient.recall == 0.5
    assert scores.lenient.f1 == pytest.approx(2 / 3)


def test_two_predictions_inside_one_gold_span_match_only_one() -> None:
    gold = {"d": [Span(0, 12, "problem")]}
    predicted = {"d": [Span(0, 5, "problem"), Span(6, 12, "problem")]}
    scores = score(gold, predicted)
    assert figures(scores, "strict") == (0, 2, 1)
    assert figures(scores, "lenient") == (1, 1, 0)
    assert (scores.lenient.precision, scores.lenient.recall) == (0.5, 1.0)
    assert scores.lenient.f1 == pytest.approx(2 / 3)


def test_greedy_by_largest_overlap_pairs_crossing_spans() -> None:
    # X (2:10) overlaps A by 2 and B by 7; Y (0:3) overlaps only A. Largest first: X-B, then Y-A.
    gold = {"d": [Span(0, 4, "problem"), Span(3, 10, "problem")]}
    predicted = {"d": [Span(2, 10, "problem"), Span(0, 3, "problem")]}
    assert figures(score(gold, predicted), "lenient") == (2, 0, 0)


def test_exact_matches_are_paired_before_overlaps() -> None:
    # Q (0:10) overlaps G (2:10) as much as P (2:10) does; pairing Q-G would strand G2 (0:2),
    # which only Q overlaps. Exact pairs go first, so P-G and then Q-G2: two lenient TPs.
    gold = {"d": [Span(0, 2, "problem"), Span(2, 10, "problem")]}
    predicted = {"d": [Span(0, 10, "problem"), Span(2, 10, "problem")]}
    scores = score(gold, predicted)
    assert figures(scores, "strict") == (1, 1, 1)
    assert figures(scores, "lenient") == (2, 0, 0)


def test_duplicate_prediction_is_one_tp_and_one_fp() -> None:
    scores = score({"d": [Span(0, 4, "test")]}, {"d": [Span(0, 4, "test"), Span(0, 4, "test")]})
    assert figures(scores, "strict") == figures(scores, "lenient") == (1, 1, 0)


def test_result_does_not_depend_on_input_order() -> None:
    gold = {"d": [Span(0, 4, "problem"), Span(3, 10, "problem"), Span(12, 15, "test")]}
    predicted = [Span(2, 10, "problem"), Span(0, 3, "problem"), Span(11, 14, "test"), Span(13, 20, "test")]
    forward = score(gold, {"d": predicted})
    backward = score(gold, {"d": predicted[::-1]})
    assert forward.to_dict() == backward.to_dict()


# --- a small corpus, per type ----------------------------------------------------------------

GOLD = {
    "d1": [Span(0, 4, "problem"), Span(10, 15, "test"), Span(20, 30, "treatment")],
    "d2": [Span(0, 5, "problem"), Span(6, 9, "problem")],
    "d3": [Span(1, 3, "test")],
}
PREDICTED = {
    "d1": [Span(0, 4, "problem"), Span(10, 14, "test"), Span(40, 45, "problem")],
    "d2": [Span(0, 5, "problem")],
    # d3 missing: its gold span is a false negative
}


def test_per_type_and_micro_figures() -> None:
    scores = score(GOLD, PREDICTED)

    strict = scores.strict
    assert strict.per_type["problem"] == Counts(tp=2, fp=1, fn=1)
    assert strict.per_type["test"] == Counts(tp=0, fp=1, fn=2)
    assert strict.per_type["treatment"] == Counts(tp=0, fp=0, fn=1)
    assert strict.per_type["problem"].precision == pytest.approx(2 / 3)
    assert strict.per_type["problem"].recall == pytest.approx(2 / 3)
    assert strict.per_type["problem"].f1 == pytest.approx(2 / 3)
    assert strict.per_type["treatment"].precision == 0.0  # nothing predicted
    # micro: tp 2, fp 2, fn 4 -> P 2/4, R 2/6, F1 4/10
    assert (strict.tp, strict.fp, strict.fn) == (2, 2, 4)
    assert strict.precision == 0.5
    assert strict.recall == pytest.approx(1 / 3)
    assert strict.f1 == pytest.approx(0.4)

    lenient = scores.lenient
    assert lenient.per_type["problem"] == Counts(tp=2, fp=1, fn=1)
    assert lenient.per_type["test"] == Counts(tp=1, fp=0, fn=1)  # 10:14 overlaps 10:15
    assert lenient.per_type["treatment"] == Counts(tp=0, fp=0, fn=1)
    assert lenient.per_type["test"].f1 == pytest.approx(2 / 3)
    # micro: tp 3, fp 1, fn 3 -> P 3/4, R 3/6, F1 6/10
    assert (lenient.tp, lenient.fp, lenient.fn) == (3, 1, 3)
    assert lenient.precision == 0.75
    assert lenient.recall == 0.5
    assert lenient.f1 == pytest.approx(0.6)


def test_errors_lists_strict_fp_and_fn_per_document() -> None:
    assert errors(GOLD, PREDICTED) == {
        "d1": {
            "false_positives": [Span(10, 14, "test"), Span(40, 45, "problem")],
            "false_negatives": [Span(10, 15, "test"), Span(20, 30, "treatment")],
        },
        "d2": {"false_positives": [], "false_negatives": [Span(6, 9, "problem")]},
        "d3": {"false_positives": [], "false_negatives": [Span(1, 3, "test")]},
    }


def test_to_dict_is_json_ready() -> None:
    data = score(GOLD, PREDICTED).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"strict", "lenient"}
    assert data["strict"]["tp"] == 2
    assert data["strict"]["precision"] == 0.5
    assert list(data["lenient"]["per_type"]) == ["problem", "test", "treatment"]
    assert data["lenient"]["per_type"]["test"] == {
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
        "tp": 1,
        "fp": 0,
        "fn": 1,
    }


def test_table_is_fixed_width_with_a_row_per_type_and_micro() -> None:
    table = score(GOLD, PREDICTED).table()
    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert "strict" in lines[0] and "lenient" in lines[0]
    assert lines[1].split() == ["type"] + ["P", "R", "F1", "TP", "FP", "FN"] * 2
    rows = {line.split()[0]: line.split()[1:] for line in lines if line.split()[0] in {"problem", "test", "micro"}}
    assert rows["micro"] == ["0.5000", "0.3333", "0.4000", "2", "2", "4", "0.7500", "0.5000", "0.6000", "3", "1", "3"]
    assert rows["test"] == ["0.0000", "0.0000", "0.0000", "0", "1", "2", "1.0000", "0.5000", "0.6667", "1", "0", "1"]
    assert lines[-1].startswith("micro")


# --- properties ------------------------------------------------------------------------------

LABELS = ("problem", "test", "treatment")


@st.composite
def spans(draw: st.DrawFn) -> Span:
    start = draw(st.integers(0, 40))
    return Span(start, start + draw(st.integers(1, 10)), draw(st.sampled_from(LABELS)))


doc_ids = st.sampled_from(["a", "b", "c", "d"])
corpora = st.dictionaries(doc_ids, st.lists(spans(), max_size=8), max_size=4)


@st.composite
def gold_and_predicted(draw: st.DrawFn) -> tuple[dict[str, list[Span]], dict[str, list[Span]]]:
    gold = draw(corpora)
    predicted = {doc: draw(st.lists(spans(), max_size=8)) for doc in gold if draw(st.booleans())}
    return gold, predicted


@given(corpora)
def test_perfect_prediction_scores_one(gold: dict[str, list[Span]]) -> None:
    scores = score(gold, gold)
    expected = 1.0 if any(gold.values()) else 0.0
    for f in (scores.strict, scores.lenient):
        assert f.fp == f.fn == 0
        assert (f.precision, f.recall, f.f1) == (expected, expected, expected)
    assert all(not e["false_positives"] and not e["false_negatives"] for e in errors(gold, gold).values())


@given(gold_and_predicted())
def test_figures_are_bounded_and_consistent(case: tuple[dict[str, list[Span]], dict[str, list[Span]]]) -> None:
    gold, predicted = case
    scores = score(gold, predicted)
    n_gold = sum(len(v) for v in gold.values())
    n_predicted = sum(len(v) for v in predicted.values())
    for f in (scores.strict, scores.lenient):
        assert 0.0 <= f.precision <= 1.0
        assert 0.0 <= f.recall <= 1.0
        assert 0.0 <= f.f1 <= 1.0
        assert f.tp + f.fn == n_gold
        assert f.tp + f.fp == n_predicted
        assert sum((c for c in f.per_type.values()), Counts()) == Counts(f.tp, f.fp, f.fn)
    assert scores.strict.tp <= scores.lenient.tp
    for label, strict in scores.strict.per_type.items():
        assert strict.tp <= scores.lenient.per_type[label].tp
    found = errors(gold, predicted)
    assert sum(len(e["false_positives"]) for e in found.values()) == scores.strict.fp
    assert sum(len(e["false_negatives"]) for e in found.values()) == scores.strict.fn


# --- bootstrap intervals ------------------------------------------------------------------------


def test_a_perfect_check_has_no_spread() -> None:
    gold = {"a": [Span(0, 3, "problem")], "b": [Span(2, 5, "test")]}
    for interval in bootstrap_f1(gold, gold, rounds=50).values():
        assert (interval.low, interval.high) == (1.0, 1.0)


def test_half_right_documents_spread_around_the_figure_and_fewer_documents_spread_wider() -> None:
    right, wrong = [Span(0, 3, "problem")], [Span(10, 13, "problem")]
    gold = {f"d{i}": right for i in range(40)}
    predicted = {f"d{i}": right if i % 2 else wrong for i in range(40)}
    wide = bootstrap_f1(dict(list(gold.items())[:8]), {k: predicted[k] for k in list(gold)[:8]}, seed=1)["strict"]
    narrow = bootstrap_f1(gold, predicted, seed=1)["strict"]
    assert narrow.low < score(gold, predicted).strict.f1 == 0.5 < narrow.high
    assert wide.high - wide.low > narrow.high - narrow.low > 0.1


def test_the_same_seed_gives_the_same_interval_and_bad_arguments_are_refused() -> None:
    gold = {"a": [Span(0, 3, "problem")], "b": [Span(2, 5, "test")]}
    predicted = {"a": [Span(0, 3, "problem")]}
    assert bootstrap_f1(gold, predicted, seed=3) == bootstrap_f1(gold, predicted, seed=3)
    with pytest.raises(ValueError, match="no documents"):
        bootstrap_f1({}, {})
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_f1(gold, predicted, confidence=1.0)


@given(gold_and_predicted())
def test_intervals_are_ordered_and_bounded(case: tuple[dict[str, list[Span]], dict[str, list[Span]]]) -> None:
    gold, predicted = case
    assume(gold)
    for interval in bootstrap_f1(gold, predicted, rounds=30).values():
        assert 0.0 <= interval.low <= interval.high <= 1.0
