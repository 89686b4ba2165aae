"""Assertion scores: accuracy and per-class P/R/F1 over gold spans, end to end, and NegEx-style negation.

Over gold spans the assertion stage is given the corpus's own spans (assertion alone); end to end
a predicted span counts only if it matches a gold span strictly (offsets and label) and carries the
right class. Negation (NegEx's figure) is "absent" against everything else; historical accuracy
is over the spans whose gold says whether they are historical.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from app.assertion.classes import ABSENT
from app.text.types import Document, Entity

Assessed = tuple[str, bool | None]  # (assertion, historical)


def attribute(span_attributes: Sequence[tuple[str, Any]], name: str) -> Any:
    return dict(span_attributes).get(name)


def asserted_documents(documents: Sequence[Document]) -> list[Document]:
    """Documents with only the spans that carry an assertion (the ones that can be scored)."""
    return [Document(d.id, d.text, tuple(s for s in d.spans if attribute(s.attributes, "assertion") is not None))
            for d in documents]


def per_class(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy and P/R/F1 per class for paired labels."""
    classes = sorted(set(gold) | set(predicted))
    pairs = list(zip(gold, predicted, strict=True))
    table = {}
    for name in classes:
        tp = sum(1 for g, p in pairs if g == p == name)
        fp = sum(1 for g, p in pairs if p == name and g != name)
        fn = sum(1 for g, p in pairs if g == name and p != name)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        table[name] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    accuracy = sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else 0.0
    return {"spans": len(pairs), "accuracy": accuracy, "per_class": table}


def gold_span_scores(documents: Sequence[Document], predicted: Sequence[Sequence[Assessed]]) -> dict[str, Any]:
    """Assertion alone, on the gold spans: accuracy, per-class P/R/F1, negation, historical accuracy."""
    gold: list[str] = []
    guessed: list[str] = []
    historical: list[tuple[bool, bool | None]] = []
    for document, assessments in zip(documents, predicted, strict=True):
        for span, (assertion, is_historical) in zip(document.spans, assessments, strict=True):
            gold.append(str(attribute(span.attributes, "assertion")))
            guessed.append(assertion)
            if (truth := attribute(span.attributes, "historical")) is not None:
                historical.append((bool(truth), is_historical))
    scores = per_class(gold, guessed)
    negation = per_class([str(g == ABSENT) for g in gold], [str(p == ABSENT) for p in guessed])
    scores["negation"] = {**negation["per_class"].get("True", {"precision": 0.0, "recall": 0.0, "f1": 0.0}),
                          "accuracy": negation["accuracy"]}
    told = [(truth, guess) for truth, guess in historical if guess is not None]
    scores["historical"] = {"spans": len(historical), "told": len(told),
                            "accuracy": sum(1 for t, g in told if t == g) / len(told) if told else None}
    return scores


def end_to_end_scores(documents: Sequence[Document], predicted: Mapping[str, Sequence[Entity]]) -> dict[str, Any]:
    """Strict span match and the right class: P/R/F1 overall and per class."""
    gold = Counter((d.id, s.start, s.end, s.label, str(attribute(s.attributes, "assertion")))
                   for d in documents for s in d.spans)
    guessed = Counter((doc_id, e.start, e.end, e.label, str(e.assertion)) for doc_id, entities in predicted.items()
                      for e in entities if e.assertion is not None)
    result: dict[str, Any] = {}
    for name in [None, *sorted({key[4] for key in gold} | {key[4] for key in guessed})]:
        g = Counter({k: v for k, v in gold.items() if name is None or k[4] == name})
        p = Counter({k: v for k, v in guessed.items() if name is None or k[4] == name})
        tp = sum((g & p).values())
        fp, fn = sum(p.values()) - tp, sum(g.values()) - tp
        figures = {"precision": tp / (tp + fp) if tp + fp else 0.0, "recall": tp / (tp + fn) if tp + fn else 0.0,
                   "f1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0, "tp": tp, "fp": fp, "fn": fn}
        if name is None:
            result.update(figures)
            result["per_class"] = {}
        else:
            result["per_class"][name] = figures
    return result


def table(scores: Mapping[str, Any]) -> str:
    """A plain-text table of gold-span scores, for the terminal."""
    lines = [f"assertion over gold spans: {scores['spans']} spans, accuracy {scores['accuracy']:.4f}",
             f"  {'class':<30} {'P':>7} {'R':>7} {'F1':>7} {'support':>8}"]
    for name, row in scores["per_class"].items():
        lines.append(f"  {name:<30} {row['precision']:7.4f} {row['recall']:7.4f} {row['f1']:7.4f} {row['support']:8d}")
    negation = scores["negation"]
    lines.append(f"  negation: P {negation['precision']:.4f} R {negation['recall']:.4f} F1 {negation['f1']:.4f} "
                 f"accuracy {negation['accuracy']:.4f}")
    historical = scores["historical"]
    if historical["accuracy"] is not None:
        lines.append(f"  historical accuracy {historical['accuracy']:.4f} ({historical['told']} spans)")
    return "\n".join(lines)
