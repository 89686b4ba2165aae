"""Checkpoint (or ensemble of checkpoints) to model bundle: ONNX variants, verification, manifest.

A bundle is written only after every graph has been shown to compute what it should on real text
windows: fp32 what PyTorch computes (logits and spans), int8 and fp16 close enough to fp32 (spans,
and strict F1 on an evaluation corpus when one is given). Every figure measured on the way goes
into the manifest; a failed check writes nothing and says by how much it failed.
"""

from __future__ import annotations

import gc
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.bundle import MANIFEST, Manifest, file_entry, verify_bundle
from app.text.decode import DecodeRule
from app.text.encode import DocumentEncoder
from app.text.types import Document
from model_export.checkpoints import TRAINING_FILE
from model_export.evaluate import predict_spans, torch_logits_fn
from model_export.examples import make_encoder
from model_export.export_inputs import check_positions, read_checkpoints, shared_geometry, usable_positions
from model_export.export_manifest import bundle_manifest
from model_export.hf import load_checkpoint, special_tokens
from model_export.int8_choice import (
    CANDIDATES,
    Int8Candidate,
    candidate_named,
    choose_served_int8,
    quantize_candidate,
)
from model_export.onnx_export import (
    INLINE_LIMIT,
    convert_fp16,
    export_onnx,
    external_files,
    fusion_settings,
    needs_external,
    optimize,
    save_onnx,
    weight_bytes,
)
from model_export.sample_text import SAMPLE_NOTES
from model_export.verify import (
    ExportError,
    MemoLogits,
    Predictions,
    max_logit_difference,
    ort_logits_fn,
    served_figures,
    served_predictions,
    span_agreement,
)

log = logging.getLogger("clinx.export")
LOGIT_TOLERANCE = 1e-4
MAX_F1_DROP = 0.5
# Above this many bytes of weights, each conversion runs in a child process (see _step).
ISOLATE_BYTES = 1_000_000_000


@dataclass
class ExportConfig:
    checkpoint: Path
    output_dir: Path
    name: str
    version: str = "1"
    task: str = "concepts"
    task_type: str = "concepts"  # "deid": a PHI tagger, served by /deidentify
    phi_categories: dict[str, str] = field(default_factory=dict)  # deid: label -> CATEGORY[/SUBTYPE] overrides
    description: str = ""
    demo: bool = False
    int8: bool = True
    fp16: bool = True
    optimize: bool = True
    texts: Sequence[str] = SAMPLE_NOTES
    eval_documents: Sequence[Document] | None = None
    eval_corpus: dict[str, Any] = field(default_factory=dict)
    logit_tolerance: float = LOGIT_TOLERANCE
    max_f1_drop: float = MAX_F1_DROP
    int8_per_channel: bool = True
    int8_reduce_range: bool = False
    require_int8: bool = False  # refuse the bundle when no int8 candidate keeps accuracy (else: no int8 variant)
    int8_candidate: str | None = None  # try this candidate alone (model_export.int8_choice) instead of all in order
    external_data: bool | None = None


_Decoding = tuple[list[str], DecodeRule]  # a model's tags and its decoding rule: what predict_spans needs


@dataclass
class MemberExport:
    variants: dict[str, dict[str, Any]]
    parity: dict[str, Any]
    logits: dict[str, MemoLogits]
    requantize: Callable[[Int8Candidate], dict[str, Any]] | None = None  # int8 again, as another candidate


