"""Model outputs to concept spans: softmax, CLIN-X's ensemble vote, BIOES repair, offsets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from app.text.labels import TokenSpan, best_bioes_path, char_span, decode_token_spans, decode_word_spans
from app.text.types import Entity
from app.text.words import Words, word_units

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

DecodeRule = Literal["word", "subword", "word-viterbi"]
"""How tags become spans: ``word`` (a word takes its first subword's tag; spans hold whole words),
``word-viterbi`` (per word too, but the most probable valid BIOES sequence instead of each word's
best tag repaired: no lone ``B`` on "a" becomes a span) or ``subword`` (every subword decoded on its
own: spans may cut words; bundles that predate the rule)."""
DECODE_RULES: tuple[str, ...] = get_args(DecodeRule)
WORD_DECODING: DecodeRule = "word"
SUBWORD_DECODING: DecodeRule = "subword"
WORD_VITERBI: DecodeRule = "word-viterbi"
LOG_FLOOR = 1e-30  # a probability that underflowed to 0 is still a (very unlikely) path


def softmax(logits: npt.NDArray[np.floating]) -> FloatArray:
    """Probabilities over the last axis as float32, stable for logits of any magnitude.

    The shift by the row maximum happens in the input's precision (at least float32): casting
    first turned float64 logits beyond float32's range into ``inf - inf = nan``.
    """
    values: npt.NDArray[np.floating] = np.asarray(logits, dtype=np.promote_types(logits.dtype, np.float32))
    with np.errstate(over="ignore"):  # a gap too wide to represent becomes -inf, whose exp is 0
        shifted = values - values.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    probs: FloatArray = (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)
    return probs


def vote(member_probs: Sequence[FloatArray], outside_index: int = 0) -> tuple[IntArray, FloatArray]:
    """Per-token tag and score from one or more members' probabilities ``[tokens, tags]``.

    CLIN-X's rule: ``O`` wins with at least ceil(n/2) votes, else the most frequent non-O tag
    (ties go to the higher summed probability). The score is the members' mean probability
    of the chosen tag.
    """
    if not member_probs:
        raise ValueError("vote needs at least one member")
    stacked = np.stack(member_probs)  # [members, tokens, tags]
    members, tokens, tag_count = stacked.shape
    mean = stacked.mean(axis=0)
    if members == 1:
        chosen = mean.argmax(axis=-1).astype(np.int64)
    else:
        ballots = stacked.argmax(axis=-1)  # [members, tokens]
        counts = np.zeros((tokens, tag_count), dtype=np.int64)
        for member_ballots in ballots:
            counts[np.arange(tokens), member_ballots] += 1
        outside_wins = counts[:, outside_index] >= math.ceil(members / 2)
        others = counts.astype(np.float64).copy()
        others[:, outside_index] = -1.0
        # Break ties between equally voted tags by summed probability (always < members).
        others += np.where(others > 0, stacked.sum(axis=0) / (members + 1), 0.0)
        chosen = np.where(outside_wins, outside_index, others.argmax(axis=-1)).astype(np.int64)
    scores = mean[np.arange(tokens), chosen].astype(np.float32)
    return chosen, scores


def decode_entities(
    text: str,
    offsets: Sequence[tuple[int, int]],
    anchors: Sequence[int | None],
    tag_ids: Sequence[int],
    scores: Sequence[float],
    tags: Sequence[str],
    rule: DecodeRule = SUBWORD_DECODING,
) -> list[Entity]:
    """Entities of one document, ordered by start, never overlapping.

    With ``rule="word"`` tags are decoded per word (:func:`app.text.labels.decode_word_spans`) and
    each span is widened to whole words at an edge the tokenizer's offsets leave inside one, so no
    span starts or ends between two letters or digits of a word (``app.text.words``).

    Neighbouring tokens may share characters (SentencePiece's lone ``▁`` at the start of a text has
    the offsets of the character after it; an NFKC ligature such as ``ﬁ`` is split over two tokens;
    byte-level pieces of one character all carry its offsets). An entity that would overlap the one
    before it starts where that one ends, and is dropped if nothing of it is left.
    """
    token_tags = [
        None if position is None else tags[tag_id] for position, tag_id in zip(anchors, tag_ids, strict=False)
    ]
    words = Words.of(text) if rule != SUBWORD_DECODING else None
    token_spans = (decode_token_spans(token_tags, scores) if words is None else
                   decode_word_spans(word_units(words, anchors), token_tags, scores))
    return spans_to_entities(text, offsets, token_spans, words)


def spans_to_entities(text: str, offsets: Sequence[tuple[int, int]], token_spans: Sequence[TokenSpan],
                      words: Words | None) -> list[Entity]:
    """Token spans in characters; with ``words``, an edge inside a word is widened to the whole word."""
    entities: list[Entity] = []
    for token_span in token_spans:
        characters = char_span(text, offsets, token_span)
        if characters is None:
            continue
        start, end = characters if words is None else words.widen(*characters)
        # An edge that does not cut a word stays so when moved to the previous entity's end (itself
        # no cut) and on past whitespace.
        if entities and start < entities[-1].end:
            start = entities[-1].end
            while start < end and text[start].isspace():
                start += 1
            if start >= end:
                continue
        entities.append(Entity(start, end, token_span.label, token_span.score))
    return entities


def document_entities(
    text: str,
    offsets: Sequence[tuple[int, int]],
    anchors: Sequence[int | None],
    window_probs: Sequence[FloatArray],
    tags: Sequence[str],
    rule: DecodeRule = SUBWORD_DECODING,
) -> list[Entity]:
    """Entities from a document's windows in order, each ``[members, centre tokens, tags]``."""
    if not window_probs:
        return []
    member_probs = np.concatenate(window_probs, axis=1)
    if rule == WORD_VITERBI:
        return viterbi_entities(text, offsets, anchors, member_probs.mean(axis=0), tags)
    tag_ids, scores = vote(list(member_probs))
    return decode_entities(text, offsets, anchors, tag_ids.tolist(), scores.tolist(), tags, rule)


def viterbi_entities(text: str, offsets: Sequence[tuple[int, int]], anchors: Sequence[int | None],
                     probs: FloatArray, tags: Sequence[str]) -> list[Entity]:
    """Rule ``word-viterbi``: the best valid BIOES path over the subwords (an ensemble's mean
    probabilities), then decoded per word like rule ``word``.

    The path runs over subwords because that is how the model was trained: a one-word concept cut
    into two pieces is B then E, so a path over words alone would have to call its first piece S.
    """
    anchored = [index for index, position in enumerate(anchors) if position is not None]
    tag_ids = [0] * len(anchors)
    scores = [0.0] * len(anchors)
    if anchored:
        rows = probs[anchored]
        path = best_bioes_path(np.log(np.maximum(rows, LOG_FLOOR)), tags)
        for index, tag, score in zip(anchored, path, rows[np.arange(len(path)), path].tolist(), strict=True):
            tag_ids[index], scores[index] = tag, score
    return decode_entities(text, offsets, anchors, tag_ids, scores, tags, WORD_DECODING)
