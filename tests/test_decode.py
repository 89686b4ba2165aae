"""Model outputs to entities: softmax, CLIN-X's ensemble vote, decoding into character spans."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from app.text.decode import FloatArray, decode_entities, document_entities, softmax, vote
from app.text.labels import bioes_tags
from app.text.segment import split_sentences
from app.text.types import Entity
from app.text.windows import WindowGeometry, build_windows, token_anchors
from tests.text_support import check_entities, texts, token_offsets, unigram_tokenizer

TAGS = bioes_tags(["problem", "test", "treatment"])
OUT, A, B, C = 0, 1, 2, 3  # indices into a four-tag toy scheme for the vote


# --- softmax --------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
        elements=st.floats(-1e4, 1e4, width=32),
    ),
    st.floats(-1e3, 1e3, width=32),
)
def test_softmax_rows_sum_to_one(logits: FloatArray, shift: float) -> None:
    probs = softmax(logits)
    assert probs.dtype == np.float32
    assert probs.shape == logits.shape
    assert np.all(np.isfinite(probs))
    assert np.all((probs >= 0) & (probs <= 1))
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)
    # the largest logit gets the largest probability
    rows = logits.reshape(-1, logits.shape[-1])
    flat = probs.reshape(-1, logits.shape[-1])
    for row, prob in zip(rows, flat, strict=True):
        assert prob[int(row.argmax())] == prob.max()
    # shifting every logit of a row changes nothing (up to float32 rounding)
    np.testing.assert_allclose(softmax(logits.astype(np.float64) + shift), probs, atol=2e-3)


@pytest.mark.parametrize(
    "logits",
    [
        np.array([[3e38, 0.0, -3e38]], dtype=np.float32),
        np.array([[1e300, 0.0, -1e300]], dtype=np.float64),
        np.array([[6e4, 0.0, -6e4]], dtype=np.float16),
        np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32),
        np.array([[0.0, -np.inf, -np.inf]], dtype=np.float32),
    ],
)
def test_softmax_is_stable_for_large_logits(logits: np.ndarray) -> None:
    probs = softmax(logits)
    assert probs.dtype == np.float32
    np.testing.assert_array_equal(probs, np.array([[1.0, 0.0, 0.0]], dtype=np.float32))


def test_softmax_of_equal_logits_is_uniform() -> None:
    np.testing.assert_allclose(softmax(np.full((2, 3, 4), 7.5, dtype=np.float32)), 0.25)
    np.testing.assert_allclose(softmax(np.array([1e30, 1e30], dtype=np.float32)), [0.5, 0.5])


# --- the vote -------------------------------------------------------------------------------------


def ballot(tag: int, confidence: float = 0.7, tags: int = 4) -> list[float]:
    """One member's distribution for one token: ``confidence`` on ``tag``, the rest spread evenly."""
    rest = (1.0 - confidence) / (tags - 1)
    return [confidence if index == tag else rest for index in range(tags)]


def members_for(ballots: list[list[float]]) -> list[FloatArray]:
    """Each member's [1 token, tags] probabilities."""
    return [np.array([row], dtype=np.float32) for row in ballots]


def chosen_tag(ballots: list[list[float]]) -> tuple[int, float]:
    tag_ids, scores = vote(members_for(ballots))
    assert tag_ids.dtype == np.int64 and scores.dtype == np.float32
    return int(tag_ids[0]), float(scores[0])


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float32, st.tuples(st.integers(0, 8), st.integers(1, 7)), elements=st.floats(-8, 8, width=32)))
def test_single_member_is_argmax(logits: FloatArray) -> None:
    probs = softmax(logits)
    tag_ids, scores = vote([probs])
    assert tag_ids.tolist() == probs.argmax(axis=-1).tolist()
    np.testing.assert_allclose(scores, probs.max(axis=-1), rtol=1e-6)


def test_five_members_outside_wins_with_three_votes() -> None:
    # O wins with 3 of 5 votes even though the other two members are far more confident
    tag, score = chosen_tag([ballot(OUT, 0.34), ballot(OUT, 0.34), ballot(OUT, 0.34), ballot(A, 0.99), ballot(A, 0.99)])
    assert tag == OUT
    assert score == pytest.approx((0.34 * 3 + 0.01 / 3 * 2) / 5, rel=1e-5)


def test_five_members_two_outside_votes_lose_to_the_most_frequent_label() -> None:
    # O has 2 votes (< 3): the most frequent non-O label wins, even with as many votes as O
    tag, score = chosen_tag([ballot(OUT, 0.9), ballot(OUT, 0.9), ballot(A, 0.4), ballot(A, 0.4), ballot(B, 0.9)])
    assert tag == A
    assert score == pytest.approx((0.1 / 3 * 2 + 0.4 * 2 + 0.1 / 3) / 5, rel=1e-5)


