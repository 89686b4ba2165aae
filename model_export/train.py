"""Fine-tuning a token tagger with the CLIN-X recipe: BIOES subwords, context windows, dev selection.

Any Hugging Face encoder directory with a fast tokenizer works as the base model (CLIN-X, XLM-R,
BERT); nothing here knows which one it is. The recipe: AdamW, linear schedule with warm-up, loss on
centre tokens only, context dropped from half the windows, and the epoch with the best dev strict
span F1 kept. Every epoch also saves resumable state to ``OUTPUT/last/``.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from app.text.decode import WORD_VITERBI, DecodeRule
from app.text.labels import bioes_tags
from app.text.types import Document
from app.text.windows import WindowGeometry
from model_export.checkpoints import (
    LAST_DIR,
    TRAINING_FILE,
    check_resumable,
    load_state,
    restore_rng_states,
    rng_states,
    save_state,
    write_json,
)
from model_export.evaluate import score_documents, torch_logits_fn
from model_export.examples import IGNORE, Example, build_examples, epoch_batches, make_encoder
from model_export.hf import (
    CheckpointError,
    adamw,
    freeze_lower_layers,
    load_base,
    load_checkpoint,
    parameter_groups,
    set_dropout,
    special_tokens,
)
from model_export.progress import Progress
from model_export.scoring import Scores

log = logging.getLogger("clinx.train")
LOG_FILE = "train_log.jsonl"
# Settings that fix the data and the schedule: a resumed run must share them with the saved one.
RESUME_KEYS = ("base_model", "epochs", "learning_rate", "batch_size", "warmup_ratio", "weight_decay",
               "chunk_subwords", "context_subwords", "pack_sentences", "paragraph_breaks", "context_dropout", "decode",
               "seed", "max_steps", "length_pool", "freeze_layers", "head_learning_rate", "dropout")


@dataclass
class TrainConfig:
    """One training run; defaults are CLIN-X's (XLM-R-large: lr 2e-5; smaller encoders want more)."""

    base_model: str
    output_dir: Path
    epochs: int = 20
    learning_rate: float = 2e-5
    batch_size: int = 16
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    chunk_subwords: int = 300
    context_subwords: int = 100
    pack_sentences: bool = False  # CLIN-X: one sentence per window; True packs sentences (see app.text.windows)
    paragraph_breaks: str = "none"  # "centres"/"windows": blank lines bound packed centres / whole windows
    context_dropout: float = 0.5
    decode: DecodeRule = WORD_VITERBI  # how dev selection (and later the bundle) turns tags into spans
    seed: int = 42
    device: str = "auto"
    max_steps: int | None = None
    freeze_layers: int = 0  # embeddings and this many lowest layers stay as pre-trained (CLIN-X: 0)
    head_learning_rate: float | None = None  # the fresh tagging head's peak rate (None: learning_rate, as CLIN-X)
    dropout: float | None = None  # every dropout of the model at this rate (None: the base model's, as CLIN-X)
    length_pool: int = 50  # batches are cut from runs of this many batches sorted by length (see epoch_batches)
    resume: bool = False
    progress: bool = False
    corpus: dict[str, Any] = field(default_factory=dict)

    @property
    def geometry(self) -> WindowGeometry:
        return WindowGeometry(self.chunk_subwords, self.context_subwords, self.pack_sentences, self.paragraph_breaks)

    def resolved_device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def settings(self) -> dict[str, Any]:
        """The configuration as JSON values, for the checkpoint record."""
        return {key: value for key, value in asdict(self).items() if key not in ("output_dir", "resume", "progress")}


@dataclass(frozen=True)
class TrainResult:
    checkpoint: Path
    tags: list[str]
    best_epoch: int
    dev: dict[str, Any]


@dataclass
class Progression:
    """Where a run stands after an epoch; saved in ``last/state.json`` to resume from."""

    epoch: int = 0
    step: int = 0
    best_f1: float = -1.0
    best_epoch: int = 0
    best_dev: dict[str, Any] = field(default_factory=dict)
    completed: bool = False


def entity_types(documents: Sequence[Document]) -> list[str]:
    return sorted({span.label for document in documents for span in document.spans})


