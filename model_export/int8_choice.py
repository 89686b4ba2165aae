"""Choosing the int8 variant: the fastest candidate that keeps the model's accuracy as served.

Dynamic quantisation scales activations per batch at run time; on some models that costs more F1
than users accept. Candidates are tried in order of speed (most MatMuls in int8 first) and each is
scored the way the server serves it (the written bundle through the Extractor, the server's
batching): the first within the bound is kept. When none is, the bundle is written without an int8
variant (the server then runs fp32 on the CPU and says why), unless the user requires int8.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.text.types import Document
from model_export.onnx_export import quantize_int8

Predictions = Mapping[str, Sequence[Any]]

log = logging.getLogger("clinx.export")

QUANTIZABLE = ("MatMul", "Gemm", "Attention")


@dataclass(frozen=True)
class Int8Candidate:
    """One way to quantise: which of the graph's quantisable nodes stay in fp32."""

    name: str
    description: str
    keep_first: float  # share of quantisable nodes (in graph order) kept in fp32 at the input end
    keep_last: float  # ... and at the output end (the classifier head is the very last)

    def nodes_to_exclude(self, names: Sequence[str]) -> list[str]:
        if not names:
            return []
        first = round(len(names) * self.keep_first)
        last = max(1, round(len(names) * self.keep_last)) if self.keep_last > 0 else 0
        return list(names[:first]) + list(names[len(names) - last:] if last else [])


CANDIDATES = (
    Int8Candidate("dynamic", "every MatMul in int8, activations scaled per batch", 0.0, 0.0),
    Int8Candidate("dynamic-fp32-head", "as dynamic, the classifier head in fp32", 0.0, 0.01),
    # benchmarks/int8_candidates.py: the first layers are where int8 costs MiniLM taggers their F1
    Int8Candidate("dynamic-fp32-first", "as dynamic, the first sixth of the MatMuls in fp32", 1 / 6, 0.0),
    Int8Candidate("dynamic-fp32-ends", "as dynamic, the first and last sixth of the MatMuls in fp32", 1 / 6, 1 / 6),
)


def candidate_named(name: str) -> Int8Candidate:
    for candidate in CANDIDATES:
        if candidate.name == name:
            return candidate
    raise ValueError(f"unknown int8 candidate {name!r}; one of {', '.join(c.name for c in CANDIDATES)}")


def quantisable_nodes(path: Path) -> list[str]:
    """Names of the nodes dynamic quantisation would convert, in graph (topological) order."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    return [node.name for node in graph.node if node.op_type in QUANTIZABLE and node.name]


def quantize_candidate(source: Path, target: Path, candidate: Int8Candidate, *, per_channel: bool,
                       reduce_range: bool, external: bool) -> dict[str, Any]:
    """The int8 graph of ``candidate`` at ``target``; returns what the manifest records about it."""
    excluded = candidate.nodes_to_exclude(quantisable_nodes(source))
    record = quantize_int8(source, target, per_channel=per_channel, reduce_range=reduce_range, external=external,
                           exclude=excluded)
    return {**record, "candidate": candidate.name}


@dataclass(frozen=True)
class Trial:
    candidate: str
    loss_points: float  # strict F1 points lost against fp32 (gold), or 100 x (1 - span agreement) without gold
    measure: str  # "strict_f1_drop" or "span_disagreement"

    def to_dict(self) -> dict[str, Any]:
        return {"candidate": self.candidate, "loss_points": round(self.loss_points, 3), "measure": self.measure}


@dataclass(frozen=True)
class Int8Choice:
    chosen: str | None  # None: no candidate within the bound
    trials: list[Trial]
    max_loss_points: float

    @property
    def best(self) -> Trial:
        return min(self.trials, key=lambda trial: trial.loss_points)

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"chosen": self.chosen, "max_loss_points": self.max_loss_points,
                                  "tried": [trial.to_dict() for trial in self.trials]}
        if self.chosen is None:
            record["omitted"] = self.reason()
        return record

    def reason(self) -> str:
        best = self.best
        what = "strict F1 points" if best.measure == "strict_f1_drop" else "points of span agreement with fp32"
        return (f"no int8 candidate within {self.max_loss_points:g} {what} (best: {best.candidate}, "
                f"{best.loss_points:.2f}); fp32 serves on the CPU")


def choose_int8(try_candidate: Callable[[Int8Candidate], Trial], max_loss_points: float,
                candidates: Sequence[Int8Candidate] = CANDIDATES) -> Int8Choice:
    """Try ``candidates`` in order (fastest first); stop at the first whose loss is within the bound."""
    trials: list[Trial] = []
    for candidate in candidates:
        trial = try_candidate(candidate)
        trials.append(trial)
        log.info("int8 candidate %s: %.2f %s (allowed %.2f)", candidate.name, trial.loss_points, trial.measure,
                 max_loss_points)
        if trial.loss_points <= max_loss_points:
            return Int8Choice(candidate.name, trials, max_loss_points)
    return Int8Choice(None, trials, max_loss_points)


def choose_served_int8(staging: Path, documents: Sequence[Document], served: dict[str, Predictions],
                       requantize: Callable[[Int8Candidate], None], remove: Callable[[], None], *, gold: bool,
                       max_loss_points: float, require: bool, candidates: Sequence[Int8Candidate] = CANDIDATES
                       ) -> dict[str, Any]:
    """Serve each candidate from the staged bundle (the first is already written) and keep the first within
    the bound of strict F1 points lost against fp32's served spans. None within it: ``remove()`` the
    variant, or with ``require``, ExportError. Without gold spans nothing measures accuracy: the fastest
    candidate is kept and its span disagreement with fp32 recorded. ``served`` gains the chosen
    candidate's spans under "int8". Returns the manifest's record of the choice.
    """
    from model_export.evaluate import gold_spans
    from model_export.scoring import score
    from model_export.verify import ExportError, served_predictions, span_agreement

    reference = score(gold_spans(documents), served["fp32"]).strict.f1 if gold else 0.0

    def attempt(candidate: Int8Candidate) -> Trial:
        if candidate != candidates[0]:
            requantize(candidate)
        predicted = served["int8"] = served_predictions(staging, documents, ["int8"])["int8"]
        if gold:
            return Trial(candidate.name, (reference - score(gold_spans(documents), predicted).strict.f1) * 100,
                         "strict_f1_drop")
        return Trial(candidate.name, (1 - span_agreement(served["fp32"], predicted)["agreement"]) * 100,
                     "span_disagreement")

    if not gold:
        trial = attempt(candidates[0])
        return {"chosen": candidates[0].name, "max_loss_points": None, "tried": [trial.to_dict()],
                "accuracy": "not measured: no evaluation corpus with gold spans (clinx export --eval-corpus)"}
    choice = choose_int8(attempt, max_loss_points, candidates)
    if choice.chosen is None:
        if require:
            raise ExportError(f"int8 required (--require-int8), but {choice.reason()}; bundle not written")
        served.pop("int8", None)
        remove()
    return choice.record()
