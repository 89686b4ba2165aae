"""Training an assertion classifier: any Hugging Face encoder over the sentence with the span marked.

Corpus spans carry ``assertion`` (and, where known, ``historical``) attributes: i2b2 2010 ``.ast``
files, the NegEx/ConText TSV, JSONL with attributes. Each span becomes one row built by the
server's own :func:`app.assertion.marking.document_rows` (``[CLS] context [E] span [/E] context
[SEP]``, the markers added to the tokenizer's vocabulary), the classifier is the encoder's
sequence-classification head with the classes' logits, then two historical logits when the corpus
tells. The epoch with the best dev accuracy is kept, saved as an ordinary HF directory plus
``clinx_assertion.json`` (classes, markers, counts; never text).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.assertion.classes import ASSERTION_CLASSES
from app.assertion.marking import Markers, document_rows
from app.text.types import Document
from model_export.assertion_eval import attribute
from model_export.checkpoints import write_json
from model_export.hf import (
    CheckpointError,
    adamw,
    freeze_lower_layers,
    load_tokenizer,
    parameter_groups,
    set_dropout,
)

log = logging.getLogger("clinx.train")
ASSERTION_FILE = "clinx_assertion.json"
MARKERS = ("[E]", "[/E]")
IGNORE = -100


@dataclass
class AssertionTrainConfig:
    base_model: str
    output_dir: Path
    epochs: int = 3
    learning_rate: float = 5e-5
    batch_size: int = 16
    max_length: int = 64
    warmup_ratio: float = 0.1
    freeze_layers: int = 0  # embeddings (the markers too) and this many lowest layers stay as pre-trained
    head_learning_rate: float | None = None  # the fresh classification head's peak rate (None: learning_rate)
    dropout: float | None = None  # every dropout of the model at this rate (None: the base model's)
    majority_share: float | None = None  # the most frequent class keeps at most this share of the rows (None: all)
    seed: int = 42
    corpus: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    ids: list[int]
    label: int
    historical: int  # 0, 1 or IGNORE


def classes_of(documents: Sequence[Document]) -> list[str]:
    """The assertion classes the corpus uses, in the API's order."""
    used = {attribute(span.attributes, "assertion") for document in documents for span in document.spans}
    unknown = sorted(str(name) for name in used - set(ASSERTION_CLASSES) - {None})
    if unknown:
        raise ValueError(f"assertion values outside {list(ASSERTION_CLASSES)}: {unknown}")
    classes = [name for name in ASSERTION_CLASSES if name in used]
    if len(classes) < 2:
        raise ValueError("the corpus needs spans of at least two assertion classes to train a classifier")
    return classes


def backend(tokenizer: Any) -> Any:
    """The fast tokenizer's Rust tokenizer, without padding or truncation (rows are built here)."""
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    copy.no_padding()
    copy.no_truncation()
    return copy


def markers_of(tokenizer: Any) -> Markers:
    start, end = (tokenizer.convert_tokens_to_ids(marker) for marker in MARKERS)
    if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
        raise CheckpointError("the tokenizer lacks a CLS/BOS or SEP/EOS token id")
    return Markers(tokenizer.cls_token_id, tokenizer.sep_token_id, start, end)


def build_rows(rust: Any, markers: Markers, documents: Sequence[Document], classes: Sequence[str],
               max_length: int) -> list[Row]:
    rows = []
    for document in documents:
        spans = [span for span in document.spans if attribute(span.attributes, "assertion") is not None]
        ids = document_rows(rust, document.text, [(span.start, span.end) for span in spans], max_length, markers)
        for span, row in zip(spans, ids, strict=True):
            historical = attribute(span.attributes, "historical")
            rows.append(Row(row, classes.index(attribute(span.attributes, "assertion")),
                            IGNORE if historical is None else int(bool(historical))))
    return rows


def capped_majority(rows: Sequence[Row], share: float | None, rng: random.Random) -> list[Row]:
    """The rows with the most frequent class cut down (a random choice, order kept) to ``share`` of the result.

    Most spans in clinical notes are asserted present: cutting that class spends the steps on the
    rarer ones (absent, hypothetical ...) that the classifier has to learn, and saves time.
    """
    if share is None or not rows:
        return list(rows)
    if not 0 < share < 1:
        raise ValueError(f"majority_share must be between 0 and 1 (got {share})")
    counts: dict[int, int] = {}
    for row in rows:
        counts[row.label] = counts.get(row.label, 0) + 1
    majority = max(counts, key=lambda label: (counts[label], -label))
    others = len(rows) - counts[majority]
    keep = min(counts[majority], max(1, int(others * share / (1 - share))))
    chosen = set(rng.sample([index for index, row in enumerate(rows) if row.label == majority], keep))
    return [row for index, row in enumerate(rows) if row.label != majority or index in chosen]