def test_five_members_tie_between_labels_goes_to_summed_probability() -> None:
    assert chosen_tag([ballot(OUT), ballot(OUT), ballot(A, 0.5), ballot(B, 0.5), ballot(C, 0.6)])[0] == C
    assert chosen_tag([ballot(OUT), ballot(OUT), ballot(A, 0.9), ballot(B, 0.5), ballot(C, 0.6)])[0] == A
    assert chosen_tag([ballot(A, 0.5), ballot(A, 0.5), ballot(B, 0.6), ballot(B, 0.6), ballot(OUT)])[0] == B
    # a tie on votes is broken by summed probability, but more votes always win over probability
    assert chosen_tag([ballot(A, 0.3), ballot(A, 0.3), ballot(B, 0.99), ballot(OUT), ballot(OUT)])[0] == A


def test_two_members_outside_needs_one_vote() -> None:
    assert chosen_tag([ballot(OUT, 0.3), ballot(A, 0.99)])[0] == OUT
    assert chosen_tag([ballot(A, 0.99), ballot(OUT, 0.3)])[0] == OUT
    assert chosen_tag([ballot(A), ballot(A)])[0] == A
    assert chosen_tag([ballot(A, 0.5), ballot(B, 0.6)])[0] == B
    assert chosen_tag([ballot(A, 0.6), ballot(B, 0.5)])[0] == A


def test_three_members_outside_needs_two_votes() -> None:
    assert chosen_tag([ballot(OUT), ballot(A), ballot(A)])[0] == A
    assert chosen_tag([ballot(OUT), ballot(OUT), ballot(A, 0.99)])[0] == OUT
    assert chosen_tag([ballot(OUT, 0.99), ballot(A, 0.4), ballot(B, 0.5)])[0] == B


def test_four_members_outside_needs_two_votes() -> None:
    assert chosen_tag([ballot(OUT), ballot(OUT), ballot(A, 0.99), ballot(A, 0.99)])[0] == OUT
    assert chosen_tag([ballot(OUT), ballot(A), ballot(A), ballot(B)])[0] == A


def test_score_is_the_mean_probability_of_the_chosen_tag() -> None:
    members = [
        np.array([[0.1, 0.6, 0.2, 0.1], [0.7, 0.1, 0.1, 0.1]], dtype=np.float32),
        np.array([[0.2, 0.5, 0.2, 0.1], [0.2, 0.6, 0.1, 0.1]], dtype=np.float32),
        np.array([[0.5, 0.2, 0.2, 0.1], [0.3, 0.5, 0.1, 0.1]], dtype=np.float32),
    ]
    tag_ids, scores = vote(members)
    assert tag_ids.tolist() == [A, A]
    np.testing.assert_allclose(scores, [(0.6 + 0.5 + 0.2) / 3, (0.1 + 0.6 + 0.5) / 3], rtol=1e-6)


def test_vote_needs_a_member_and_handles_no_tokens() -> None:
    with pytest.raises(ValueError, match="at least one member"):
        vote([])
    tag_ids, scores = vote([np.zeros((0, 4), dtype=np.float32)] * 3)
    assert tag_ids.shape == (0,) and scores.shape == (0,)


def reference_allowed(probs: np.ndarray, token: int, outside: int) -> set[int]:
    """CLIN-X's rule in plain Python: the tags the vote may choose for one token (near-ties in
    summed probability may go either way)."""
    members = probs.shape[0]
    if members == 1:
        row = probs[0, token]
        return {int(np.argmax(row))}
    counts = Counter(int(np.argmax(probs[member, token])) for member in range(members))
    if counts[outside] >= math.ceil(members / 2):
        return {outside}
    best = max(count for tag, count in counts.items() if tag != outside)
    candidates = [tag for tag, count in counts.items() if tag != outside and count == best]
    sums = probs[:, token].sum(axis=0)
    best_sum = max(float(sums[tag]) for tag in candidates)
    return {tag for tag in candidates if float(sums[tag]) >= best_sum - 1e-5}


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 6), st.integers(0, 6), st.integers(2, 6)),
        elements=st.floats(-6, 6, width=32),
    ),
    st.data(),
)
def test_vote_matches_the_clinx_rule(logits: FloatArray, data: st.DataObject) -> None:
    outside = data.draw(st.integers(0, logits.shape[2] - 1))
    probs = softmax(logits)
    tag_ids, scores = vote(list(probs), outside_index=outside)
    mean = probs.mean(axis=0)
    for token in range(probs.shape[1]):
        chosen = int(tag_ids[token])
        assert chosen in reference_allowed(probs, token, outside)
        assert scores[token] == pytest.approx(float(mean[token, chosen]), rel=1e-5)


