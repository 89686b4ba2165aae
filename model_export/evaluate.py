"""Span-level evaluation of a model on a corpus, through the server's decode path.

One function scores predictions for dev selection during training, for ``clinx evaluate`` and for
the figures export writes into a bundle, so every number the project reports is computed the same
way: a bundle through the server's own engine (:class:`app.engine.extractor.Extractor`, batching
included), a checkpoint through :func:`model_export.predict.predict_entities` (same windows, padding
and decoding), spans scored by :func:`model_export.scoring.score`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.text.decode import DecodeRule
from app.text.encode import DocumentEncoder
from app.text.labels import entity_types_of
from app.text.types import Document, Entity, Span
from app.text.windows import WindowGeometry
from model_export.checkpoints import ENSEMBLE_FILE, TRAINING_FILE, read_json, recorded_decode
from model_export.predict import LogitsFn, predict_entities
from model_export.scoring import Interval, Scores, bootstrap_f1, errors, score

Predictions = dict[str, list[Span]]


def torch_logits_fn(models: Any, device: Any) -> LogitsFn:
    """Logits of one PyTorch model, or of each of several (an ensemble's members), on a padded batch."""
    import torch

    members = list(models) if isinstance(models, list | tuple) else [models]

    def run(ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> list[npt.NDArray[np.float32]]:
        inputs = {"input_ids": torch.from_numpy(ids).to(device), "attention_mask": torch.from_numpy(mask).to(device)}
        with torch.no_grad():
            return [member(**inputs).logits.float().cpu().numpy() for member in members]

    return run


PredictFn = Callable[[Sequence[str]], list[list[Entity]]]


def spans_by_id(documents: Sequence[Document], predicted: Sequence[Sequence[Entity]]) -> Predictions:
    return {
        document.id: [Span(entity.start, entity.end, entity.label) for entity in entities]
        for document, entities in zip(documents, predicted, strict=True)
    }


def predict_spans(encoder: DocumentEncoder, documents: Sequence[Document], logits_fn: LogitsFn,
                  tags: Sequence[str], rule: DecodeRule) -> Predictions:
    """Predicted spans per document id (members voted, BIOES repaired), as the server would return them."""
    texts = [document.text for document in documents]
    return spans_by_id(documents, predict_entities(encoder, texts, logits_fn, tags, rule))


def gold_spans(documents: Sequence[Document]) -> Predictions:
    return {document.id: list(document.spans) for document in documents}


def score_documents(encoder: DocumentEncoder, documents: Sequence[Document], logits_fn: LogitsFn,
                    tags: Sequence[str], rule: DecodeRule) -> tuple[Scores, Predictions]:
    """Strict and lenient scores of a model on ``documents``, with the predictions behind them."""
    predicted = predict_spans(encoder, documents, logits_fn, tags, rule)
    return score(gold_spans(documents), predicted), predicted


class EvaluationError(ValueError):
    """The model directory cannot be evaluated; the message says which file or field is wrong."""


@dataclass(frozen=True)
class Predictor:
    """A model ready to predict: its encoder (tokenizer + window geometry), tags, and what predicts."""

    kind: str  # "bundle", "checkpoint" or "ensemble"
    encoder: DocumentEncoder
    tags: list[str]
    predict: PredictFn
    members: int
    details: dict[str, Any] = field(default_factory=dict)
    # A bundle with an assertion stage: (texts, spans per text, source or None) -> (assertion, historical) per span.
    assess: Callable[..., list[list[tuple[str, bool | None]]]] | None = None

    @property
    def entity_types(self) -> list[str]:
        return entity_types_of(self.tags)


def load_predictor(path: Path, *, variant: str = "fp32", device: str = "cpu", threads: int = 0,
                   decode: DecodeRule | None = None) -> Predictor:
    """A bundle (ONNX Runtime, all members), an ensemble checkpoint or a single checkpoint (PyTorch).

    ``threads`` (0: all cores) sets ONNX Runtime's intra-op threads; PyTorch's are the caller's to set.
    ``decode`` overrides the model's recorded decoding rule (to compare word and subword decoding
    on one model); None keeps the model's own.
    """
    from app.bundle import MANIFEST

    if (path / MANIFEST).is_file():
        return bundle_predictor(path, variant=variant, device=device, threads=threads, decode=decode)
    if (path / ENSEMBLE_FILE).is_file():
        return ensemble_predictor(path, device=device, decode=decode)
    if (path / TRAINING_FILE).is_file():
        return checkpoint_predictor([path], device=device, decode=decode)
    raise EvaluationError(f"{path}: not a bundle ({MANIFEST}), an ensemble ({ENSEMBLE_FILE}) "
                          f"or a checkpoint ({TRAINING_FILE})")


def bundle_predictor(root: Path, *, variant: str = "fp32", device: str = "cpu", threads: int = 0,
                     decode: DecodeRule | None = None) -> Predictor:
    """Every member of the bundle in one precision, through the server's own engine (batching included)."""
    from app.bundle import BundleError, bundle_encoder
    from app.engine.extractor import EngineOptions, Extractor
    from app.engine.runtime import DeviceError
    from app.engine.stages import DecodeStage

    try:
        if variant == "auto":
            raise BundleError("variant 'auto' is for the server; evaluate names one (fp32, fp16 or int8)")
        extractor = Extractor.load(root, options=EngineOptions(device=device, variant=variant,
                                                              intra_op_threads=threads))
    except (BundleError, DeviceError) as error:
        raise EvaluationError(str(error)) from None
    manifest, runtime = extractor.manifest, extractor.runtime
    if decode is not None:  # the same engine, decoding by another rule (to compare rules on one bundle)
        extractor.pipeline.decode = DecodeStage(manifest.tags, decode)

    def predict(texts: Sequence[str]) -> list[list[Entity]]:
        return [result.entities for result in extractor.extract(texts)]

    stage: Any = extractor.stage("assertion")

    def assess(texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]], source: str | None = None
               ) -> list[list[tuple[str, bool | None]]]:
        found = extractor.run_sync(stage.assess(texts, spans, deadline=time.monotonic() + 3600, source=source))
        return [[(item.assertion, item.historical) for item in document] for document in found]

    return Predictor("bundle", bundle_encoder(root, manifest), list(manifest.tags), predict, len(manifest.members),
                     {"name": manifest.name, "version": manifest.version, "variant": runtime.variant,
                      "provider": runtime.provider, "decode": extractor.pipeline.decode.rule},
                     assess if stage is not None else None)


