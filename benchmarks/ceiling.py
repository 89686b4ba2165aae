"""Model-only ceiling: ONNX Runtime on pre-built, length-sorted windows of the notes. No HTTP, no queue.

The notes are encoded into windows with the server's own ``DocumentEncoder`` and the bundle's
tokenizer and window geometry; all windows are sorted by length and cut into batches by the same
token budget the server uses (rows x longest <= max_batch_tokens), padded up front. The timed part
is only ``Runtime.run`` (the server's session options: CPU provider, ``intra_op_threads``, one
inter-op thread, all graph optimisations) over the batches in a fixed shuffled order, until every
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


def length_sorted_batches(lengths_and_ids: list[list[int]], budget: int, pad_id: int) -> list[Any]:
    """Batches of windows sorted by length, each within ``rows x longest <= budget``; padded arrays."""
    import numpy as np

    items = sorted(lengths_and_ids, key=len)
    batches = []
    start = 0
    while start < len(items):
        end = start + 1
        while end < len(items) and len(items[end]) * (end - start + 1) <= budget:
            end += 1
        chunk = items[start:end]
        longest = len(chunk[-1])
        ids = np.full((len(chunk), longest), pad_id, dtype=np.int64)
        mask = np.zeros((len(chunk), longest), dtype=np.int64)
        for row, window in enumerate(chunk):
            ids[row, : len(window)] = window
            mask[row, : len(window)] = 1
        batches.append((ids, mask))
        start = end
    return batches


def run(plan: dict[str, Any]) -> dict[str, Any]:
    from app.bundle import verify_bundle
    from app.engine.runtime import Runtime
    from app.text.encode import DocumentEncoder

    bundle = Path(plan["bundle"])
    manifest = verify_bundle(bundle, {plan["variant"]})
    encoder = DocumentEncoder.from_file(bundle / manifest.tokenizer.file, manifest.special, manifest.geometry)
    documents = encoder.encode_many(plan["texts"])
    windows = [encoder.input_ids(document, window) for document in documents for window in document.windows]
    batches = length_sorted_batches(windows, plan["max_batch_tokens"], manifest.special.pad_id)
    random.Random(0).shuffle(batches)
    runtime = Runtime(bundle, manifest, device=plan.get("device", "cpu"), variant=plan["variant"],
                      intra_op_threads=plan["threads"])
    warm = min(batches, key=lambda batch: batch[0].size)
    runtime.run(*warm)
    repeat = bool(plan.get("repeat"))
    for ids, mask in batches if repeat else ():  # every shape seen once: steady state
        runtime.run(ids, mask)
    deadline = time.monotonic() + plan["duration_s"]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before, wall_before = usage.ru_utime + usage.ru_stime, time.perf_counter()
    real = padded = rows = 0
    seconds = 0.0
    done = 0
    for ids, mask in itertools.cycle(batches) if repeat else batches:
        started = time.perf_counter()
        runtime.run(ids, mask)
        seconds += time.perf_counter() - started
        real += int(mask.sum())
        padded += int(mask.size)
        rows += ids.shape[0]
        done += 1
        if time.monotonic() >= deadline:
            break
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s, wall_s = usage.ru_utime + usage.ru_stime - cpu_before, time.perf_counter() - wall_before
    total_real = sum(len(window) for window in windows)
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