def evaluate_model(model: torch.nn.Module, encoder: Any, documents: Sequence[Document], tags: Sequence[str],
                   device: torch.device, rule: DecodeRule) -> Scores:
    """Dev scores for model selection: the same decode path and scorer as ``clinx evaluate``."""
    model.eval()
    return score_documents(encoder, documents, torch_logits_fn(model, device), tags, rule)[0]


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


def linear_warmup(optimizer: torch.optim.Optimizer, total_steps: int, warmup_ratio: float
                  ) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up to the peak rate over ``warmup_ratio`` of the steps, then linear decay to 0."""
    warmup = max(1, int(total_steps * warmup_ratio))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total_steps - step) / max(1, total_steps - warmup)))
    )


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(config: TrainConfig, train_docs: Sequence[Document], dev_docs: Sequence[Document],
          tags: Sequence[str] | None = None) -> TrainResult:
    """Train, keep the epoch with the best dev strict span F1, save it as a checkpoint directory.

    With ``config.resume`` a run continues after the last epoch saved in ``OUTPUT/last/`` (a run
    that had finished returns at once); without saved state it starts from the beginning.
    """
    if not dev_docs:
        raise ValueError("model selection needs at least one dev document")
    seed_everything(config.seed)
    tags = list(tags or bioes_tags(entity_types([*train_docs, *dev_docs])))
    last = config.output_dir / LAST_DIR
    saved = load_state(last) if config.resume else None
    current = {**{key: config.settings()[key] for key in RESUME_KEYS}, "tags": tags,
               "train_documents": len(train_docs), "dev_documents": len(dev_docs)}
    progression = Progression()
    if saved is not None:
        # runs saved before sentence packing, paragraph breaks and the decoding rule existed used one
        # sentence per window, ignored blank lines and decoded subwords
        check_resumable({"pack_sentences": False, "paragraph_breaks": "none", "decode": "subword", "freeze_layers": 0,
                         "head_learning_rate": None, "dropout": None,
                         **saved[0]["settings"]}, current)
        progression = Progression(**saved[0]["progression"])
        if progression.completed:
            log.info("%s: training had finished; nothing to resume", config.output_dir)
            return TrainResult(config.output_dir, tags, progression.best_epoch, progression.best_dev)
        log.info("resuming after epoch %d (step %d)", progression.epoch, progression.step)
    device = config.resolved_device()
    model, tokenizer = load_checkpoint(str(last)) if saved is not None else load_base(config.base_model, tags)
    if [model.config.id2label[i] for i in range(model.config.num_labels)] != tags:
        raise CheckpointError(f"{last}: the saved model's labels differ from this run's tags")
    model.to(device)
    special = special_tokens(tokenizer)
    encoder = make_encoder(tokenizer.backend_tokenizer, special, config.geometry)
    examples = build_examples(encoder, train_docs, tags)
    batch_rng = random.Random(config.seed)
    total_steps = math.ceil(len(examples) / config.batch_size) * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    freeze_lower_layers(model, config.freeze_layers)
    set_dropout(model, config.dropout)
    groups = parameter_groups(model, lr=config.learning_rate, head_lr=config.head_learning_rate)
    optimizer = adamw(groups, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = linear_warmup(optimizer, total_steps, config.warmup_ratio)
    if saved is not None:
        _restore(saved, optimizer, scheduler, batch_rng)
    config.output_dir.mkdir(parents=True, exist_ok=True)
    log_path = config.output_dir / LOG_FILE
    _trim_log(log_path, progression.epoch)
    started = time.monotonic()
    with log_path.open("a", encoding="utf-8") as log_file:
        for epoch in range(progression.epoch + 1, config.epochs + 1):
            epoch_started = time.monotonic()
            model.train()
            losses = []
            batches = epoch_batches(examples, config.batch_size, config.context_dropout, batch_rng,
                                    pool=config.length_pool)
            batches = batches[: max(0, total_steps - progression.step)]  # max_steps may end an epoch early
            bar = Progress(batches, total=len(batches), description=f"epoch {epoch}/{config.epochs}",
                           enabled=config.progress)
            for batch in bar:
                losses.append(_step(model, collate(batch, special.pad_id, device), optimizer, scheduler))
                progression.step += 1
                bar.note(loss=float(np.mean(losses[-50:])))
            scores = evaluate_model(model, encoder, dev_docs, tags, device, config.decode)
            entry = {"epoch": epoch, "step": progression.step, "loss": float(np.mean(losses)) if losses else None,
                     "learning_rate": scheduler.get_last_lr()[0],
                     "dev_strict_precision": scores.strict.precision, "dev_strict_recall": scores.strict.recall,
                     "dev_strict_f1": scores.strict.f1, "dev_lenient_f1": scores.lenient.f1,
                     "epoch_s": round(time.monotonic() - epoch_started, 1),
                     "elapsed_s": round(time.monotonic() - started, 1)}
            log_file.write(json.dumps(entry) + "\n")
            log_file.flush()
            log.info("epoch %d: %s", epoch, entry)
            progression.epoch = epoch
            if scores.strict.f1 > progression.best_f1:
                progression.best_f1, progression.best_epoch = scores.strict.f1, epoch
                progression.best_dev = scores.to_dict()
                save_checkpoint(model, tokenizer, config, tags, progression, train_docs, dev_docs)
            progression.completed = epoch == config.epochs or progression.step >= total_steps
            save_state(last, model, tokenizer, _tensor_state(optimizer, scheduler, device),
                       {"settings": current, "progression": asdict(progression), "rng": rng_states(batch_rng)})
            if progression.completed:
                break
    return TrainResult(config.output_dir, tags, progression.best_epoch, progression.best_dev)


def _step(model: torch.nn.Module, batch: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer,
          scheduler: torch.optim.lr_scheduler.LambdaLR) -> float:
    """One optimisation step (gradients clipped at 1.0, as CLIN-X does); returns the batch loss."""
    loss = model(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad()
    return float(loss.detach())


def _tensor_state(optimizer: torch.optim.Optimizer, scheduler: torch.optim.lr_scheduler.LambdaLR,
                  device: torch.device) -> dict[str, Any]:
    state = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
             "torch_rng": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    return state


def _restore(saved: tuple[dict[str, Any], dict[str, Any]], optimizer: torch.optim.Optimizer,
             scheduler: torch.optim.lr_scheduler.LambdaLR, batch_rng: random.Random) -> None:
    """Optimizer, schedule and every random state as they were after the saved epoch."""
    state, tensors = saved
    optimizer.load_state_dict(tensors["optimizer"])
    scheduler.load_state_dict(tensors["scheduler"])
    torch.set_rng_state(tensors["torch_rng"])
    if "cuda_rng" in tensors and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(tensors["cuda_rng"])
    restore_rng_states(state["rng"], batch_rng)


def _trim_log(path: Path, last_epoch: int) -> None:
    """Keep the log lines of epochs up to ``last_epoch``: a resumed run rewrites the rest."""
    kept = []
    if last_epoch > 0 and path.is_file():
        kept = [line for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line).get("epoch", 0) <= last_epoch]
    path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


def save_checkpoint(model: Any, tokenizer: Any, config: TrainConfig, tags: Sequence[str], progression: Progression,
                    train_docs: Sequence[Document], dev_docs: Sequence[Document]) -> None:
    """The selected model as an ordinary HF directory plus the record export reads (counts, never text)."""
    model.save_pretrained(config.output_dir)
    tokenizer.save_pretrained(config.output_dir)
    record = {
        "tags": list(tags),
        **config.geometry.as_record(),
        "decode": config.decode,
        "best_epoch": progression.best_epoch,
        "dev": progression.best_dev,
        "config": config.settings(),
        "corpus": {
            **config.corpus,
            "train_documents": len(train_docs),
            "dev_documents": len(dev_docs),
            "train_spans": sum(len(d.spans) for d in train_docs),
        },
    }
    write_json(config.output_dir / TRAINING_FILE, record)


__all__ = ["TRAINING_FILE", "TrainConfig", "TrainResult", "torch_logits_fn", "train"]
