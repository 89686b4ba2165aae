"""The checks that decide whether a bundle may be written, and ``clinx export verify`` for a written one.

At export, the fp32 graph must compute PyTorch's logits (max |difference| within a tolerance) and
predict identical spans; int8 and fp16 are compared with fp32 span by span. Then the written bundle
is served in each precision by the server's own engine (:class:`app.engine.extractor.Extractor`,
its batching included) and, on an evaluation corpus, scored by strict F1: the figure recorded is
the one the server delivers. After export (or after copying a bundle anywhere),
:func:`verify_bundle_files` re-checks checksums and opsets and runs every variant, without PyTorch.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from app.bundle import BundleError, Manifest, bundle_encoder, verify_bundle
from app.engine.executor import pad_rows
from app.engine.runtime import create_session
from app.text.encode import DocumentEncoder
from app.text.types import Document, Span
from model_export.evaluate import gold_spans, spans_by_id
from model_export.onnx_export import MIN_OPSET, opset_of
from model_export.predict import LogitsFn
from model_export.sample_text import SAMPLE_NOTES
from model_export.scoring import score

Logits = list[npt.NDArray[np.float32]]
Predictions = Mapping[str, Sequence[Span]]


PRECISIONS = ("fp32", "int8", "fp16")


class ExportError(RuntimeError):
    """The bundle would not be trustworthy; nothing is written."""


class MemoLogits:
    """A logits function that remembers every batch it computed.

    ``predict_entities`` forms the same length-sorted batches for the same documents, so spans,
    logit differences and ensemble votes are all read from one pass per model; after
    :meth:`release` the model (and its ONNX Runtime session) is dropped and batches only replay.
    """

    def __init__(self, fn: LogitsFn) -> None:
        self._fn: LogitsFn | None = fn
        self.batches: dict[bytes, tuple[npt.NDArray[np.int64], Logits]] = {}

    def __call__(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Logits:
        key = np.asarray(ids.shape).tobytes() + ids.tobytes() + mask.tobytes()
        if key not in self.batches:
            if self._fn is None:
                raise RuntimeError("a released model was asked for a batch it never computed")
            self.batches[key] = (mask.copy(), self._fn(ids, mask))
        return self.batches[key][1]

    def release(self) -> None:
        self._fn = None


def max_logit_difference(reference: MemoLogits, candidate: MemoLogits) -> float:
    """Largest |logit difference| over the real (unpadded) tokens of every batch both computed."""
    worst = 0.0
    for key, (mask, logits) in reference.batches.items():
        if key not in candidate.batches:
            continue
        real = mask.astype(bool)
        for ours, theirs in zip(logits, candidate.batches[key][1], strict=True):
            worst = max(worst, float(np.abs(ours[real] - theirs[real].astype(np.float32)).max(initial=0.0)))
    return worst


def span_agreement(reference: Predictions, candidate: Predictions) -> dict[str, Any]:
    """How far two models' spans coincide (exact offsets and label); agreement is F1 with reference as gold."""
    ours = {(doc, span.start, span.end, span.label) for doc, spans in reference.items() for span in spans}
    theirs = {(doc, span.start, span.end, span.label) for doc, spans in candidate.items() for span in spans}
    shared = len(ours & theirs)
    total = len(ours) + len(theirs)
    return {"reference_spans": len(ours), "candidate_spans": len(theirs), "shared_spans": shared,
            "agreement": 2 * shared / total if total else 1.0, "identical": ours == theirs}


def served_predictions(root: Path, documents: Sequence[Document], precisions: Sequence[str]) -> dict[str, Predictions]:
    """Spans per precision as the server answers them: the written bundle through the Extractor on the CPU."""
    from app.engine.extractor import EngineOptions, Extractor

    texts = [document.text for document in documents]
    served: dict[str, Predictions] = {}
    for precision in precisions:
        with Extractor.load(root, options=EngineOptions(device="cpu", variant=precision)) as extractor:
            served[precision] = spans_by_id(documents, [result.entities for result in extractor.extract(texts)])
    return served


