"""Checkpoint to model bundle: ONNX export, parity verification, int8 variant, manifest.

A bundle is written only after the ONNX model has been shown to compute what the PyTorch model
computes on real text windows; every figure measured on the way goes into the manifest.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from app import __version__
from app.bundle import BUNDLE_FORMAT, MANIFEST, Manifest, file_entry, verify_bundle
from app.text.encode import DocumentEncoder
from app.text.labels import entity_types_of
from app.text.segment import SEGMENTER_NAME, SEGMENTER_VERSION
from app.text.windows import max_window_length
from model_export.hf import load_checkpoint, special_tokens
from model_export.predict import LogitsFn, predict_entities, window_probabilities
from model_export.sample_text import SAMPLE_NOTES
from model_export.train import TRAINING_FILE, torch_logits_fn

log = logging.getLogger("clinx.export")
OPSET = 18
LOGIT_TOLERANCE = 1e-4


class ExportError(RuntimeError):
    """The bundle would not be trustworthy; nothing is written."""


@dataclass
class ExportConfig:
    checkpoint: Path
    output_dir: Path
    name: str
    version: str = "1"
    task: str = "concepts"
    description: str = ""
    demo: bool = False
    int8: bool = True
    texts: Sequence[str] = SAMPLE_NOTES
    logit_tolerance: float = LOGIT_TOLERANCE


class _LogitsOnly(torch.nn.Module):
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits  # type: ignore[no-any-return]


def export_onnx(model: torch.nn.Module, path: Path, pad_id: int) -> None:
    """torch.export-based ONNX export with dynamic batch and sequence axes.

    The TorchScript exporter traces transformers' attention-mask code into shape-specialised
    graphs whose logits differ from PyTorch's; the dynamo exporter does not, so it is used.
    """
    from torch.export import Dim

    model.eval()
    ids = torch.full((2, 16), pad_id, dtype=torch.long)
    ids[:, 1:15] = 5
    mask = torch.ones((2, 16), dtype=torch.long)
    batch, sequence = Dim("batch"), Dim("sequence", max=8192)
    torch.onnx.export(
        _LogitsOnly(model).eval(),
        (ids, mask),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_shapes={"input_ids": {0: batch, 1: sequence}, "attention_mask": {0: batch, 1: sequence}},
        opset_version=OPSET,
        dynamo=True,
        external_data=False,
        verbose=False,
    )


def ort_logits_fn(path: Path) -> LogitsFn:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def run(ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> list[npt.NDArray[np.float32]]:
        return [session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]]

    return run


def logit_difference(encoder: DocumentEncoder, texts: Sequence[str], reference: LogitsFn, candidate: LogitsFn
                     ) -> float:
    """Largest absolute difference of raw logits over every window of ``texts``."""
    documents = encoder.encode_many(list(texts))
    worst = 0.0
    for document in documents:
        for window in document.windows:
            ids = np.array([encoder.input_ids(document, window)], dtype=np.int64)
            mask = np.ones_like(ids)
            worst = max(worst, float(np.abs(reference(ids, mask)[0] - candidate(ids, mask)[0]).max()))
    return worst


def span_agreement(encoder: DocumentEncoder, texts: Sequence[str], tags: Sequence[str], reference: LogitsFn,
                   candidate: LogitsFn) -> dict[str, Any]:
    """How many spans two models share on ``texts`` (exact offsets and label)."""
    ref = predict_entities(encoder, texts, reference, tags)
    cand = predict_entities(encoder, texts, candidate, tags)
    ref_set = {(i, e.start, e.end, e.label) for i, entities in enumerate(ref) for e in entities}
    cand_set = {(i, e.start, e.end, e.label) for i, entities in enumerate(cand) for e in entities}
    union = ref_set | cand_set
    return {"reference_spans": len(ref_set), "candidate_spans": len(cand_set), "shared_spans": len(ref_set & cand_set),
            "agreement": len(ref_set & cand_set) / len(union) if union else 1.0, "identical": ref_set == cand_set}


def quantize_int8(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True)


def export_bundle(config: ExportConfig) -> Manifest:
    """Export, verify and write the bundle; raise ExportError (and write nothing) on failure."""
    checkpoint = config.checkpoint
    training_path = checkpoint / TRAINING_FILE
    if not training_path.is_file():
        raise ExportError(f"{training_path}: missing; export needs a checkpoint written by `clinx train`")
    training = json.loads(training_path.read_text(encoding="utf-8"))
    model, tokenizer = load_checkpoint(str(checkpoint))
    model.eval()
    tags: list[str] = training["tags"]
    if [model.config.id2label[i] for i in range(len(tags))] != tags:
        raise ExportError(f"{checkpoint}: config.json id2label disagrees with {TRAINING_FILE} tags")
    special = special_tokens(tokenizer)
    chunk, context = int(training["chunk_subwords"]), int(training["context_subwords"])
    max_length = max_window_length(chunk, context)
    positions = usable_positions(model.config)
    if max_length > positions:
        raise ExportError(f"windows of {max_length} tokens exceed the model's {positions} positions; "
                          "train with a smaller chunk_subwords or context_subwords")
    encoder = DocumentEncoder(tokenizer.backend_tokenizer, special, chunk_subwords=chunk, context_subwords=context)

    staging = Path(tempfile.mkdtemp(prefix=".clinx-export-", dir=config.output_dir.parent))
    try:
        encoder.tokenizer.save(str(staging / "tokenizer.json"))
        export_onnx(model, staging / "model.onnx", special.pad_id)
        torch_fn = torch_logits_fn(model, torch.device("cpu"))
        fp32_fn = ort_logits_fn(staging / "model.onnx")
        difference = logit_difference(encoder, config.texts, torch_fn, fp32_fn)
        spans = span_agreement(encoder, config.texts, tags, torch_fn, fp32_fn)
        if difference > config.logit_tolerance or not spans["identical"]:
            raise ExportError(
                f"ONNX fp32 disagrees with PyTorch: max |logit difference| {difference:.2e} "
                f"(tolerance {config.logit_tolerance:.0e}), identical spans: {spans['identical']}"
            )
        parity: dict[str, Any] = {
            "fp32_vs_pytorch": {"max_abs_logit_diff": difference, "tolerance": config.logit_tolerance, **spans},
            "texts": len(config.texts),
            "windows": sum(len(document.windows) for document in encoder.encode_many(list(config.texts))),
        }
        variants: dict[str, Any] = {"fp32": _variant(staging, "model.onnx", "fp32")}
        if config.int8:
            quantize_int8(staging / "model.onnx", staging / "model.int8.onnx")
            parity["int8_vs_fp32"] = span_agreement(
                encoder, config.texts, tags, fp32_fn, ort_logits_fn(staging / "model.int8.onnx")
            )
            variants["int8"] = _variant(staging, "model.int8.onnx", "int8")
        manifest = Manifest(
            bundle_format=BUNDLE_FORMAT,
            name=config.name,
            version=config.version,
            task=config.task,
            description=config.description,
            demo=config.demo,
            base_model=str(training.get("config", {}).get("base_model", "")),
            label_scheme="BIOES",
            tags=tags,
            entity_types=entity_types_of(tags),
            max_length=max_length,
            chunk_subwords=chunk,
            context_subwords=context,
            segmenter={"name": SEGMENTER_NAME, "version": SEGMENTER_VERSION},
            tokenizer=file_entry(staging, "tokenizer.json"),
            special_tokens={"cls_id": special.cls_id, "sep_id": special.sep_id, "pad_id": special.pad_id},
            members=[{"name": "model", "variants": variants}],
            evaluation={"dev": training.get("dev", {}), "best_epoch": training.get("best_epoch")},
            parity=parity,
            training={"corpus": training.get("corpus", {}), "config": training.get("config", {})},
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            clinx_version=__version__,
        )
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        verify_bundle(staging)
        if config.output_dir.exists():
            shutil.rmtree(config.output_dir)
        staging.rename(config.output_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("bundle written to %s", config.output_dir)
    return manifest


def usable_positions(config: Any) -> int:
    """RoBERTa-style models (CLIN-X, XLM-R) reserve the first positions after the padding index."""
    positions = int(getattr(config, "max_position_embeddings", 512))
    if getattr(config, "model_type", "") in ("roberta", "xlm-roberta", "camembert"):
        positions -= int(getattr(config, "pad_token_id", 1)) + 1
    return positions


def _variant(root: Path, file: str, precision: str) -> dict[str, Any]:
    return {**file_entry(root, file).model_dump(), "precision": precision}


__all__ = ["ExportConfig", "ExportError", "export_bundle", "window_probabilities"]
