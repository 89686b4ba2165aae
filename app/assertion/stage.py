"""The ``assertion`` entity stage: every entity of an assertable type gets its assertion status.

Sources: ``rules`` (ConText-style rules, :mod:`app.assertion.rules`, any bundle) and ``model`` (the
bundle's trained classifier, :mod:`app.assertion.classifier`). The bundle's manifest says which
decides by default (the model when it has one); a request may name the other, or skip the stage.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from app.assertion.classes import Assessment
from app.assertion.classifier import AssertionClassifier
from app.assertion.rules import ContextRules
from app.bundle import ASSERTION_STAGE, BundleError, Manifest
from app.engine.stages import DocumentResult, StageContext, register_entity_stage

Spans = Sequence[Sequence[tuple[int, int]]]


class AssertionSourceError(ValueError):
    """A request named a source this bundle does not have (or a value that names none)."""

    def __init__(self, requested: Any, available: Sequence[str]) -> None:
        super().__init__(f"assertion source {requested!r} is not available; this model has {list(available)}")
        self.available = list(available)


class AssertionStage:
    name = ASSERTION_STAGE

    def __init__(self, types: Sequence[str], rules: ContextRules, classifier: AssertionClassifier | None,
                 default: str) -> None:
        self.types = set(types)
        self.rules = rules
        self.classifier = classifier
        self.default = default

    @property
    def sources(self) -> list[str]:
        return ["rules", *(["model"] if self.classifier is not None else [])]

    def source(self, option: Any) -> str:
        """The source a request's option names: ``True``/None -> the default; ``"rules"`` or ``"model"``."""
        if option is True or option is None:
            return self.default
        if option in self.sources:
            return str(option)
        raise AssertionSourceError(option, self.sources)

    async def __call__(self, texts: Sequence[str], documents: list[DocumentResult], *, deadline: float,
                       option: Any = True) -> list[DocumentResult]:
        source = self.source(option)
        chosen = [[index for index, entity in enumerate(document.entities) if entity.label in self.types]
                  for document in documents]
        spans = [[(document.entities[index].start, document.entities[index].end) for index in indices]
                 for document, indices in zip(documents, chosen, strict=True)]
        assessed = await self.assess(texts, spans, deadline=deadline, source=source,
                                     tagger_tokens=sum(document.tokens for document in documents))
        results = []
        for document, indices, found in zip(documents, chosen, assessed, strict=True):
            entities = list(document.entities)
            for index, assessment in zip(indices, found, strict=True):
                entities[index] = replace(entities[index], assertion=assessment.assertion,
                                          historical=assessment.historical)
            results.append(replace(document, entities=entities))
        return results

    def expected_s(self, tokens: int, option: Any) -> float:
        """The classifier's expected time for a request of ``tokens`` tagger subwords; 0 with the rules."""
        if self.classifier is None or self.source(option) != "model":
            return 0.0
        return self.classifier.expected_s(tokens)

    async def assess(self, texts: Sequence[str], spans: Spans, *, deadline: float, source: str | None = None,
                     tagger_tokens: int = 0) -> list[list[Assessment]]:
        """Assessments of caller-given ``(start, end)`` spans (code points), per document, whatever their type."""
        source = source or self.default
        if not any(spans):
            return [[] for _ in spans]
        if source == "model" and self.classifier is not None:
            return await self.classifier.classify(texts, spans, deadline, tagger_tokens)
        return await asyncio.to_thread(
            lambda: [self.rules.assess(text, list(document)) for text, document in zip(texts, spans, strict=True)])

    async def start(self) -> None:
        if self.classifier is not None:
            await self.classifier.start()

    async def stop(self) -> None:
        if self.classifier is not None:
            await self.classifier.stop()


def build_assertion_stage(root: Path, manifest: Manifest, context: StageContext) -> AssertionStage:
    spec = manifest.assertion
    try:
        rules = ContextRules()
    except ImportError as error:
        raise BundleError(f"{root / 'manifest.json'}: the assertion stage needs spaCy and negspacy "
                          f"(pip install '.[serve]'): {error}") from None
    classifier = AssertionClassifier(root, spec.model, context, manifest.name) if spec.model is not None else None
    default = spec.source or ("model" if classifier is not None else "rules")
    return AssertionStage(manifest.assertable_types, rules, classifier, default)


register_entity_stage(ASSERTION_STAGE, build_assertion_stage)