def ensemble_predictor(root: Path, *, device: str = "cpu", decode: DecodeRule | None = None) -> Predictor:
    record = read_json(root / ENSEMBLE_FILE)
    members = record.get("members")
    if not isinstance(members, list) or not members:
        raise EvaluationError(f"{root / ENSEMBLE_FILE}: field members must list the member directories")
    predictor = checkpoint_predictor([root / str(member) for member in members], device=device, decode=decode)
    return Predictor("ensemble", predictor.encoder, predictor.tags, predictor.predict, predictor.members,
                     {"vote_rule": record.get("vote_rule", "clinx-majority"), "members": members,
                      "decode": predictor.details["decode"]})


def checkpoint_predictor(directories: Sequence[Path], *, device: str = "cpu", decode: DecodeRule | None = None
                         ) -> Predictor:
    """One or more checkpoints written by ``clinx train``; members must share tags, windows and decoding."""
    import torch

    from model_export.examples import make_encoder
    from model_export.hf import load_checkpoint, special_tokens

    target = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                          "cpu" if device == "auto" else device)
    models: list[Any] = []
    first: tuple[list[str], WindowGeometry, DecodeRule] | None = None
    tokenizer: Any = None
    for directory in directories:
        if not (directory / TRAINING_FILE).is_file():
            raise EvaluationError(f"{directory / TRAINING_FILE}: missing; not a checkpoint written by `clinx train`")
        record = read_json(directory / TRAINING_FILE)
        try:
            shape = (list(record["tags"]), WindowGeometry.from_record(record),
                     recorded_decode(record, directory / TRAINING_FILE))
        except ValueError as error:
            raise EvaluationError(str(error)) from None
        if first is None:
            first = shape
        elif shape != first:
            raise EvaluationError(f"{directory}: tags, window sizes or decoding differ from the first member's")
        model, tokenizer = load_checkpoint(str(directory))
        if [model.config.id2label[i] for i in range(model.config.num_labels)] != record["tags"]:
            raise EvaluationError(f"{directory}: config.json id2label disagrees with {TRAINING_FILE} tags")
        models.append(model.to(target).eval())
    if first is None:
        raise EvaluationError("no checkpoint directories given")
    tags, geometry, recorded = first
    rule = decode or recorded
    encoder = make_encoder(tokenizer.backend_tokenizer, special_tokens(tokenizer), geometry)
    logits_fn = torch_logits_fn(models, target)

    def predict(texts: Sequence[str]) -> list[list[Entity]]:
        return predict_entities(encoder, texts, logits_fn, tags, rule)

    return Predictor("checkpoint", encoder, list(tags), predict, len(models), {"device": str(target), "decode": rule})


@dataclass(frozen=True)
class Evaluation:
    scores: Scores
    gold: Predictions
    predicted: Predictions

    def f1_intervals(self, rounds: int) -> dict[str, Interval]:
        """How far F1 could move on other documents of the same kind (none for 0 rounds or no documents):
        the figure to compare two models by, since on a hundred documents a few points are often noise."""
        return bootstrap_f1(self.gold, self.predicted, rounds=rounds, seed=0) if rounds and self.gold else {}


def evaluate_documents(predictor: Predictor, documents: Sequence[Document]) -> Evaluation:
    predicted = spans_by_id(documents, predictor.predict([document.text for document in documents]))
    return Evaluation(score(gold_spans(documents), predicted), gold_spans(documents), predicted)


def error_report(evaluation: Evaluation, documents: Sequence[Document], *, with_text: bool = False
                 ) -> dict[str, Any]:
    """Strict false positives and negatives per document: offsets and labels, span text only if asked.

    For the user's own error analysis; it is written to a file, never logged.
    """
    texts = {document.id: document.text for document in documents}

    def entry(doc_id: str, span: Span) -> dict[str, Any]:
        item: dict[str, Any] = {"start": span.start, "end": span.end, "label": span.label}
        if with_text:
            item["text"] = texts[doc_id][span.start : span.end]
        return item

    found = errors(evaluation.gold, evaluation.predicted)
    return {
        doc_id: {
            "false_positives": [entry(doc_id, span) for span in wrong["false_positives"]],
            "false_negatives": [entry(doc_id, span) for span in wrong["false_negatives"]],
        }
        for doc_id, wrong in found.items()
        if wrong["false_positives"] or wrong["false_negatives"]
    }
