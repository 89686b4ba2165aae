"""One load level against a running server, and what it measured: rates, latencies, padding, CPU.

A level runs ``loadgen.py`` in its own process (so the client does not share the server's
interpreter) and is analysed here; the half-load test and the ceiling's bracket live here too.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.loadgen import parse_metrics, proc_cpu_s
from benchmarks.profiles import Level, Profile

log = logging.getLogger("bench")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def child(script: str, plan: dict[str, Any], work: Path, tag: str, env: dict[str, str] | None = None,
          timeout: float = 3600) -> dict[str, Any]:
    """Run ``benchmarks/<script> plan.json result.json`` in its own process; its result."""
    plan_path, result_path = work / f"{tag}.plan.json", work / f"{tag}.result.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    subprocess.run([sys.executable, str(HERE / script), str(plan_path), str(result_path)], check=True, cwd=ROOT,
                   env={**os.environ, **(env or {})}, timeout=timeout)
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    return result


def wait_idle(url: str, pid: int, timeout: float = 600) -> float:
    """Until the server's queue is empty and its CPU is quiet (abandoned batches finished)."""
    import httpx

    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < timeout:
        before = proc_cpu_s(pid)
        time.sleep(1.0)
        busy = proc_cpu_s(pid) - before
        try:
            queued = parse_metrics(httpx.get(url + "/metrics", timeout=30).text).get("clinx_queue_tokens", 0)
        except httpx.HTTPError:
            queued = 0
        quiet = quiet + 1 if queued == 0 and busy < 0.15 else 0
        if quiet >= 2:
            break
    return time.monotonic() - started


# ---------------------------------------------------------------------------------------------- analysis


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def counter_rate(samples: list[dict[str, Any]], key: str) -> tuple[float | None, float, str]:
    """Rate of a counter over the window; between the first and last change when it moved in steps.

    Counters move when a batch finishes; with batches of many seconds the plain window rate would
    count one batch more or less by chance, so the rate is taken between batch completions.
    """
    points = [(s["t"], s["metrics"].get(key, 0.0)) for s in samples if s.get("metrics") is not None]
    if len(points) < 2:
        return None, 0.0, "no samples"
    changes = [points[0]] + [b for a, b in itertools.pairwise(points) if b[1] != a[1]]
    steps = len(changes) - 1
    total = points[-1][1] - points[0][1]
    span = points[-1][0] - points[0][0]
    if steps >= 2:  # measure between batch completions
        first_change = changes[1]
        return (changes[-1][1] - first_change[1]) / max(changes[-1][0] - first_change[0], 1e-9), total, "steps"
    return total / span, total, "window"


def analyse_level(result: dict[str, Any], work: dict[str, Any], clinx: bool) -> dict[str, Any]:
    t0, t1 = result["window"]
    samples = [s for s in result["samples"] if t0 <= s["t"] <= t1]
    records = result["records"]
    ok = [r for r in records if r["status"] == 200]
    statuses: dict[str, int] = {}
    for r in records:
        statuses[str(r["status"])] = statuses.get(str(r["status"]), 0) + 1
    latencies = [r["end"] - r["start"] for r in ok if r["end"] >= t0]
    in_window = [r for r in ok if t0 <= r["end"] <= t1]
    doc_tokens = work["doc_tokens"]
    done_notes = sum(len(r["notes"]) for r in in_window)
    done_tokens = sum(doc_tokens[i] for r in in_window for i in r["notes"])
    seconds = t1 - t0
    summary = work["summary"]
    level: dict[str, Any] = {
        "window_s": seconds,
        "requests": len(records),
        "statuses": statuses,
        "latency_n": len(latencies),
        "latency_p50_s": percentile(latencies, 0.5),
        "latency_p95_s": percentile(latencies, 0.95),
        "latency_p99_s": percentile(latencies, 0.99),
        "completed_notes_in_window": done_notes,
        "completed_notes_per_s": done_notes / seconds,
        "completed_doc_tokens_per_s": done_tokens / seconds,
        "client_cpu_s": result["client_cpu_s"],
        "client_cpu_cores": result["client_cpu_s"] / max(result["finished"] - result["started"], 1e-9),
        "loadavg": result["loadavg"],
    }
    first, last = samples[0], samples[-1]
    if "cpu_s" in first and "cpu_s" in last:
        level["server_cpu_cores"] = (last["cpu_s"] - first["cpu_s"]) / (last["t"] - first["t"])
        level["server_rss_bytes"] = last.get("VmRSS")
        level["server_peak_rss_bytes"] = last.get("VmHWM")
    edges = [s for s in result["samples"] if s.get("threads")]
    if len(edges) == 2:
        begin, end = edges
        span = end["t"] - begin["t"]
        main_tid = str(result["plan"]["server_pid"])
        busy = {tid: (end["threads"][tid][1] - begin["threads"].get(tid, [None, 0.0])[1]) / span
                for tid in end["threads"]}
        level["main_thread_cpu"] = busy.get(main_tid)
        level["other_threads_cpu"] = sorted((round(v, 3) for k, v in busy.items() if k != main_tid), reverse=True)
    if clinx:
        real_rate, real_total, how = counter_rate(samples, "clinx_real_tokens_total")

        def delta(key: str) -> float:
            return float((last.get("metrics") or {}).get(key, 0.0) - (first.get("metrics") or {}).get(key, 0.0))

        padded_total = delta("clinx_padded_tokens_total")
        batches = delta("clinx_batch_size_count")
        rows = delta("clinx_batch_size_sum")
        infer = delta("clinx_inference_duration_seconds_sum")
        level.update({
            "model_tokens_per_s": real_rate,
            "rate_method": how,
            "model_tokens_in_window": real_total,
            "padding_overhead": padded_total / real_total - 1 if real_total else None,
            "batches": batches,
            "rows_per_batch": rows / batches if batches else None,
            "inference_busy": infer / seconds,
        })
        if real_rate:
            level["notes_per_s"] = real_rate / summary["model_tokens_per_note"]
            level["doc_tokens_per_s"] = real_rate / summary["context_amplification"]
    else:
        level["notes_per_s"] = done_notes / seconds
        level["doc_tokens_per_s"] = done_tokens / seconds
        level["model_tokens_per_s"] = level["doc_tokens_per_s"] * summary["naive_amplification"]
    return level