def batch_tensors(rows: Sequence[Row], pad_id: int) -> dict[str, torch.Tensor]:
    longest = max(len(row.ids) for row in rows)
    ids = torch.full((len(rows), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), longest), dtype=torch.long)
    for index, row in enumerate(rows):
        ids[index, : len(row.ids)] = torch.tensor(row.ids)
        mask[index, : len(row.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask,
            "labels": torch.tensor([row.label for row in rows]),
            "historical": torch.tensor([row.historical for row in rows])}


def loss_of(logits: torch.Tensor, batch: dict[str, torch.Tensor], classes: int, historical: bool) -> torch.Tensor:
    loss = torch.nn.functional.cross_entropy(logits[:, :classes], batch["labels"])
    if historical and bool((batch["historical"] != IGNORE).any()):
        loss = loss + torch.nn.functional.cross_entropy(logits[:, classes:classes + 2], batch["historical"],
                                                        ignore_index=IGNORE)
    return loss


def predict_rows(model: Any, rows: Sequence[Row], pad_id: int, batch_size: int = 64) -> np.ndarray:
    model.eval()
    outputs = []
    with torch.no_grad():
        for begin in range(0, len(rows), batch_size):
            batch = batch_tensors(rows[begin : begin + batch_size], pad_id)
            outputs.append(model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0, 0), dtype=np.float32)


def accuracy(logits: np.ndarray, rows: Sequence[Row], classes: int) -> float:
    if not rows:
        return 0.0
    return float(np.mean(np.argmax(logits[:, :classes], axis=1) == np.array([row.label for row in rows])))


def train_assertion(config: AssertionTrainConfig, train_docs: Sequence[Document], dev_docs: Sequence[Document]
                    ) -> dict[str, Any]:
    """Train, keep the epoch with the best dev accuracy, write the checkpoint; returns its record."""
    from transformers import AutoModelForSequenceClassification

    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    classes = classes_of([*train_docs, *dev_docs])
    historical = any(attribute(s.attributes, "historical") is not None for d in train_docs for s in d.spans)
    tokenizer = load_tokenizer(config.base_model)
    tokenizer.add_special_tokens({"additional_special_tokens": list(MARKERS)})
    markers = markers_of(tokenizer)
    rust = backend(tokenizer)
    train_rows = build_rows(rust, markers, train_docs, classes, config.max_length)
    dev_rows = build_rows(rust, markers, dev_docs, classes, config.max_length)
    if not train_rows or not dev_rows:
        raise ValueError("no spans with an assertion attribute in the training or dev corpus")
    rng = random.Random(config.seed)
    spans = len(train_rows)
    train_rows = capped_majority(train_rows, config.majority_share, rng)
    outputs = len(classes) + (2 if historical else 0)
    model = AutoModelForSequenceClassification.from_pretrained(config.base_model, num_labels=outputs,
                                                               ignore_mismatched_sizes=True)
    model.resize_token_embeddings(len(tokenizer))
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    freeze_lower_layers(model, config.freeze_layers)
    set_dropout(model, config.dropout)
    groups = parameter_groups(model, lr=config.learning_rate, head_lr=config.head_learning_rate)
    optimizer = adamw(groups, lr=config.learning_rate, weight_decay=0.01)
    steps = config.epochs * ((len(train_rows) + config.batch_size - 1) // config.batch_size)
    warmup = max(1, int(steps * config.warmup_ratio))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))))
    best = -1.0
    record: dict[str, Any] = {}
    started = time.monotonic()
    config.output_dir.mkdir(parents=True, exist_ok=True)
    for epoch in range(1, config.epochs + 1):
        model.train()
        order = list(train_rows)
        rng.shuffle(order)
        order.sort(key=lambda row: len(row.ids) // 8)  # similar lengths per batch: little padding
        batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        rng.shuffle(batches)
        losses = []
        for rows in batches:
            batch = batch_tensors(rows, pad_id)
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            loss = loss_of(logits, batch, len(classes), historical)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            losses.append(float(loss.detach()))
        dev = accuracy(predict_rows(model, dev_rows, pad_id), dev_rows, len(classes))
        log.info("assertion epoch %d: loss %.4f, dev accuracy %.4f (%.0f s)", epoch, float(np.mean(losses)), dev,
                 time.monotonic() - started)
        if dev > best:
            best = dev
            model.save_pretrained(config.output_dir)
            tokenizer.save_pretrained(config.output_dir)
            record = {"task": "assertion", "classes": classes, "historical": historical,
                      "max_length": config.max_length, "markers": list(MARKERS), "best_epoch": epoch,
                      "dev": {"accuracy": dev, "spans": len(dev_rows)},
                      "config": {key: value for key, value in asdict(config).items() if key != "output_dir"},
                      "corpus": {**config.corpus, "train_documents": len(train_docs), "train_spans": spans,
                                 "train_rows": len(train_rows),
                                 "dev_documents": len(dev_docs)}}
            write_json(config.output_dir / ASSERTION_FILE, json.loads(json.dumps(record, default=str)))
    return record