def export_bundle(config: ExportConfig) -> Manifest:
    """Export, verify and write the bundle; raise ExportError (and write nothing) on failure."""
    started = time.monotonic()
    checkpoints = read_checkpoints(config.checkpoint)
    tags, geometry, rule = shared_geometry(checkpoints[0].record)
    documents = _verification_documents(config)
    config.output_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".clinx-export-", dir=config.output_dir.parent))
    try:
        encoder: DocumentEncoder | None = None
        tokenizer_json = ""
        exports: dict[str, MemberExport] = {}
        for checkpoint in checkpoints:
            model, tokenizer = load_checkpoint(str(checkpoint.path))
            model.float().eval()
            if [model.config.id2label[i] for i in range(model.config.num_labels)] != tags:
                raise ExportError(f"{checkpoint.path}: config.json id2label disagrees with {TRAINING_FILE} tags")
            check_positions(model.config, geometry.max_length)
            if encoder is None:
                tokenizer_json = tokenizer.backend_tokenizer.to_str()
                encoder = make_encoder(tokenizer.backend_tokenizer, special_tokens(tokenizer), geometry)
                encoder.tokenizer.save(str(staging / "tokenizer.json"))
            elif tokenizer.backend_tokenizer.to_str() != tokenizer_json:
                raise ExportError(f"{checkpoint.path}: tokenizer differs from {checkpoints[0].name}'s")
            fp32 = _export_fp32(model, checkpoint.name, staging, encoder, documents, (tags, rule), config)
            del model, tokenizer
            gc.collect()
            exports[checkpoint.name] = _export_reduced(fp32, staging, encoder, documents, (tags, rule), config)
        assert encoder is not None
        shutil.rmtree(staging / ".work", ignore_errors=True)
        for export in exports.values():
            for logits in export.logits.values():
                logits.release()
        # Written first without figures, so that the server's own engine can serve it; then scored as served.
        def write(figures: dict[str, Any], scores: dict[str, Any], int8: dict[str, Any] | None) -> Manifest:
            manifest = bundle_manifest(config, checkpoints, staging, encoder, exports, figures, scores, len(documents),
                                       int8)
            (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
            verify_bundle(staging)
            return manifest

        provisional = write({}, {}, None)
        served = served_predictions(staging, documents, [p for p in ("fp32", "fp16") if p in provisional.precisions()])
        int8 = _choose_int8(config, staging, documents, exports, served, write) if config.int8 else None
        figures, scores = served_figures(served, documents, ensemble=len(exports) > 1,
                                         gold=config.eval_documents is not None, max_f1_drop=config.max_f1_drop)
        manifest = write(figures, scores, int8)
        _readable(staging)
        if config.output_dir.exists():
            shutil.rmtree(config.output_dir)
        staging.rename(config.output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("bundle written to %s in %.0f s", config.output_dir, time.monotonic() - started)
    return manifest


@dataclass
class _Fp32:
    """The verified fp32 graph of one member, before the reduced-precision variants are derived from it."""

    path: Path
    optimization: dict[str, Any]
    parity: dict[str, Any]
    logits: MemoLogits
    spans: Predictions
    weight_bytes: int


def _export_fp32(model: Any, stem: str, staging: Path, encoder: DocumentEncoder, documents: Sequence[Document],
                 decoding: _Decoding, config: ExportConfig) -> _Fp32:
    """Export, fuse, and keep the fused graph only if it matches PyTorch; else the unfused one, or fail."""
    import onnx
    import torch

    work = staging / ".work" / stem
    work.mkdir(parents=True)
    raw = work / "raw.onnx"
    log.info("%s: exporting to ONNX", stem)
    export_onnx(model, raw, encoder.special.pad_id)
    header = onnx.load(str(raw), load_external_data=False)
    size, external = weight_bytes(header), needs_external(header, config.external_data)
    isolate = size > ISOLATE_BYTES
    reference = MemoLogits(torch_logits_fn(model, torch.device("cpu")))
    expected = predict_spans(encoder, documents, reference, *decoding)
    reference.release()
    path = staging / f"{stem}.onnx"
    settings = fusion_settings(model.config) if config.optimize else None
    optimization = (_step(isolate, optimize, raw, path, settings, external) if settings else {
        "applied": False, "reason": "disabled" if not config.optimize else
        f"model type {model.config.model_type!r} has no ORT fusions"})
    if optimization["applied"]:
        logits, spans, parity = _fp32_parity(path, reference, expected, encoder, documents, decoding, config)
        if not parity["passed"]:
            log.warning("%s: fused graph fails parity (%s); keeping the unfused graph", stem, parity)
            optimization = {**optimization, "applied": False, "reason": (
                f"fused graph failed parity: max |logit diff| {parity['max_abs_logit_diff']:.2e}, identical spans "
                f"{parity['identical']}; unfused graph kept")}
    if not optimization["applied"]:
        save_onnx(onnx.load(str(raw)), path, external)
        logits, spans, parity = _fp32_parity(path, reference, expected, encoder, documents, decoding, config)
        if not parity["passed"]:
            raise ExportError(
                f"{stem}: ONNX fp32 disagrees with PyTorch: max |logit difference| {parity['max_abs_logit_diff']:.2e}"
                f" (tolerance {config.logit_tolerance:.0e}), identical spans: {parity['identical']} "
                f"({parity['shared_spans']} of {parity['reference_spans']} shared)")
    shutil.rmtree(work)
    logits.release()
    return _Fp32(path, optimization, _public(parity), logits, spans, size)


def _export_reduced(fp32: _Fp32, staging: Path, encoder: DocumentEncoder, documents: Sequence[Document],
                    decoding: _Decoding, config: ExportConfig) -> MemberExport:
    """int8 and fp16 from the verified fp32 graph, each compared with fp32 on the same windows."""
    result = MemberExport({"fp32": _variant(staging, fp32.path, "fp32", fp32.optimization)},
                           {"fp32_vs_pytorch": fp32.parity}, {"fp32": fp32.logits})
    isolate = fp32.weight_bytes > ISOLATE_BYTES
    forced = bool(config.external_data)
    steps: list[tuple[str, Callable[..., dict[str, Any]], dict[str, Any]]] = []
    source = "fused fp32" if fp32.optimization["applied"] else "unfused fp32"
    if config.int8:
        int8_options: dict[str, Any] = {"per_channel": config.int8_per_channel,
                                        "reduce_range": config.int8_reduce_range,
                                        "external": forced or fp32.weight_bytes / 4 > INLINE_LIMIT}
        steps.append(("int8", quantize_candidate, {"candidate": _candidates(config)[0], **int8_options}))
        int8_target = fp32.path.with_name(fp32.path.name.removesuffix(".onnx") + ".int8.onnx")

        def requantize(candidate: Int8Candidate) -> dict[str, Any]:
            record = _step(isolate, quantize_candidate, fp32.path, int8_target, candidate=candidate, **int8_options)
            result.variants["int8"] = _variant(staging, int8_target, "int8", {**record, "source": source})
            return record

        result.requantize = requantize
    if config.fp16:
        steps.append(("fp16", convert_fp16, {"external": forced or fp32.weight_bytes / 2 > INLINE_LIMIT}))
    for precision, convert, options in steps:
        target = fp32.path.with_name(fp32.path.name.removesuffix(".onnx") + f".{precision}.onnx")
        log.info("%s: writing the %s variant", fp32.path.stem, precision)
        record = {**_step(isolate, convert, fp32.path, target, **options), "source": source}
        logits = MemoLogits(ort_logits_fn(target))
        predicted = predict_spans(encoder, documents, logits, *decoding)
        logits.release()
        result.parity[f"{precision}_vs_fp32"] = {"max_abs_logit_diff": max_logit_difference(fp32.logits, logits),
                                                 **span_agreement(fp32.spans, predicted)}
        result.variants[precision] = _variant(staging, target, precision, record)
        result.logits[precision] = logits
    return result


def _choose_int8(config: ExportConfig, staging: Path, documents: Sequence[Document],
                 exports: dict[str, MemberExport], served: dict[str, Predictions],
                 write: Callable[[dict[str, Any], dict[str, Any], dict[str, Any] | None], Manifest]
                 ) -> dict[str, Any]:
    def requantize(candidate: Int8Candidate) -> None:
        for export in exports.values():
            assert export.requantize is not None
            export.requantize(candidate)
        write({}, {}, None)

    def remove() -> None:
        for export in exports.values():
            entry = export.variants.pop("int8")
            for name in [entry["file"], *(data["file"] for data in entry["external_data"])]:
                (staging / name).unlink(missing_ok=True)
            export.parity.pop("int8_vs_fp32", None)

    return choose_served_int8(staging, documents, served, requantize, remove, gold=config.eval_documents is not None,
                              max_loss_points=config.max_f1_drop, require=config.require_int8,
                              candidates=_candidates(config))


def _candidates(config: ExportConfig) -> tuple[Int8Candidate, ...]:
    """The int8 candidates to try, fastest first: all of them, or the one the user named."""
    return (candidate_named(config.int8_candidate),) if config.int8_candidate else CANDIDATES


def _step(isolate: bool, function: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Run one ONNX conversion, in a child process for big models.

    ONNX tooling holds several copies of the weights at once and the allocator keeps what it freed;
    a child gives all of it back when it ends, so a 2 GB model's export peaks at one step's memory.
    """
    if not isolate:
        return function(*args, **kwargs)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args, **kwargs).result()


def _fp32_parity(path: Path, reference: MemoLogits, expected: Predictions, encoder: DocumentEncoder,
                 documents: Sequence[Document], decoding: _Decoding, config: ExportConfig
                 ) -> tuple[MemoLogits, Predictions, dict[str, Any]]:
    logits = MemoLogits(ort_logits_fn(path))
    predicted = predict_spans(encoder, documents, logits, *decoding)
    difference = max_logit_difference(reference, logits)
    agreement = span_agreement(expected, predicted)
    passed = difference <= config.logit_tolerance and agreement["identical"]
    return logits, predicted, {"max_abs_logit_diff": difference, "tolerance": config.logit_tolerance, **agreement,
                               "passed": passed}


def _verification_documents(config: ExportConfig) -> list[Document]:
    if config.eval_documents is not None:
        if not config.eval_documents:
            raise ExportError("the evaluation corpus holds no documents")
        return list(config.eval_documents)
    return [Document(f"sample-{index}", text) for index, text in enumerate(config.texts, start=1)]


def _variant(root: Path, path: Path, precision: str, optimization: dict[str, Any]) -> dict[str, Any]:
    return {**file_entry(root, path.name).model_dump(), "precision": precision, "optimization": optimization,
            "external_data": [file_entry(root, name).model_dump() for name in external_files(path)]}


def _readable(root: Path) -> None:
    """mkdtemp and ONNX's data writer create owner-only files; a server often runs as another user."""
    root.chmod(0o755)
    for path in root.iterdir():
        path.chmod(0o644)


def _public(parity: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in parity.items() if key != "passed"}


__all__ = ["ExportConfig", "ExportError", "export_bundle", "read_checkpoints", "usable_positions"]
