"""Fine-tuning a token tagger with the CLIN-X recipe: BIOES subwords, context windows, dev selection.

Any Hugging Face encoder directory with a fast tokenizer works as the base model (CLIN-X, XLM-R,
BERT); nothing here knows which one it is.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from app.text.labels import bioes_tags
from app.text.types import Document, Span
from model_export.examples import IGNORE, Example, build_examples, epoch_batches, make_encoder
from model_export.hf import load_base, special_tokens
from model_export.predict import predict_entities
from model_export.scoring import Scores, score

log = logging.getLogger("clinx.train")
TRAINING_FILE = "clinx_training.json"


@dataclass
class TrainConfig:
    base_model: str
    output_dir: Path
    epochs: int = 20
    learning_rate: float = 2e-5
    batch_size: int = 16
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    chunk_subwords: int = 300
    context_subwords: int = 100
    context_dropout: float = 0.5
    seed: int = 42
    device: str = "auto"
    max_steps: int | None = None
    corpus: dict[str, Any] = field(default_factory=dict)

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)


@dataclass(frozen=True)
class TrainResult:
    checkpoint: Path
    tags: list[str]
    best_epoch: int
    dev: dict[str, Any]


def entity_types(documents: Sequence[Document]) -> list[str]:
    return sorted({span.label for document in documents for span in document.spans})


def torch_logits_fn(model: torch.nn.Module, device: torch.device) -> Callable[..., list[npt.NDArray[np.float32]]]:
    def run(ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> list[npt.NDArray[np.float32]]:
        with torch.no_grad():
            output = model(input_ids=torch.from_numpy(ids).to(device), attention_mask=torch.from_numpy(mask).to(device))
        return [output.logits.float().cpu().numpy()]

    return run


def evaluate_model(model: torch.nn.Module, encoder: Any, documents: Sequence[Document], tags: Sequence[str],
                   device: torch.device) -> Scores:
    model.eval()
    predicted = predict_entities(encoder, [d.text for d in documents], torch_logits_fn(model, device), tags)
    gold = {document.id: list(document.spans) for document in documents}
    return score(gold, {
        document.id: [Span(e.start, e.end, e.label) for e in entities]
        for document, entities in zip(documents, predicted)
    })


def collate(batch: Sequence[Example], pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    longest = max(len(example.input_ids) for example in batch)
    ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), longest), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(batch), longest), dtype=torch.long)
    for row, example in enumerate(batch):
        length = len(example.input_ids)
        ids[row, :length] = torch.tensor(example.input_ids)
        labels[row, :length] = torch.tensor(example.labels)
        mask[row, :length] = 1
    return {"input_ids": ids.to(device), "attention_mask": mask.to(device), "labels": labels.to(device)}


def train(config: TrainConfig, train_docs: Sequence[Document], dev_docs: Sequence[Document],
          tags: Sequence[str] | None = None) -> TrainResult:
    """Train, keep the epoch with the best dev strict span F1, save it as a checkpoint directory."""
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    tags = list(tags or bioes_tags(entity_types([*train_docs, *dev_docs])))
    device = config.resolved_device()
    model, tokenizer = load_base(config.base_model, tags)
    model.to(device)
    special = special_tokens(tokenizer)
    encoder = make_encoder(tokenizer.backend_tokenizer, special, config.chunk_subwords, config.context_subwords)
    examples = build_examples(encoder, train_docs, tags)
    rng = random.Random(config.seed)
    steps_per_epoch = math.ceil(len(examples) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    warmup = max(1, int(total_steps * config.warmup_ratio))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    )
    config.output_dir.mkdir(parents=True, exist_ok=True)
    log_path = config.output_dir / "train_log.jsonl"
    best_f1, best_epoch, best_dev = -1.0, 0, {}
    step = 0
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log_file:
        for epoch in range(1, config.epochs + 1):
            model.train()
            losses = []
            for batch in epoch_batches(examples, config.batch_size, config.context_dropout, rng):
                if step >= total_steps:
                    break
                loss = model(**collate(batch, special.pad_id, device)).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                losses.append(float(loss.detach()))
                step += 1
            scores = evaluate_model(model, encoder, dev_docs, tags, device)
            entry = {"epoch": epoch, "step": step, "loss": float(np.mean(losses)) if losses else None,
                     "dev_strict_f1": scores.strict.f1, "dev_lenient_f1": scores.lenient.f1,
                     "elapsed_s": round(time.monotonic() - started, 1)}
            log_file.write(json.dumps(entry) + "\n")
            log_file.flush()
            log.info("epoch %d: %s", epoch, entry)
            if scores.strict.f1 > best_f1:
                best_f1, best_epoch, best_dev = scores.strict.f1, epoch, scores.to_dict()
                save_checkpoint(model, tokenizer, config, tags, best_epoch, best_dev, train_docs, dev_docs)
            if step >= total_steps:
                break
    return TrainResult(config.output_dir, tags, best_epoch, best_dev)


def save_checkpoint(model: Any, tokenizer: Any, config: TrainConfig, tags: Sequence[str], epoch: int,
                    dev: dict[str, Any], train_docs: Sequence[Document], dev_docs: Sequence[Document]) -> None:
    model.save_pretrained(config.output_dir)
    tokenizer.save_pretrained(config.output_dir)
    settings = {key: value for key, value in asdict(config).items() if key != "output_dir"}
    record = {
        "tags": list(tags),
        "chunk_subwords": config.chunk_subwords,
        "context_subwords": config.context_subwords,
        "best_epoch": epoch,
        "dev": dev,
        "config": settings,
        "corpus": {
            **config.corpus,
            "train_documents": len(train_docs),
            "dev_documents": len(dev_docs),
            "train_spans": sum(len(d.spans) for d in train_docs),
        },
    }
    (config.output_dir / TRAINING_FILE).write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