# --- decoding entities ----------------------------------------------------------------------------


def test_decode_entities_by_hand() -> None:
    #       0         1         2
    #       0123456789012345678901234567
    text = "Pt has chest pain.\nNo fever."
    offsets = [(0, 2), (2, 6), (6, 12), (12, 17), (17, 18), (18, 19), (19, 21), (21, 27), (27, 28)]
    anchors = token_anchors(text, offsets)
    assert anchors == [0, 3, 7, 13, 17, None, 19, 22, 27]
    tags = ["O", "O", "B-problem", "E-problem", "O", "I-test", "O", "S-problem", "O"]
    tag_ids = [TAGS.index(tag) for tag in tags]
    scores = [0.9, 0.9, 0.8, 0.6, 0.9, 0.1, 0.9, 0.5, 0.9]
    entities = decode_entities(text, offsets, anchors, tag_ids, scores, TAGS)
    assert entities == [Entity(7, 17, "problem", pytest.approx(0.7)), Entity(22, 27, "problem", 0.5)]
    assert [text[e.start : e.end] for e in entities] == ["chest pain", "fever"]


def test_blank_tokens_neither_end_nor_start_entities() -> None:
    text = "chest \n pain"
    offsets = [(0, 5), (5, 8), (8, 12)]
    anchors = token_anchors(text, offsets)
    ids = [TAGS.index("B-problem"), TAGS.index("S-test"), TAGS.index("E-problem")]
    assert decode_entities(text, offsets, anchors, ids, [0.5, 0.0, 1.0], TAGS) == [Entity(0, 12, "problem", 0.75)]


@pytest.mark.parametrize(
    ("offsets", "tags", "expected"),
    [
        # NFKC: "ﬁne" is tokenized as "f" (0, 1) + "ine" (0, 3): tokens share the ligature
        ([(0, 1), (0, 3)], ["S-problem", "S-test"], [(0, 1, "problem"), (1, 3, "test")]),
        # SentencePiece's lone "▁" sometimes shares the character of the token after it
        ([(0, 1), (0, 1), (1, 3)], ["S-problem", "S-test", "S-test"], [(0, 1, "problem"), (1, 3, "test")]),
        # byte-level tokenizers give every byte of one character the same offsets
        ([(0, 1), (0, 1), (0, 1), (1, 3)], ["S-test", "S-test", "O", "S-test"], [(0, 1, "test"), (1, 3, "test")]),
    ],
)
def test_entities_never_overlap_when_tokens_share_characters(
    offsets: list[tuple[int, int]], tags: list[str], expected: list[tuple[int, int, str]]
) -> None:
    text = "ﬁne"
    anchors = token_anchors(text, offsets)
    entities = decode_entities(text, offsets, anchors, [TAGS.index(t) for t in tags], [1.0] * len(tags), TAGS)
    assert [(e.start, e.end, e.label) for e in entities] == expected


@settings(max_examples=200, deadline=None)
@given(texts, st.data())
def test_decoded_entities_are_ordered_disjoint_trimmed(text: str, data: st.DataObject) -> None:
    _, offsets = token_offsets(unigram_tokenizer(), text)
    anchors = token_anchors(text, offsets)
    tag_ids = data.draw(st.lists(st.integers(0, len(TAGS) - 1), min_size=len(offsets), max_size=len(offsets)))
    scores = data.draw(st.lists(st.floats(0, 1), min_size=len(offsets), max_size=len(offsets)))
    check_entities(text, decode_entities(text, offsets, anchors, tag_ids, scores, TAGS))


@settings(max_examples=100, deadline=None)
@given(texts, st.integers(1, 4), st.integers(1, 5), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_document_entities_joins_the_windows(text: str, members: int, chunk: int, context: int, seed: int) -> None:
    _, offsets = token_offsets(unigram_tokenizer(), text)
    anchors = token_anchors(text, offsets)
    windows = build_windows(anchors, split_sentences(text), WindowGeometry(chunk, context))
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 3.0, size=(members, len(offsets), len(TAGS))).astype(np.float32)
    logits[:, :, 0] += 2.0  # mostly O, as a real model
    probs = softmax(logits)
    window_probs = [probs[:, w.centre_start : w.centre_end] for w in windows]
    entities = document_entities(text, offsets, anchors, window_probs, TAGS)
    tag_ids, scores = vote(list(probs))
    assert entities == decode_entities(text, offsets, anchors, tag_ids.tolist(), scores.tolist(), TAGS)
    check_entities(text, entities)


def test_document_without_windows_has_no_entities() -> None:
    assert document_entities("", [], [], [], TAGS) == []
    assert document_entities("   ", [], [], [], TAGS) == []
