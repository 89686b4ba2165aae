"""What a demo build's training costs in arithmetic, and how close a CPU step already runs to the core.

For each concept recipe (the 5-minute demo, the thorough build): the padded tokens its epochs feed the
model, the floating-point operations per padded token of a training step (counted by
``torch.utils.flop_counter`` on the recipe's own batches, forward and backward, with its frozen layers),
and so the work of the whole training. Then, on one thread as in ``clinx demo``'s side-by-side build:
the rate a step achieves (timed, no profiler) against the rate this core multiplies matrices of the
step's own shapes (``torch.mm``, best of several). The ratio is what a faster step could still win;
the work ratio of the two recipes is what the 5-minute budget would have to find.

    .venv/bin/python benchmarks/train_compute.py --steps 24
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results" / "train-compute"


def recipe_work(name: str, steps: int) -> dict[str, Any]:
    """Padded tokens, operations per padded token and achieved rate of one recipe's training step."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from app.text.labels import bioes_tags
    from model_export import demo
    from model_export.demo_corpus import pasted_documents, split_demo_corpus
    from model_export.examples import build_examples, epoch_batches, make_encoder
    from model_export.hf import adamw, freeze_lower_layers, load_base, parameter_groups, set_dropout, special_tokens
    from model_export.train import TrainConfig, collate, entity_types

    recipe = {"demo": demo.CONCEPTS, "thorough": demo.THOROUGH}[name]
    torch.manual_seed(0)
    train_notes, dev = split_demo_corpus(demo.demo_corpus(recipe))
    train_docs = pasted_documents(train_notes, recipe.notes_per_document, seed=recipe.seed)
    tags = bioes_tags(entity_types([*train_docs, *dev]))
    model, tokenizer = load_base(str(demo.minilm_path()), tags)
    geometry = TrainConfig(base_model="", output_dir=Path(), pack_sentences=True,
                           paragraph_breaks=recipe.paragraph_breaks).geometry
    pad_id = special_tokens(tokenizer).pad_id
    examples = build_examples(make_encoder(tokenizer.backend_tokenizer, special_tokens(tokenizer), geometry),
                              train_docs, tags)
    batches = epoch_batches(examples, recipe.batch_size, recipe.context_dropout, random.Random(recipe.seed), pool=50)
    epoch_tokens = sum(max(len(example.input_ids) for example in batch) * len(batch) for batch in batches)
    freeze_lower_layers(model, recipe.freeze_layers)
    set_dropout(model, recipe.dropout)
    optimizer = adamw(parameter_groups(model, lr=recipe.learning_rate, head_lr=recipe.head_learning_rate),
                      lr=recipe.learning_rate, weight_decay=0.01)
    model.train()

    def step(batch: list[Any]) -> None:
        model(**collate(batch, pad_id, torch.device("cpu"))).loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()

    sample = batches[3 : 3 + steps]
    for batch in batches[:3]:
        step(batch)
    counter = FlopCounterMode(display=False)
    with counter:
        for batch in sample:
            step(batch)
    sample_tokens = sum(max(len(example.input_ids) for example in batch) * len(batch) for batch in sample)
    started = time.perf_counter()
    for batch in sample:
        step(batch)
    seconds = time.perf_counter() - started
    per_token = counter.get_total_flops() / sample_tokens
    return {"recipe": name, "documents": recipe.documents, "epochs": recipe.epochs,
            "frozen_layers": recipe.freeze_layers, "padded_tokens_per_epoch": epoch_tokens,
            "flops_per_padded_token": per_token, "training_flops": per_token * epoch_tokens * recipe.epochs,
            "achieved_gflops": counter.get_total_flops() / seconds / 1e9,
            "padded_tokens_per_s": sample_tokens / seconds, "batch_tokens": round(epoch_tokens / len(batches)),
            "hidden": model.config.hidden_size, "intermediate": model.config.intermediate_size}