def run_level(url: str, pid: int, level: Level, work: dict[str, Any], profile: Profile, scratch: Path, tag: str,
              clinx: bool, *, mode: str = "closed", rate: float = 0.0, notes: list[dict[str, str]] | None = None,
              duration: float | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    plan = {"url": url, "notes": notes or work["notes"], "mode": mode, "concurrency": level.concurrency,
            "rate": rate, "docs_per_request": level.docs, "warmup_s": profile.warmup_s,
            "duration_s": duration or profile.duration_s, "drain_s": profile.drain_s, "server_pid": pid,
            "clinx_metrics": clinx}
    log.info("  %s: %s %s for %.0f s", tag, mode, level.name if mode == "closed" else f"{rate:.3f} req/s",
             plan["duration_s"])
    result = child("loadgen.py", plan, scratch, tag, env={"OMP_NUM_THREADS": "1"})
    return analyse_level(result, work, clinx), result


def half_load(url: str, pid: int, work: dict[str, Any], profile: Profile, results: dict[str, Any],
              singles: dict[int, float], scratch: Path, name: str, variant: str) -> dict[str, Any]:
    """Open-loop Poisson arrivals at half the saturated rate, on the notes whose lone latency we know."""
    saturated = max((r.get("notes_per_s") or 0 for key, r in results.items() if "batch" not in key), default=0)
    measured = sorted(singles)
    notes = [work["notes"][i] for i in measured]
    sub = {**work, "notes": notes, "doc_tokens": [work["doc_tokens"][i] for i in measured]}
    rate = saturated / 2
    log.info("%s: %s half load: %.3f notes/s (saturation %.3f)", name, variant, rate, saturated)
    analysed, raw = run_level(url, pid, Level(1), sub, profile, scratch, f"{name}-{variant}-half", True,
                              mode="open", rate=rate, notes=notes, duration=profile.half_load_s)
    ratios, loaded, alone, sizes = [], [], [], []
    for r in raw["records"]:
        if r["status"] == 200:
            note = measured[r["notes"][0]]
            single = singles[note]
            loaded.append(r["end"] - r["start"])
            alone.append(single)
            ratios.append((r["end"] - r["start"]) / single)
            sizes.append(work["doc_tokens"][note])
    return {
        "rate_notes_per_s": rate, "saturation_notes_per_s": saturated, "level": analysed,
        "n": len(ratios), "ratio_p50": percentile(ratios, 0.5), "ratio_p99": percentile(ratios, 0.99),
        "loaded_p99_s": percentile(loaded, 0.99), "alone_p99_same_notes_s": percentile(alone, 0.99),
        "by_size": size_quartiles(sizes, loaded, alone), "single_latencies_known": len(singles),
    }


def bracketed_ceiling(before: dict[str, Any], after: dict[str, Any] | None, summary: dict[str, Any]
                      ) -> dict[str, Any]:
    """The ceiling measured before and after the server's levels: their mean is the reference.

    This virtual machine's speed drifts by several percent within minutes; a ceiling measured once,
    minutes before the server, would compare the two moments as much as the two programs.
    """
    runs = [run for run in (before, after) if run is not None]
    ceiling = dict(before)
    ceiling["before"] = before
    if after is not None:
        ceiling["after"] = after
    for key in ("real_tokens_per_s", "real_tokens_per_cpu_s", "cpu_cores"):
        ceiling[key] = sum(run[key] for run in runs) / len(runs)
    ceiling["notes_per_s"] = ceiling["real_tokens_per_s"] / summary["model_tokens_per_note"]
    ceiling["doc_tokens_per_s"] = ceiling["real_tokens_per_s"] / summary["context_amplification"]
    return ceiling


def size_quartiles(sizes: list[int], loaded: list[float], alone: list[float]) -> list[dict[str, Any]]:
    """Per quartile of note size (subwords): p99 latency under load against p99 latency alone."""
    order = sorted(range(len(sizes)), key=lambda index: sizes[index])
    quartiles = []
    for part in range(4):
        chosen = order[part * len(order) // 4 : (part + 1) * len(order) // 4]
        if not chosen:
            continue
        loaded_p99 = percentile([loaded[i] for i in chosen], 0.99) or 0.0
        alone_p99 = percentile([alone[i] for i in chosen], 0.99) or 0.0
        quartiles.append({"subwords": [sizes[chosen[0]], sizes[chosen[-1]]], "n": len(chosen),
                          "loaded_p99_s": loaded_p99, "alone_p99_s": alone_p99,
                          "ratio": loaded_p99 / alone_p99 if alone_p99 else None})
    return quartiles


