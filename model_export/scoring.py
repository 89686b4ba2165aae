"""Span-level evaluation as reported by i2b2 and CLIN-X: strict and lenient precision, recall and F1.

A model is only comparable with the published CLIN-X figures when it is scored the same way:
per concept span rather than per token, with "strict" requiring identical offsets and label and
"lenient" accepting any overlap with the same label. Lenient matching is one-to-one, so one long
prediction covering two gold concepts earns one true positive, not two, and P/R stay well defined.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from app.text.types import Span


def _ratio(numerator: int, denominator: int) -> float:
    """A share that is 0.0 rather than undefined when there is nothing to count."""
    return numerator / denominator if denominator else 0.0


@dataclass(frozen=True)
class Counts:
    """True positives, false positives and false negatives, with the figures derived from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """tp / (tp + fp); 0.0 when nothing was predicted."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        """tp / (tp + fn); 0.0 when there is no gold concept."""
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        """The harmonic mean of precision and recall, 2tp / (2tp + fp + fn); 0.0 when both are 0."""
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def to_dict(self) -> dict[str, Any]:
        """The counts and figures as plain JSON values."""
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


@dataclass(frozen=True)
class Figures(Counts):
    """Micro-averaged figures over all concept types, plus the counts of each type."""

    per_type: Mapping[str, Counts] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Micro figures and per-type figures (types sorted) as plain JSON values."""
        result = super().to_dict()
        result["per_type"] = {label: self.per_type[label].to_dict() for label in sorted(self.per_type)}
        return result


@dataclass(frozen=True)
class Scores:
    """Strict and lenient figures for one evaluation run."""

    strict: Figures
    lenient: Figures

    def to_dict(self) -> dict[str, Any]:
        """The scores as plain JSON values, e.g. for a model card or metrics file."""
        return {"strict": self.strict.to_dict(), "lenient": self.lenient.to_dict()}

    def table(self) -> str:
        """A fixed-width table: one row per concept type, then the micro average."""
        labels = sorted(set(self.strict.per_type) | set(self.lenient.per_type))
        width = max([len("type"), len("micro"), *(len(label) for label in labels)])
        metric_header = f"{'P':>6} {'R':>6} {'F1':>6} {'TP':>6} {'FP':>6} {'FN':>6}"
        block = len(metric_header)
        lines = [
            f"{'':<{width}}  {'strict':^{block}}  {'lenient':^{block}}",
            f"{'type':<{width}}  {metric_header}  {metric_header}",
        ]
        lines.append("-" * len(lines[1]))

        def row(name: str, strict: Counts, lenient: Counts) -> str:
            cells = [
                f"{c.precision:6.4f} {c.recall:6.4f} {c.f1:6.4f} {c.tp:>6} {c.fp:>6} {c.fn:>6}"
                for c in (strict, lenient)
            ]
            return f"{name:<{width}}  {cells[0]}  {cells[1]}"

        for label in labels:
            strict, lenient = self.strict.per_type.get(label, Counts()), self.lenient.per_type.get(label, Counts())
            lines.append(row(label, strict, lenient))
        lines.append("-" * len(lines[1]))
        lines.append(row("micro", self.strict, self.lenient))
        return "\n".join(lines)


class DocumentErrors(TypedDict):
    """The strict errors of one document: spans predicted but not in gold, and gold spans missed."""

    false_positives: list[Span]
    false_negatives: list[Span]


def _key(span: Span) -> tuple[int, int, str]:
    """What strict matching compares; attributes are deliberately ignored."""
    return (span.start, span.end, span.label)


def _check_ids(gold: Mapping[str, Sequence[Span]], predicted: Mapping[str, Sequence[Span]]) -> None:
    """A prediction for an unknown document means the two sides were not read from the same corpus."""
    unknown = sorted(set(predicted) - set(gold))
    if unknown:
        raise ValueError(f"predicted documents not in gold: {', '.join(map(repr, unknown))}")


def _strict_matches(gold: Sequence[Span], predicted: Sequence[Span]) -> tuple[list[Span], list[Span], list[Span]]:
    """Exact one-to-one matching as multisets: (matched gold, unmatched gold, unmatched predicted).

    Duplicated spans are kept as duplicates, so a span predicted twice is one TP and one FP.
    """
    common = Counter(_key(span) for span in gold) & Counter(_key(span) for span in predicted)
    unclaimed = common.copy()
    matched: list[Span] = []
    false_negatives: list[Span] = []
    for span in sorted(gold):
        if unclaimed[_key(span)] > 0:
            unclaimed[_key(span)] -= 1
            matched.append(span)
        else:
            false_negatives.append(span)
    unclaimed = common.copy()
    false_positives: list[Span] = []
    for span in sorted(predicted):
        if unclaimed[_key(span)] > 0:
            unclaimed[_key(span)] -= 1
        else:
            false_positives.append(span)
    return matched, false_negatives, false_positives


