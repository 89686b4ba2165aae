"""Where a CPU training step of the concept demo goes: tokens/s and the top operators, with and without dropout.

The demo recipe's batches (MiniLM, packed windows, lowest layer frozen, 1 thread as in ``clinx
demo``'s side-by-side build): a few warm-up steps, then ``--steps`` profiled with ``torch.profiler``
for each dropout setting in turn (the base model's 0.1, then 0), on the same batches.

    .venv/bin/python benchmarks/train_step_profile.py --steps 27
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def profile_steps(dropout: float | None, steps: int, threads: int) -> tuple[float, str]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    from app.text.labels import bioes_tags
    from app.text.windows import WindowGeometry
    from model_export.demo import CONCEPTS, demo_corpus, minilm_path
    from model_export.demo_corpus import pasted_documents, split_demo_corpus
    from model_export.examples import build_examples, epoch_batches, make_encoder
    from model_export.hf import adamw, freeze_lower_layers, load_base, parameter_groups, set_dropout, special_tokens
    from model_export.train import collate, entity_types

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    recipe = CONCEPTS
    train_notes, dev = split_demo_corpus(demo_corpus(recipe))
    train_docs = pasted_documents(train_notes, recipe.notes_per_document, seed=recipe.seed)
    tags = bioes_tags(entity_types([*train_docs, *dev]))
    model, tokenizer = load_base(str(minilm_path()), tags)
    encoder = make_encoder(tokenizer.backend_tokenizer, special_tokens(tokenizer),
                           WindowGeometry(300, 100, True, recipe.paragraph_breaks))
    examples = build_examples(encoder, train_docs, tags)
    freeze_lower_layers(model, recipe.freeze_layers)
    set_dropout(model, dropout)
    optimizer = adamw(parameter_groups(model, lr=recipe.learning_rate, head_lr=recipe.head_learning_rate),
                      lr=recipe.learning_rate, weight_decay=0.01)
    batches = epoch_batches(examples, recipe.batch_size, 0.0, random.Random(1), pool=50)[: steps + 3]
    model.train()

    def step(batch: list[object]) -> None:
        loss = model(**collate(batch, special_tokens(tokenizer).pad_id, torch.device("cpu"))).loss  # type: ignore[arg-type]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()

    for batch in batches[:3]:
        step(batch)  # type: ignore[arg-type]
    tokens = sum(max(len(example.input_ids) for example in batch) * len(batch) for batch in batches[3:])
    started = time.monotonic()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for batch in batches[3:]:
            step(batch)  # type: ignore[arg-type]
    return tokens / (time.monotonic() - started), profiler.key_averages().table(sort_by="self_cpu_time_total",
                                                                                 row_limit=8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=27)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    for label, dropout in (("the base model's dropout (0.1)", None), ("dropout 0", 0.0)):
        speed, table = profile_steps(dropout, args.steps, args.threads)
        print(f"## {label}: {speed:.0f} padded training tokens/s ({args.threads} thread(s), profiled)\n\n{table}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