def matmul_gflops(rows: int, hidden: int, intermediate: int, dtype: str = "float32", rounds: int = 20) -> float:
    """This core's rate on the feed-forward product of one training batch (best of ``rounds``).

    bf16 is what a CPU with matrix units (AMX) multiplies fastest; without them it is emulated.
    """
    import torch

    kind = getattr(torch, dtype)
    left, right = torch.randn(rows, hidden, dtype=kind), torch.randn(hidden, intermediate, dtype=kind)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        torch.mm(left, right)
        best = min(best, time.perf_counter() - started)
    return 2 * rows * hidden * intermediate / best / 1e9


def machine_flags() -> list[str]:
    """The CPU's feature flags (Linux), which say whether bf16 products can run on matrix units."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return []
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return line.partition(":")[2].split()


def markdown(report: dict[str, Any]) -> str:
    demo_run, thorough = report["recipes"]
    lines = ["# What the concept demo's training costs, and how close a CPU step runs to the core", "",
             f"Machine: {report['machine']}; {report['threads']} thread (as in `clinx demo`'s side-by-side build).",
             "", "| recipe | notes x epochs | frozen layers | padded tokens / epoch | GFLOP / padded token | "
             "training TFLOP | step GFLOP/s | padded tokens/s |", "|---|---|---|---|---|---|---|---|"]
    for run in report["recipes"]:
        lines.append(f"| {run['recipe']} | {run['documents']} x {run['epochs']} | {run['frozen_layers']} | "
                     f"{run['padded_tokens_per_epoch']:,} | {run['flops_per_padded_token'] / 1e9:.3f} | "
                     f"{run['training_flops'] / 1e12:.1f} | {run['achieved_gflops']:.1f} | "
                     f"{run['padded_tokens_per_s']:.0f} |")
    lines += ["", f"This core multiplies the step's feed-forward matrices ({report['matmul_shape']}) at "
              f"**{report['matmul_gflops']:.1f} GFLOP/s**: the demo's step runs at "
              f"**{demo_run['achieved_gflops'] / report['matmul_gflops']:.0%}** of it, the thorough one's at "
              f"{thorough['achieved_gflops'] / report['matmul_gflops']:.0%}.",
              f"The thorough training is **{thorough['training_flops'] / demo_run['training_flops']:.1f}x** the demo's "
              "work: at this core's matrix rate on every core, with nothing else built, it alone takes "
              f"**{thorough['training_flops'] / (report['matmul_gflops'] * 1e9 * report['cores']):.0f} s** "
              "(the budget: 300 s for both demo bundles).", "",
              f"The same product in bf16 runs at {report['matmul_bf16_gflops']:.1f} GFLOP/s here (CPU flags: "
              f"{', '.join(report['cpu_flags']) or 'none of note'}); on a CPU with AMX it is the rate to measure "
              "a bf16 training step against.", "", "Rerun: `.venv/bin/python benchmarks/train_compute.py`"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=24, help="batches counted and timed per recipe")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    from benchmarks.soak import machine as describe_machine

    torch.set_num_threads(args.threads)
    machine = describe_machine()
    recipes = [recipe_work(name, args.steps) for name in ("demo", "thorough")]
    shape = recipes[0]["batch_tokens"], recipes[0]["hidden"], recipes[0]["intermediate"]  # a mean demo batch
    report = {"machine": f"{machine['cpu_model']}, {machine['usable_cpus']} cores, commit {machine['git_commit']}",
              "threads": args.threads, "cores": machine["usable_cpus"], "recipes": recipes,
              "matmul_shape": "{}x{} by {}x{}".format(*shape[:2], *shape[1:]),
              "matmul_gflops": matmul_gflops(*shape), "matmul_bf16_gflops": matmul_gflops(*shape, "bfloat16", 5),
              "cpu_flags": sorted(set(machine_flags()) & {"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16",
                                                           "amx_int8", "amx_tile"})}
    from benchmarks.results_io import save_results

    print(save_results(RESULTS, report, markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