def _lenient_tp(gold: Sequence[Span], predicted: Sequence[Span]) -> int:
    """The number of one-to-one lenient matches between spans of one document and one label.

    Exact matches are paired first, so lenient TP is never below strict TP. The rest are paired
    greedily by largest overlap; ties go to the earliest gold, then the earliest prediction (spans
    sorted by offsets), so the result does not depend on input order.
    """
    _, gold_left, predicted_left = _strict_matches(gold, predicted)
    tp = len(gold) - len(gold_left)
    candidates: list[tuple[int, int, int]] = []
    for g, gold_span in enumerate(gold_left):
        for p, predicted_span in enumerate(predicted_left):
            overlap = min(gold_span.end, predicted_span.end) - max(gold_span.start, predicted_span.start)
            if overlap > 0:
                candidates.append((-overlap, g, p))
    candidates.sort()
    gold_used: set[int] = set()
    predicted_used: set[int] = set()
    for _, g, p in candidates:
        if g not in gold_used and p not in predicted_used:
            gold_used.add(g)
            predicted_used.add(p)
            tp += 1
    return tp


def _by_label(spans: Iterable[Span]) -> dict[str, list[Span]]:
    grouped: dict[str, list[Span]] = {}
    for span in spans:
        grouped.setdefault(span.label, []).append(span)
    return grouped


def score(gold: Mapping[str, Sequence[Span]], predicted: Mapping[str, Sequence[Span]]) -> Scores:
    """Strict and lenient span-level scores over a corpus, keyed by document id.

    A gold document missing from ``predicted`` counts as one with no predictions; a predicted
    document missing from ``gold`` is a ValueError, since it cannot be scored.
    """
    _check_ids(gold, predicted)
    strict: dict[str, Counts] = {}
    lenient: dict[str, Counts] = {}
    for doc_id in sorted(gold):
        gold_by_label = _by_label(gold[doc_id])
        predicted_by_label = _by_label(predicted.get(doc_id, ()))
        for label in gold_by_label.keys() | predicted_by_label.keys():
            gold_spans = gold_by_label.get(label, [])
            predicted_spans = predicted_by_label.get(label, [])
            matched, _, _ = _strict_matches(gold_spans, predicted_spans)
            strict_tp = len(matched)
            lenient_tp = _lenient_tp(gold_spans, predicted_spans)
            strict[label] = strict.get(label, Counts()) + Counts(
                strict_tp, len(predicted_spans) - strict_tp, len(gold_spans) - strict_tp
            )
            lenient[label] = lenient.get(label, Counts()) + Counts(
                lenient_tp, len(predicted_spans) - lenient_tp, len(gold_spans) - lenient_tp
            )
    return Scores(strict=_micro(strict), lenient=_micro(lenient))


def _micro(per_type: dict[str, Counts]) -> Figures:
    """Pool the counts of all types: micro averaging, as i2b2 and CLIN-X report it."""
    total = sum(per_type.values(), Counts())
    ordered = {label: per_type[label] for label in sorted(per_type)}
    return Figures(tp=total.tp, fp=total.fp, fn=total.fn, per_type=ordered)


def errors(gold: Mapping[str, Sequence[Span]], predicted: Mapping[str, Sequence[Span]]) -> dict[str, DocumentErrors]:
    """The strict false positives and false negatives of each gold document, spans sorted by offset.

    Every gold document gets an entry (empty lists when it is perfect), so error analysis can
    iterate the corpus without special cases.
    """
    _check_ids(gold, predicted)
    result: dict[str, DocumentErrors] = {}
    for doc_id in sorted(gold):
        _, false_negatives, false_positives = _strict_matches(gold[doc_id], predicted.get(doc_id, ()))
        result[doc_id] = DocumentErrors(false_positives=false_positives, false_negatives=false_negatives)
    return result


@dataclass(frozen=True)
class Interval:
    """A bootstrap confidence interval of one F1 figure."""

    low: float
    high: float
    confidence: float


def bootstrap_f1(gold: Mapping[str, Sequence[Span]], predicted: Mapping[str, Sequence[Span]], *,
                 rounds: int = 2000, seed: int = 0, confidence: float = 0.95) -> dict[str, Interval]:
    """Percentile bootstrap intervals of strict and lenient micro F1, documents resampled with replacement.

    On a check of a few dozen sentences one concept moves F1 by two points; the interval says how far
    apart two figures must be before they differ, and how far a figure is from a target.
    """
    if rounds < 1 or not 0 < confidence < 1:
        raise ValueError("rounds must be positive and confidence between 0 and 1")
    _check_ids(gold, predicted)
    per_document = [score({doc_id: gold[doc_id]}, {doc_id: predicted.get(doc_id, ())}) for doc_id in sorted(gold)]
    if not per_document:
        raise ValueError("no documents to resample")
    rng = random.Random(seed)
    intervals: dict[str, Interval] = {}
    draws = [[rng.randrange(len(per_document)) for _ in per_document] for _ in range(rounds)]
    for kind in ("strict", "lenient"):
        counts = [getattr(scores, kind) for scores in per_document]
        f1s = sorted(sum((counts[i] for i in sample), Counts()).f1 for sample in draws)
        tail = (1 - confidence) / 2
        low = f1s[round(tail * (rounds - 1))]
        high = f1s[round((1 - tail) * (rounds - 1))]
        intervals[kind] = Interval(low, high, confidence)
    return intervals
