"""Model-only ceiling: the server's executor and runtime on length-sorted windows of the notes. No HTTP, no queue.

The notes are encoded into windows by the bundle's encode stage (the server's tokenizer and window
geometry); all windows are sorted by length and cut into batches by the server's token budget
(``app.engine.scheduler.length_sorted_batches``: rows x longest <= max_batch_tokens), in a fixed
shuffled order. Each batch runs as the server runs one: ``Executor.run`` pads the rows
(``pad_rows``), runs the ``Runtime`` (the server's session options: provider, ``intra_op_threads``,
one inter-op thread, all graph optimisations) and slices the centres' logits. The executor is warmed
up as the server warms it, and the timed part is ``Executor.run`` over the batches until every
batch ran or the time is up. With ``"repeat": true`` in the plan (a GPU reads a sample of notes in
well under a second) every batch runs once untimed, then the batches cycle until the time is up.

    .venv/bin/python benchmarks/ceiling.py plan.json result.json
"""

from __future__ import annotations

import itertools
import json
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run(plan: dict[str, Any]) -> dict[str, Any]:
    from app.bundle import bundle_encoder, verify_bundle
    from app.engine.executor import Executor
    from app.engine.extractor import warm_up
    from app.engine.runtime import Runtime
    from app.engine.scheduler import length_sorted_batches
    from app.engine.stages import EncodeStage

    bundle = Path(plan["bundle"])
    manifest = verify_bundle(bundle, {plan["variant"]})
    encode = EncodeStage(bundle_encoder(bundle, manifest))
    documents = encode(plan["texts"])
    windows = [row for document in documents for row in encode.rows(document)]
    budget = plan["max_batch_tokens"]
    batches = [[windows[i] for i in batch]
               for batch in length_sorted_batches([len(w.input_ids) for w in windows], budget)]
    random.Random(0).shuffle(batches)
    runtime = Runtime(bundle, manifest, device=plan.get("device", "cpu"), variant=plan["variant"],
                      intra_op_threads=plan["threads"])
    executor = Executor(runtime.run, manifest.special.pad_id)
    warm_up(executor, manifest.max_length, budget)
    repeat = bool(plan.get("repeat"))
    for batch in batches if repeat else ():  # every batch shape seen once: steady state
        executor.run(batch)
    deadline = time.monotonic() + plan["duration_s"]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before, wall_before = usage.ru_utime + usage.ru_stime, time.perf_counter()
    real = padded = rows = 0
    seconds = 0.0
    done = 0
    for batch in itertools.cycle(batches) if repeat else batches:
        started = time.perf_counter()
        outcome = executor.run(batch)
        seconds += time.perf_counter() - started
        real += outcome.real_tokens
        padded += outcome.padded_tokens
        rows += len(batch)
        done += 1
        if time.monotonic() >= deadline:
            break
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s, wall_s = usage.ru_utime + usage.ru_stime - cpu_before, time.perf_counter() - wall_before
    total_real = sum(len(window.input_ids) for window in windows)
    return {
        "variant": runtime.variant,
        "provider": runtime.provider,
        "notes": len(documents),
        "windows": len(windows),
        "batches_total": len(batches),
        "batches_run": done,
        "windows_run": rows,
        "seconds": seconds,
        "real_tokens": real,
        "padded_tokens": padded,
        "real_tokens_per_s": real / seconds,
        "cpu_cores": cpu_s / wall_s,
        "real_tokens_per_cpu_s": real / cpu_s,
        "padding_overhead": padded / real - 1,
        "model_tokens_per_note": total_real / len(documents),
        "doc_tokens_per_note": sum(document.token_count for document in documents) / len(documents),
    }


def main() -> int:
    plan = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    Path(sys.argv[2]).write_text(json.dumps(run(plan)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
