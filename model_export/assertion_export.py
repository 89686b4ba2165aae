"""An assertion classifier checkpoint into an existing bundle: ONNX fp32 and int8, verified, declared.

Writes ``assertion.onnx``, ``assertion.int8.onnx`` and ``assertion.tokenizer.json`` beside the
tagger and the manifest's ``assertion.model`` (classes, markers, checksums, parity): fp32 must
compute PyTorch's logits (max |difference| within the tolerance) on real marked rows, int8's
classes are compared with fp32's; with an evaluation corpus the bundle is then served by the
server's own engine (the stage, batching included) and its accuracy recorded, rules beside it.
A failed check leaves the bundle as it was.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.bundle import MANIFEST, Manifest, file_entry, read_manifest, verify_bundle
from app.text.types import Document
from model_export.assertion_eval import asserted_documents, gold_span_scores
from model_export.assertion_train import ASSERTION_FILE, backend, build_rows, markers_of, predict_rows
from model_export.checkpoints import read_json
from model_export.onnx_export import export_onnx, quantize_int8, save_onnx
from model_export.sample_text import SAMPLE_NOTES
from model_export.verify import ExportError, ort_session

log = logging.getLogger("clinx.export")
STEM = "assertion"


def _rows_for_parity(rust: Any, markers: Any, documents: Sequence[Document], classes: list[str], max_length: int
                     ) -> list[Any]:
    """Marked rows from the evaluation corpus, or from every word-ish stretch of the sample notes."""
    asserted = asserted_documents(documents)
    rows = build_rows(rust, markers, asserted, classes, max_length) if any(d.spans for d in asserted) else []
    if not rows:
        from app.text.types import Span

        samples = []
        for index, text in enumerate(SAMPLE_NOTES):
            words = [(i, i + 5) for i in range(0, max(0, len(text) - 5), 37)]
            samples.append(Document(f"s{index}", text, tuple(Span(a, b, "problem", (("assertion", classes[0]),))
                                                           for a, b in words)))
        rows = build_rows(rust, markers, samples, classes, max_length)
    return rows[:256]


CONVERSION_FILE = "assertion.conversion.json"


def export_assertion(checkpoint: Path, bundle: Path, *, eval_documents: Sequence[Document] | None = None,
                     eval_corpus: dict[str, Any] | None = None, logit_tolerance: float = 1e-4,
                     source: str | None = None) -> Manifest:
    """Add (or replace) the bundle's assertion classifier; raise ExportError and leave the bundle as it was."""
    read_manifest(bundle)  # a valid bundle to add to, before any work
    staging = Path(tempfile.mkdtemp(prefix=".clinx-assertion-", dir=bundle.parent))
    try:
        convert_assertion(checkpoint, staging, eval_documents=eval_documents, logit_tolerance=logit_tolerance)
        return install_assertion(staging, bundle, eval_documents=eval_documents, eval_corpus=eval_corpus,
                                 source=source)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def convert_assertion(checkpoint: Path, target: Path, *, eval_documents: Sequence[Document] | None = None,
                      logit_tolerance: float = 1e-4) -> dict[str, Any]:
    """The classifier's ONNX fp32 and int8 graphs and tokenizer in ``target``, checked against PyTorch.

    Needs no bundle, so it can run beside the tagger's training; :func:`install_assertion` adds the
    result to a bundle. Returns (and writes to ``CONVERSION_FILE``) what the manifest records.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    started = time.monotonic()
    record = read_json(checkpoint / ASSERTION_FILE)
    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
    model = AutoModelForSequenceClassification.from_pretrained(str(checkpoint)).float().eval()
    classes, historical, max_length = list(record["classes"]), bool(record["historical"]), int(record["max_length"])
    markers = markers_of(tokenizer)
    rust = backend(tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    rows = _rows_for_parity(rust, markers, eval_documents or [], classes, max_length)
    import onnx

    target.mkdir(parents=True, exist_ok=True)
    fp32, int8 = target / f"{STEM}.onnx", target / f"{STEM}.int8.onnx"
    raw = target / "raw"
    raw.mkdir(exist_ok=True)
    export_onnx(model, raw / "raw.onnx", pad_id)  # weights as external data: inlined below (small model)
    save_onnx(onnx.load(str(raw / "raw.onnx")), fp32, external=False)
    shutil.rmtree(raw)
    quantize_int8(fp32, int8, per_channel=True, reduce_range=False, external=False)
    rust.save(str(target / f"{STEM}.tokenizer.json"))
    reference = predict_rows(model, rows, pad_id)
    parity: dict[str, Any] = {"rows": len(rows)}
    outputs = {precision: _ort_rows(ort_session(path), rows, pad_id) for precision, path in (("fp32", fp32),
                                                                                            ("int8", int8))}
    difference = float(np.abs(outputs["fp32"] - reference).max(initial=0.0))
    parity["fp32_vs_pytorch"] = {"max_abs_logit_diff": difference, "tolerance": logit_tolerance}
    if difference > logit_tolerance:
        raise ExportError(f"assertion classifier: ONNX fp32 disagrees with PyTorch: max |logit difference| "
                          f"{difference:.2e} (tolerance {logit_tolerance:.0e})")
    count = len(classes)
    agree = float(np.mean(np.argmax(outputs["int8"][:, :count], 1) == np.argmax(outputs["fp32"][:, :count], 1)))
    parity["int8_vs_fp32"] = {"max_abs_logit_diff": float(np.abs(outputs["int8"] - outputs["fp32"]).max()),
                              "class_agreement": agree}
    special = {"cls_id": markers.cls_id, "sep_id": markers.sep_id, "pad_id": pad_id, "start_id": markers.start_id,
               "end_id": markers.end_id}
    conversion = {"classes": classes, "historical": historical, "max_length": max_length, "special_tokens": special,
                  "parity": parity, "training": record}
    (target / CONVERSION_FILE).write_text(json.dumps(conversion, indent=2), encoding="utf-8")
    log.info("assertion classifier converted to ONNX in %.0f s", time.monotonic() - started)
    return conversion


def install_assertion(converted: Path, bundle: Path, *, eval_documents: Sequence[Document] | None = None,
                      eval_corpus: dict[str, Any] | None = None, source: str | None = None) -> Manifest:
    """The graphs :func:`convert_assertion` wrote into ``bundle``, declared in its manifest; with
    ``eval_documents`` served by the server's own engine and scored, rules beside it."""
    started = time.monotonic()
    read_manifest(bundle)
    conversion = json.loads((converted / CONVERSION_FILE).read_text(encoding="utf-8"))
    record = conversion["training"]
    for name in (f"{STEM}.onnx", f"{STEM}.int8.onnx", f"{STEM}.tokenizer.json"):
        shutil.copy(converted / name, bundle / name)
    variants = {precision: {**file_entry(bundle, f"{name}").model_dump(), "precision": precision,
                            "optimization": {"applied": False, "reason": "short rows; not fused"}}
                for precision, name in (("fp32", f"{STEM}.onnx"), ("int8", f"{STEM}.int8.onnx"))}
    raw = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    raw["assertion"] = {**raw.get("assertion", {}), "source": source, "model": {
        "base_model": str(record.get("config", {}).get("base_model", "")).rstrip("/").rsplit("/", 1)[-1],
        "classes": conversion["classes"], "historical": conversion["historical"],
        "max_length": conversion["max_length"],
        "tokenizer": file_entry(bundle, f"{STEM}.tokenizer.json").model_dump(),
        "special_tokens": conversion["special_tokens"],
        "members": [{"name": "model", "variants": variants}],
        "evaluation": {"dev": record.get("dev", {}), "best_epoch": record.get("best_epoch")},
        "parity": conversion["parity"],
        "training": {"corpus": record.get("corpus", {}), "config": record.get("config", {})}}}
    _write(bundle, raw)
    if eval_documents:
        raw["assertion"]["evaluation"] = served_assertion_figures(bundle, eval_documents, eval_corpus or {})
        raw["assertion"]["model"]["evaluation"]["eval_corpus"] = raw["assertion"]["evaluation"].get("model")
        _write(bundle, raw)
    log.info("assertion classifier added to %s in %.0f s", bundle, time.monotonic() - started)
    return verify_bundle(bundle)


