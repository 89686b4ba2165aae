"""How the batch token budget trades CPU throughput against the wait a batch imposes on new work.

On a GPU large batches are what keep the device busy; on a CPU one packed window is already a large
matrix product, so a big batch mostly makes a newly arrived short note wait for it (and, as measured
here, is not even faster). The server's CPU default (512 tokens: one window) comes from this. This runs the
model-only ceiling (``benchmarks/ceiling.py``: ONNX Runtime, length-sorted windows of the MTSamples
notes, no HTTP) at several budgets and records tokens/s and the time one full batch takes.

    .venv/bin/python benchmarks/batch_budget.py [--models demo,xlmr-base] [--variant int8]

Writes ``benchmarks/results/batch-budget.md`` and ``.json`` with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bundles  # noqa: E402
from benchmarks.ceiling import run as run_ceiling  # noqa: E402

BUDGETS = (512, 1024, 2048, 4096, 8192)


def measure(model: str, variant: str, threads: int, seconds: float) -> list[dict[str, Any]]:
    paths = bundles.paths(model)
    texts = [note["text"] for note in bundles.read_notes()]
    rows = []
    for budget in BUDGETS:
        result = run_ceiling({"bundle": str(paths.bundle), "variant": variant, "texts": texts,
                              "max_batch_tokens": budget, "threads": threads, "duration_s": seconds})
        per_batch = result["seconds"] / max(1, result["batches_run"])
        rows.append({"model": model, "variant": variant, "budget": budget,
                     "tokens_per_s": result["real_tokens_per_s"], "batch_s": per_batch,
                     "rows_per_batch": result["windows_run"] / max(1, result["batches_run"]),
                     "padding": result["padding_overhead"], "cpu_cores": result["cpu_cores"]})
        print(f"{model} {variant} budget {budget}: {result['real_tokens_per_s']:.0f} tok/s, "
              f"{per_batch * 1000:.0f} ms per batch", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default="demo,xlmr-base")
    parser.add_argument("--variant", default="int8")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=12.0, help="per budget")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "batch-budget")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load = os.getloadavg()
    rows = [row for model in args.models.split(",") for row in measure(model, args.variant, args.threads,
                                                                        args.seconds)]
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    machine = {"cpu": cpu, "cores": len(os.sched_getaffinity(0)), "threads": args.threads,
               "platform": platform.platform(), "load_average_at_start": load, "date": started}
    args.output.with_suffix(".json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    lines = ["# Batch token budget on the CPU: throughput against the time one batch takes", "",
             f"`benchmarks/batch_budget.py`, {started}; {cpu}, {machine['cores']} cores, {args.threads} ONNX "
             f"Runtime threads; load average at the start {', '.join(f'{x:.2f}' for x in load)}.", "",
             "| model | variant | budget (rows x longest) | windows per batch | tokens/s | one batch |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['model']} | {row['variant']} | {row['budget']} | {row['rows_per_batch']:.1f} | "
                     f"{row['tokens_per_s']:,.0f} | {row['batch_s'] * 1000:.0f} ms |")
    args.output.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
