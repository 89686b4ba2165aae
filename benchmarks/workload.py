"""The notes a model is measured on, what they cost (subwords, windows, model tokens), and its FLOPs.

Also what the machine allows: the measured matrix rates divided by the model's FLOPs per token.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from benchmarks import bundles
from benchmarks.profiles import STRIDE


def workload(name: str, bundle: Path, checkpoint: Path, count: int, quick: bool) -> dict[str, Any]:
    """The notes a model is measured on and what they cost: subwords, windows, model tokens."""
    from transformers import AutoTokenizer

    from app.bundle import bundle_encoder, verify_bundle

    notes = bundles.read_notes()
    random.Random(8).shuffle(notes)
    notes = notes[:count]
    if quick:  # a smoke run wants answers in seconds: the shortest of a larger sample
        notes = sorted(bundles.read_notes(), key=lambda note: len(note["text"]))[20:20 + count]
    manifest = verify_bundle(bundle, set())  # the tokenizer is all it reads (a kit may carry one variant)
    encoder = bundle_encoder(bundle, manifest)
    documents = encoder.encode_many([note["text"] for note in notes])
    windows = [len(encoder.input_ids(d, w)) for d in documents for w in d.windows]
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    naive_lengths = []
    for note in notes:
        encoded = tokenizer(note["text"], truncation=True, max_length=512, stride=STRIDE,
                            return_overflowing_tokens=True)
        naive_lengths += [len(ids) for ids in encoded["input_ids"]]
    doc_tokens = [d.token_count for d in documents]
    return {
        "model": name,
        "notes": notes,
        "max_length": manifest.max_length,
        "doc_tokens": doc_tokens,
        "note_model_tokens": [sum(len(encoder.input_ids(d, w)) for w in d.windows) for d in documents],
        "summary": {
            "notes": len(notes),
            "characters_mean": sum(len(n["text"]) for n in notes) / len(notes),
            "words": sum(len(n["text"].split()) for n in notes),
            "doc_tokens": sum(doc_tokens),
            "doc_tokens_per_note": sum(doc_tokens) / len(notes),
            "windows": len(windows),
            "model_tokens": sum(windows),
            "model_tokens_per_note": sum(windows) / len(notes),
            "context_amplification": sum(windows) / max(1, sum(doc_tokens)),
            "window_length_mean": sum(windows) / len(windows),
            "window_length_token_weighted": sum(n * n for n in windows) / sum(windows),
            "naive_windows": len(naive_lengths),
            "naive_model_tokens": sum(naive_lengths),
            "naive_amplification": sum(naive_lengths) / max(1, sum(doc_tokens)),
            "naive_window_length_token_weighted": sum(n * n for n in naive_lengths) / sum(naive_lengths),
        },
    }


def flops_per_token(checkpoint: Path, attended: float) -> dict[str, float]:
    """Multiply-adds x 2 per token: the linear layers (2 x their weights) plus attention (QK^T and AV)."""
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    d, layers, ff = config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]
    labels = len(config.get("id2label", {})) or 13
    linear = 2.0 * (layers * (4 * d * d + 2 * d * ff) + d * labels)
    attention = 2.0 * layers * 2 * attended * d
    return {"linear": linear, "attention": attention, "total": linear + attention,
            "encoder_parameters": layers * (4 * d * d + 2 * d * ff)}


def machine_limits(machine: dict[str, Any], flops: dict[str, float]) -> dict[str, float]:
    """Model tokens/s the measured matrix rates allow, per variant."""
    limits = {"fp32": machine["fp32_gflops"] * 1e9 / flops["total"]}
    if "ort_int8_gops" in machine:  # CPU: linear layers at the int8 rate, attention stays fp32
        limits["int8"] = 1 / (flops["linear"] / (machine["ort_int8_gops"] * 1e9)
                              + flops["attention"] / (machine["fp32_gflops"] * 1e9))
    if "fp16_gflops" in machine:  # GPU: the fp16 tensor-core rate for the whole graph
        limits["fp16"] = machine["fp16_gflops"] * 1e9 / flops["total"]
    return limits


def bundle_files(bundle: Path) -> dict[str, int]:
    """Bytes of each precision's graph (external data included)."""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    sizes = {}
    for member in manifest["members"]:
        for precision, variant in member["variants"].items():
            extra = sum(entry.get("bytes", 0) for entry in variant.get("external_data", []) or [])
            sizes[precision] = variant["bytes"] + extra
    return sizes
