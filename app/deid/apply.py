"""The apply step: a note and its PHI spans in, the de-identified note and its items out.

presidio-anonymizer's engine does the replacing (right to left, so earlier offsets hold, and each
item's place in the new text); the spans it gets are already joined (``join_spans``), so it never
has to drop or trim one, and every item maps back to the original offsets it came from.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig, RecognizerResult
from presidio_anonymizer.operators import Operator, OperatorType

from app.deid.categories import PhiType
from app.deid.keys import Keyring
from app.deid.operators import OperatorPlan, OperatorSpec, Replacer, tag_text
from app.deid.patterns import find_phi
from app.deid.spans import PhiSpan, Source, join_spans

logging.getLogger("presidio-anonymizer").setLevel(logging.WARNING)  # its debug lines describe every span


@dataclass(frozen=True)
class Replacement:
    """One replaced span: original offsets, offsets in the new text (code points), what replaced it."""

    start: int
    end: int
    new_start: int
    new_end: int
    label: str
    phi: PhiType
    operator: str
    source: Source


@dataclass(frozen=True)
class Deidentified:
    text: str
    items: tuple[Replacement, ...]


class _Keyed(Operator):  # type: ignore[misc]
    """hash, surrogate and date_shift, as presidio operators: the document's Replacer does the work."""

    name = "clinx-keyed"

    def operate(self, text: str, params: dict[str, Any] | None = None) -> str:
        assert params is not None
        replaced: str = params["replacer"].replace(params["spec"], params["label"], params["phi"], text)
        return replaced

    def validate(self, params: dict[str, Any] | None = None) -> None:
        if not params or not isinstance(params.get("replacer"), Replacer):
            raise ValueError("the keyed operator needs the document's replacer")

    def operator_name(self) -> str:
        return self.name

    def operator_type(self) -> OperatorType:
        return OperatorType.Anonymize


_ENGINE = AnonymizerEngine()  # type: ignore[no-untyped-call]
_ENGINE.add_anonymizer(_Keyed)


def model_spans(entities: Iterable[Any], categories: Mapping[str, PhiType]) -> list[PhiSpan]:
    """The tagger's entities (``start``, ``end``, ``label``) as PHI spans of their bundle's categories."""
    return [PhiSpan(e.start, e.end, e.label, categories[e.label], "model") for e in entities]


def phi_spans(text: str, found: Sequence[PhiSpan], patterns: bool) -> list[PhiSpan]:
    """The model's spans, joined with the patterns' when they are on."""
    return join_spans([*found, *find_phi(text)] if patterns else found)


def _config(spec: OperatorSpec, label: str, phi: PhiType, replacer: Replacer) -> OperatorConfig:
    if spec.name == "tag":
        return OperatorConfig("replace", {"new_value": tag_text(spec, label, phi)})
    if spec.name == "redact":
        return OperatorConfig("redact")
    if spec.name == "mask":
        return OperatorConfig("mask", {"masking_char": spec.char, "chars_to_mask": 1 << 62, "from_end": False})
    return OperatorConfig(_Keyed.name, {"replacer": replacer, "spec": spec, "label": label, "phi": phi})


def deidentify(text: str, spans: Sequence[PhiSpan], plan: OperatorPlan, keyring: Keyring | None,
               patient_key: str | None) -> Deidentified:
    """Replace the (disjoint, ordered) spans; raises MissingSecret if a keyed operator has no key."""
    replacer = Replacer(keyring, patient_key, text)
    results: list[RecognizerResult] = []
    configs: dict[str, OperatorConfig] = {}
    chosen: list[OperatorSpec] = []
    for span in spans:
        spec = replacer.effective(plan.for_span(span.label, span.phi), span.phi, text[span.start : span.end])
        entity = f"{span.label}\x1f{span.phi}\x1f{spec}"
        if entity not in configs:
            configs[entity] = _config(spec, span.label, span.phi, replacer)
        results.append(RecognizerResult(entity, span.start, span.end, 1.0))
        chosen.append(spec)
    if not results:
        return Deidentified(text, ())
    engine_result = _ENGINE.anonymize(text, results, configs, merge_entities_with_spaces=False)
    placed = engine_result.items[::-1]  # it reports from the last span to the first
    if len(placed) != len(spans) or any(a.end > b.start for a, b in itertools.pairwise(placed)):
        raise RuntimeError("the anonymizer dropped, merged or reordered a span")
    items = tuple(
        Replacement(span.start, span.end, item.start, item.end, span.label, span.phi, spec.name, span.source)
        for span, item, spec in zip(spans, placed, chosen, strict=True)
    )
    return Deidentified(engine_result.text, items)
