"""Loading Hugging Face checkpoints: any encoder with a fast tokenizer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.text.encode import SpecialTokens


class CheckpointError(ValueError):
    """A base model or checkpoint that cannot be used; the message says why."""


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{path}: no usable tokenizer ({first}); a fast tokenizer (tokenizer.json) is needed"
                              ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise CheckpointError(
            f"{path}: the tokenizer is not a fast (Rust) tokenizer; character offsets need one "
            "(add a tokenizer.json, e.g. by saving AutoTokenizer.from_pretrained(path, use_fast=True))"
        )
    return tokenizer


def load_base(path: str, tags: Sequence[str]) -> tuple[Any, Any]:
    """A token-classification model with a fresh head for ``tags`` on top of the base encoder."""
    from transformers import AutoModelForTokenClassification

    tokenizer = load_tokenizer(path)
    model = AutoModelForTokenClassification.from_pretrained(
        path,
        num_labels=len(tags),
        id2label=dict(enumerate(tags)),
        label2id={tag: index for index, tag in enumerate(tags)},
        ignore_mismatched_sizes=True,
    )
    return model, tokenizer


def load_checkpoint(path: str) -> tuple[Any, Any]:
    from transformers import AutoModelForTokenClassification

    return AutoModelForTokenClassification.from_pretrained(path), load_tokenizer(path)


def special_tokens(tokenizer: Any) -> SpecialTokens:
    ids = (tokenizer.cls_token_id, tokenizer.sep_token_id, tokenizer.pad_token_id)
    if any(value is None for value in ids):
        raise CheckpointError("the tokenizer lacks a CLS/BOS, SEP/EOS or PAD token id")
    return SpecialTokens(*ids)


def freeze_lower_layers(model: Any, layers: int) -> None:
    """Freeze the embeddings and the lowest ``layers`` transformer layers (0: train everything).

    Gradients then stop at the first trainable layer, so each step skips the frozen part's backward
    pass and optimiser update: on a CPU, freezing 3 of MiniLM's 6 layers makes a step about 1.8x
    faster. CLIN-X's recipe trains everything; this is for budgets like the demo's.
    """
    if layers <= 0:
        return
    base = model.base_model
    stack = getattr(getattr(base, "encoder", None), "layer", None)
    embeddings = getattr(base, "embeddings", None)
    if stack is None or embeddings is None:
        raise CheckpointError(f"cannot freeze layers of a {type(base).__name__}: no embeddings and encoder.layer "
                              "(the BERT/RoBERTa layout)")
    if layers > len(stack):
        raise CheckpointError(f"cannot freeze {layers} layers: the encoder has {len(stack)}")
    for module in (embeddings, *stack[:layers]):
        for parameter in module.parameters():
            parameter.requires_grad_(False)


def set_dropout(model: Any, probability: float | None) -> int:
    """Every dropout of ``model`` (embeddings, attention, hidden, head) at ``probability``; None keeps the
    checkpoint's. Returns how many were set.

    Attention reads its dropout module's rate at each call, so this holds for any architecture. With
    no attention dropout PyTorch's fused attention kernel replaces the matmul-softmax-matmul path and
    no random masks are drawn: a CPU training step of MiniLM is about 1.4x faster.
    """
    if probability is None:
        return 0
    if not 0.0 <= probability < 1.0:
        raise CheckpointError(f"dropout must be in [0, 1) (got {probability})")
    import torch

    modules = [module for module in model.modules() if isinstance(module, torch.nn.Dropout)]
    for module in modules:
        module.p = probability
    return len(modules)


def adamw(parameters: list[Any], *, lr: float, weight_decay: float) -> Any:
    """AdamW with the fused kernel: the same update in one pass over the parameters instead of a
    loop of small operations per tensor (CPU and CUDA). ``parameters``: tensors or param groups."""
    import torch

    return torch.optim.AdamW(parameters, lr=lr, weight_decay=weight_decay, fused=True)


def parameter_groups(model: Any, *, lr: float, head_lr: float | None) -> list[dict[str, Any]]:
    """The trainable parameters, the task head (everything outside the pre-trained encoder) in its
    own group at ``head_lr`` when given.

    The head starts from random weights while the encoder is already trained: a higher rate for the
    head alone lets a short schedule fit it without pushing the encoder away from its pre-training.
    """
    prefix = f"{model.base_model_prefix}."
    encoder: list[Any] = []
    head: list[Any] = []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (encoder if name.startswith(prefix) else head).append(parameter)
    if head_lr is None or not head:
        return [{"params": encoder + head, "lr": lr}]
    return [{"params": encoder, "lr": lr}, {"params": head, "lr": head_lr}]