def served_figures(served: Mapping[str, Predictions], documents: Sequence[Document], *, ensemble: bool, gold: bool,
                   max_f1_drop: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """Figures of what the server answers in each precision (``served[precision]``, fp32 first).

    Returns per-precision figures (ensembles: span agreement with fp32; with ``gold`` spans in
    ``documents``: strict F1 and its drop) and the full scores; raises ExportError when a variant
    loses more than ``max_f1_drop`` points of strict F1 against fp32.
    """
    precisions = [p for p in PRECISIONS if p in served]
    figures: dict[str, Any] = {}
    scores: dict[str, Any] = {}
    for precision in precisions:
        agreement = ensemble and precision != "fp32"  # a single member's agreement is under members
        entry: dict[str, Any] = span_agreement(served["fp32"], served[precision]) if agreement else {}
        if gold:
            result = score(gold_spans(documents), served[precision])
            scores[precision] = result.to_dict()
            entry["strict_f1"] = result.strict.f1
        if entry:
            figures[precision] = entry
    for precision in precisions[1:] if gold else []:
        base, reduced = figures["fp32"]["strict_f1"], figures[precision]["strict_f1"]
        drop = (base - reduced) * 100
        figures[precision].update(f1_drop_points=drop, max_f1_drop_points=max_f1_drop)
        if drop > max_f1_drop:
            raise ExportError(
                f"the {precision} variant loses {drop:.2f} points of strict F1 on the evaluation corpus (fp32 "
                f"{base * 100:.2f}, {precision} {reduced * 100:.2f}; allowed {max_f1_drop:.2f}, --max-f1-drop); "
                "bundle not written")
    return figures, scores


def ort_session(path: Path, threads: int = 0) -> Any:
    """A CPU session exactly as the server builds it, or BundleError naming the file."""
    return create_session(path, None, threads)


def ort_logits_fn(path: Path, threads: int = 0) -> LogitsFn:
    session = ort_session(path, threads)

    def run(ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Logits:
        return [session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]]

    return run


@dataclass(frozen=True)
class VariantCheck:
    """One variant of one member, loaded and run by :func:`verify_bundle_files`."""

    member: str
    precision: str
    file: str
    bytes: int  # graph plus external data
    external_data: int
    opset: int
    load_s: float
    run_ms: float
    max_abs_diff_vs_fp32: float

    def line(self) -> str:
        size = f"{self.bytes / 1e6:.1f} MB" + (" (external data)" if self.external_data else "")
        return (f"{self.member:<10} {self.precision:<5} {self.file:<22} {size:<24} opset {self.opset:<3} "
                f"load {self.load_s:6.2f} s  run {self.run_ms:8.1f} ms  max|Δ| vs fp32 {self.max_abs_diff_vs_fp32:.2e}")


def verify_bundle_files(root: Path) -> tuple[Manifest, list[VariantCheck]]:
    """Checksums, opsets, I/O contract and a real window through every variant; BundleError on any defect."""
    manifest = verify_bundle(root)
    ids, mask = _sample_batch(bundle_encoder(root, manifest))
    checks: list[VariantCheck] = []
    for member in manifest.members:
        reference: npt.NDArray[np.float32] | None = None
        for precision in sorted(member.variants, key=lambda name: name != "fp32"):
            variant = member.variants[precision]
            path = root / variant.file
            opset = opset_of(path)
            if opset < MIN_OPSET:
                raise BundleError(f"{path}: ONNX opset {opset}; bundles need opset >= {MIN_OPSET}")
            started = time.perf_counter()
            session = ort_session(path)
            loaded = time.perf_counter()
            _check_io(path, session)
            logits = session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]
            ran = time.perf_counter()
            expected = (*ids.shape, len(manifest.tags))
            if tuple(logits.shape) != expected or logits.dtype != np.float32:
                raise BundleError(f"{path}: logits {logits.dtype} {tuple(logits.shape)}, expected float32 {expected}")
            real = mask.astype(bool)
            if not np.isfinite(logits[real]).all():
                raise BundleError(f"{path}: logits are not finite on a sample window")
            reference = logits if reference is None else reference
            checks.append(VariantCheck(
                member.name, precision, variant.file, variant.bytes + sum(d.bytes for d in variant.external_data),
                len(variant.external_data), opset,
                round(loaded - started, 3), round((ran - loaded) * 1000, 1),
                float(np.abs(logits[real] - reference[real]).max(initial=0.0)),
            ))
    return manifest, checks


def _sample_batch(encoder: DocumentEncoder) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every window of the first sample note, padded into one batch."""
    document = encoder.encode_many([SAMPLE_NOTES[0]])[0]
    return pad_rows([encoder.input_ids(document, window) for window in document.windows], encoder.special.pad_id)


def _check_io(path: Path, session: Any) -> None:
    inputs = {item.name: item.type for item in session.get_inputs()}
    outputs = {item.name: item.type for item in session.get_outputs()}
    if inputs != {"input_ids": "tensor(int64)", "attention_mask": "tensor(int64)"}:
        raise BundleError(f"{path}: inputs {inputs}; expected input_ids and attention_mask, int64")
    if outputs.get("logits") != "tensor(float)":
        raise BundleError(f"{path}: outputs {outputs}; expected logits, float32")