def _ort_rows(session: Any, rows: Sequence[Any], pad_id: int) -> np.ndarray:
    from app.engine.executor import pad_rows

    outputs = []
    for begin in range(0, len(rows), 64):
        ids, mask = pad_rows([row.ids for row in rows[begin : begin + 64]], pad_id)
        outputs.append(session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0])
    return np.concatenate(outputs)


def _write(bundle: Path, raw: dict[str, Any]) -> None:
    (bundle / MANIFEST).write_text(Manifest.model_validate(raw).model_dump_json(indent=2), encoding="utf-8")
    verify_bundle(bundle)


def served_assertion_figures(bundle: Path, documents: Sequence[Document], corpus: dict[str, Any]) -> dict[str, Any]:
    """Gold-span figures of each source, served by the server's own engine (fp32 and int8 for the model)."""
    from app.engine.extractor import EngineOptions, Extractor

    asserted = asserted_documents(documents)
    texts = [d.text for d in asserted]
    spans = [[(s.start, s.end) for s in d.spans] for d in asserted]
    figures: dict[str, Any] = {"corpus": {**corpus, "documents": len(asserted),
                                          "spans": sum(len(s) for s in spans)}}
    tagger = read_manifest(bundle).precisions()
    for precision in [p for p in ("fp32", "int8") if p in tagger]:  # the tagger must have it too
        with Extractor.load(bundle, options=EngineOptions(device="cpu", variant=precision)) as extractor:
            stage: Any = extractor.stage("assertion")
            for source in stage.sources if precision == "fp32" else ["model"]:
                found = extractor.run_sync(stage.assess(texts, spans, deadline=time.monotonic() + 3600,
                                                        source=source))
                scores = gold_span_scores(asserted, [[(f.assertion, f.historical) for f in d] for d in found])
                key = "rules" if source == "rules" else f"model_{precision}"
                figures[key] = scores
    figures["model"] = figures.get("model_int8") or figures.get("model_fp32")
    return figures
