"""clinx-serve against what users would run instead, and against the machine's limit (issue 8, issue 5).

One command, same machine, same threads, side by side per model:

1. naive baseline: FastAPI + transformers ``pipeline("token-classification", aggregation_strategy=
   "simple", stride=100)``, PyTorch fp32, one request at a time (``benchmarks/naive_server.py``);
2. model-only ceiling: ONNX Runtime on pre-built length-sorted windows of the same notes, batched by the
   server's token budget, per variant (``benchmarks/ceiling.py``);
3. clinx-serve over HTTP on 127.0.0.1 at 1, 8, 32 and 64 concurrent clients, single notes and batches of
   8, per variant (``clinx serve`` subprocess; load from ``benchmarks/loadgen.py`` in its own process);
4. the machine's limit: measured GEMM rate / the model's FLOPs per token (``benchmarks/machine.py``).

Workload: the MTSamples notes (``../shared/data/mtsamples/notes.jsonl``) in a fixed shuffled order.
Models (``benchmarks/bundles.py``, built once into ``runs/bench-bundles/``): ``demo``, ``xlmr-base``,
``clinx-large``. Results: ``benchmarks/results/{report.md,results.json,*.png}``; results.json keeps
other models' last results, so models can be measured one at a time.

    .venv/bin/python benchmarks/run.py --models demo,xlmr-base,clinx-large --quick   # smoke run, minutes
    .venv/bin/python benchmarks/run.py --models demo,xlmr-base,clinx-large           # the measurement
    .venv/bin/python benchmarks/run.py --report-only                                  # redraw report
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import json
import logging
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bundles  # noqa: E402
from benchmarks.loadgen import loadavg, parse_metrics, proc_cpu_s, proc_memory  # noqa: E402

log = logging.getLogger("bench")
PY = sys.executable
STRIDE = 100  # the naive pipeline's overlap, like clinx's 100 subwords of context
# The server's default budgets (app.state.batch_budget); the ceiling batches by the same.
MAX_BATCH_TOKENS = {"cpu": 512, "cuda": 8192}
SERVER_ENV = {
    "CLINX_MAX_QUEUE_TOKENS": "16000000",  # 64 clients x 8 long notes stay admitted: we measure, not shed
    "CLINX_REQUEST_TIMEOUT_S": "1800",
    "CLINX_MAX_REQUEST_TIMEOUT_S": "1800",
    "CLINX_LOG_LEVEL": "warning",
}


@dataclasses.dataclass(frozen=True)
class Level:
    concurrency: int
    docs: int = 1  # notes per request

    @property
    def name(self) -> str:
        return f"c{self.concurrency}" + ("" if self.docs == 1 else f"-batch{self.docs}")


@dataclasses.dataclass(frozen=True)
class Profile:
    """How much of each measurement a model gets (the CLIN-X shape is slow on 2 cores: bounded)."""

    notes: int
    levels: dict[str, tuple[Level, ...]]  # per variant
    duration_s: float
    warmup_s: float
    drain_s: float
    ceiling_s: float
    baseline_levels: tuple[Level, ...]
    baseline_s: float
    half_load_variants: tuple[str, ...]
    half_load_s: float


FULL = (Level(1), Level(8), Level(32), Level(64), Level(8, 8))
QUICK_LEVELS = (Level(1), Level(8), Level(32), Level(64), Level(8, 8))
PROFILES = {
    "cpu": {
        "demo": Profile(317, {"fp32": FULL, "int8": FULL}, 30, 4, 15, 30, (Level(1), Level(1, 8)), 40, ("int8",), 60),
        # half load: ~500 requests per model, so each note-size quartile's p99 rests on ~125 latencies
        "xlmr-base": Profile(317, {"fp32": FULL, "int8": FULL}, 30, 5, 10, 40, (Level(1),), 60, ("int8",), 240),
        "clinx-large": Profile(24, {"int8": (Level(1), Level(8), Level(32)), "fp32": (Level(1), Level(8))},
                               60, 5, 5, 60, (Level(1),), 75, (), 0),
    },
    "cuda": {  # a GPU reads the CLIN-X shape in milliseconds: every model gets the full plan
        name: Profile(317, {"fp32": FULL, "fp16": FULL}, 40, 5, 20, 40, (Level(1), Level(1, 8)), 60, ("fp16",), 90)
        for name in ("demo", "xlmr-base", "clinx-large")
    },
}
QUICK = {
    "cpu": {
        "demo": Profile(16, {"fp32": QUICK_LEVELS, "int8": QUICK_LEVELS}, 6, 2, 3, 5, (Level(1),), 8, ("int8",), 8),
        "xlmr-base": Profile(8, {"fp32": (Level(1), Level(8)), "int8": (Level(1), Level(8))}, 8, 2, 2, 8,
                             (Level(1),), 10, (), 0),
        "clinx-large": Profile(4, {"int8": (Level(1), Level(8))}, 10, 2, 2, 10, (Level(1),), 15, (), 0),
    },
    "cuda": {
        name: Profile(16, {"fp32": QUICK_LEVELS, "fp16": QUICK_LEVELS}, 6, 2, 3, 5, (Level(1),), 8, ("fp16",), 8)
        for name in ("demo", "xlmr-base", "clinx-large")
    },
}
REDUCED = {"cpu": "int8", "cuda": "fp16"}  # the variant clinx-serve picks by default on each device


# ---------------------------------------------------------------------------------------------- workload


def workload(name: str, bundle: Path, checkpoint: Path, count: int, quick: bool) -> dict[str, Any]:
    """The notes a model is measured on and what they cost: subwords, windows, model tokens."""
    from transformers import AutoTokenizer

    from app.bundle import verify_bundle
    from app.text.encode import DocumentEncoder

    notes = bundles.read_notes()
    random.Random(8).shuffle(notes)
    notes = notes[:count]
    if quick:  # a smoke run wants answers in seconds: the shortest of a larger sample
        notes = sorted(bundles.read_notes(), key=lambda note: len(note["text"]))[20:20 + count]
    manifest = verify_bundle(bundle)
    encoder = DocumentEncoder.from_file(bundle / manifest.tokenizer.file, manifest.special, manifest.geometry)
    documents = encoder.encode_many([note["text"] for note in notes])
    windows = [len(encoder.input_ids(d, w)) for d in documents for w in d.windows]
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    naive_lengths = []
    for note in notes:
        encoded = tokenizer(note["text"], truncation=True, max_length=512, stride=STRIDE,
                            return_overflowing_tokens=True)
        naive_lengths += [len(ids) for ids in encoded["input_ids"]]
    doc_tokens = [d.token_count for d in documents]
    return {
        "model": name,
        "notes": notes,
        "doc_tokens": doc_tokens,
        "note_model_tokens": [sum(len(encoder.input_ids(d, w)) for w in d.windows) for d in documents],
        "summary": {
            "notes": len(notes),
            "characters_mean": sum(len(n["text"]) for n in notes) / len(notes),
            "words": sum(len(n["text"].split()) for n in notes),
            "doc_tokens": sum(doc_tokens),
            "doc_tokens_per_note": sum(doc_tokens) / len(notes),
            "windows": len(windows),
            "model_tokens": sum(windows),
            "model_tokens_per_note": sum(windows) / len(notes),
            "context_amplification": sum(windows) / max(1, sum(doc_tokens)),
            "window_length_mean": sum(windows) / len(windows),
            "window_length_token_weighted": sum(n * n for n in windows) / sum(windows),
            "naive_windows": len(naive_lengths),
            "naive_model_tokens": sum(naive_lengths),
            "naive_amplification": sum(naive_lengths) / max(1, sum(doc_tokens)),
            "naive_window_length_token_weighted": sum(n * n for n in naive_lengths) / sum(naive_lengths),
        },
    }


def machine_limits(machine: dict[str, Any], flops: dict[str, float]) -> dict[str, float]:
    """Model tokens/s the measured matrix rates allow, per variant."""
    limits = {"fp32": machine["fp32_gflops"] * 1e9 / flops["total"]}
    if "ort_int8_gops" in machine:  # CPU: linear layers at the int8 rate, attention stays fp32
        limits["int8"] = 1 / (flops["linear"] / (machine["ort_int8_gops"] * 1e9)
                              + flops["attention"] / (machine["fp32_gflops"] * 1e9))
    if "fp16_gflops" in machine:  # GPU: the fp16 tensor-core rate for the whole graph
        limits["fp16"] = machine["fp16_gflops"] * 1e9 / flops["total"]
    return limits


def best_machine(stored: dict[str, Any], machine: dict[str, Any] | None) -> dict[str, Any]:
    """The highest rates measured on this machine over all runs: other jobs only ever lower them."""
    best = dict(stored.get("machine_best") or machine or {})
    for key, value in (machine or {}).items():
        if key.endswith(("_gflops", "_gops")) and value > best.get(key, 0):
            best[key] = value
    stored["machine_best"] = best
    for record in stored.get("models", {}).values():
        if best.get("fp32_gflops"):
            record["machine_limit_model_tokens_per_s"] = machine_limits(
                best, record["flops_per_token"]["clinx_windows"])
    return best


def flops_per_token(checkpoint: Path, attended: float) -> dict[str, float]:
    """Multiply-adds x 2 per token: the linear layers (2 x their weights) plus attention (QK^T and AV)."""
    config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    d, layers, ff = config["hidden_size"], config["num_hidden_layers"], config["intermediate_size"]
    labels = len(config.get("id2label", {})) or 13
    linear = 2.0 * (layers * (4 * d * d + 2 * d * ff) + d * labels)
    attention = 2.0 * layers * 2 * attended * d
    return {"linear": linear, "attention": attention, "total": linear + attention,
            "encoder_parameters": layers * (4 * d * d + 2 * d * ff)}


# ---------------------------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 900) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log_path.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/health/ready", timeout=5).status_code == 200:
                return
        time.sleep(0.5)
    raise TimeoutError(f"server not ready after {timeout} s: {log_path.read_text()[-3000:]}")


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], port: int, log_path: Path) -> Iterator[tuple[str, int]]:
    with log_path.open("wb") as handle:
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, log_path)
            yield url, process.pid
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def clinx_server(bundle: Path, variant: str, threads: int, device: str, log_path: Path) -> Any:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLINX_")}
    env.update(SERVER_ENV)
    env.update({"CLINX_BUNDLE": str(bundle), "CLINX_PORT": str(port), "CLINX_HOST": "127.0.0.1",
                "CLINX_VARIANT": variant, "CLINX_INTRA_OP_THREADS": str(threads), "CLINX_DEVICE": device})
    return server([PY, "-m", "clinx_cli", "serve"], env, port, log_path)


def naive_server(checkpoint: Path, threads: int, device: str, log_path: Path) -> Any:
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "TOKENIZERS_PARALLELISM": "false"}
    command = [PY, str(HERE / "naive_server.py"), str(checkpoint), "--port", str(port), "--threads", str(threads),
               "--stride", str(STRIDE), "--device", device]
    return server(command, env, port, log_path)


def child(script: str, plan: dict[str, Any], work: Path, tag: str, env: dict[str, str] | None = None,
          timeout: float = 3600) -> dict[str, Any]:
    plan_path, result_path = work / f"{tag}.plan.json", work / f"{tag}.result.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    subprocess.run([PY, str(HERE / script), str(plan_path), str(result_path)], check=True, cwd=ROOT,
                   env={**os.environ, **(env or {})}, timeout=timeout)
    result: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    return result


def start_py_spy(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Sample the server's Python stacks (all threads, idle ones too) while a level runs."""
    command = [str(Path(PY).with_name("py-spy")), "record", "--pid", str(pid), "--duration", str(int(seconds)),
               "--rate", "50", "--format", "raw", "--threads", "--idle", "--nonblocking", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The event loop thread's leaf frame while it waits: in selectors (asyncio) or inside uvloop's native loop.
EVENT_LOOP_IDLE = ("select (selectors.py", "Runner.run (asyncio/runners.py", "run_until_complete (asyncio/")


def summarise_py_spy(path: Path, top: int = 12) -> dict[str, Any]:
    """Share of samples per thread and, for the event loop thread, its busiest leaf frames."""
    if not path.is_file():
        return {}
    threads: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[1] if len(frames) > 1 and frames[1].startswith("thread") else frames[0]
        threads[thread] = threads.get(thread, 0) + count
        total += count
        if "MainThread" in thread and not any(idle in frames[-1] for idle in EVENT_LOOP_IDLE):
            leaf = frames[-1]
            leaves[leaf] = leaves.get(leaf, 0) + count
    main_total = sum(c for t, c in threads.items() if "MainThread" in t)
    return {
        "samples": total,
        "threads": dict(sorted(threads.items(), key=lambda item: -item[1])),
        "main_thread_busy_share": sum(leaves.values()) / main_total if main_total else None,
        "main_thread_top_leaves": sorted(leaves.items(), key=lambda item: -item[1])[:top],
    }


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


# ---------------------------------------------------------------------------------------------- measurement


def measure_model(name: str, args: argparse.Namespace, machine: dict[str, Any], scratch: Path) -> dict[str, Any]:
    profile = (QUICK if args.quick else PROFILES)[args.device][name]
    model = bundles.ensure(name, args.cache, fp16=args.device == "cuda")
    work = workload(name, model.bundle, model.checkpoint, profile.notes, args.quick)
    summary = work["summary"]
    log.info("%s: %d notes, %d subwords, %d windows, %d model tokens (x%.1f context), load %s", name,
             summary["notes"], summary["doc_tokens"], summary["windows"], summary["model_tokens"],
             summary["context_amplification"], loadavg())
    clinx_flops = flops_per_token(model.checkpoint, summary["window_length_token_weighted"])
    naive_flops = flops_per_token(model.checkpoint, summary["naive_window_length_token_weighted"])
    limits = machine_limits(machine, clinx_flops)
    record: dict[str, Any] = {
        "model": name, "description": model.description, "quick": args.quick, "threads": args.threads,
        "device": args.device, "reduced_variant": REDUCED[args.device],
        "profile": dataclasses.asdict(profile), "workload": summary, "started_loadavg": loadavg(),
        "flops_per_token": {"clinx_windows": clinx_flops, "naive_windows": naive_flops},
        "machine_limit_model_tokens_per_s": limits,
        "bundle_files": _bundle_files(model.bundle), "ceiling": {}, "clinx": {}, "baseline": {}, "half_load": {},
        "server_memory": {},
    }
    texts = [note["text"] for note in work["notes"]]

    def ceiling_run(variant: str, when: str) -> dict[str, Any]:
        log.info("%s: model-only ceiling, %s (%s)", name, variant, when)
        ceiling = child("ceiling.py", {"bundle": str(model.bundle), "variant": variant, "texts": texts,
                                       "max_batch_tokens": MAX_BATCH_TOKENS[args.device], "threads": args.threads,
                                       "device": args.device, "duration_s": profile.ceiling_s},
                        scratch, f"{name}-ceiling-{variant}-{when}")
        ceiling["loadavg"] = loadavg()
        log.info("  %.0f model tokens/s", ceiling["real_tokens_per_s"])
        return ceiling

    for variant in profile.levels if "ceiling" in args.parts else ():
        record["ceiling"][variant] = bracketed_ceiling(ceiling_run(variant, "before"), None, summary)
    for variant, levels in profile.levels.items() if "clinx" in args.parts else ():
        log.info("%s: clinx-serve, %s", name, variant)
        log_path = scratch / f"{name}-server-{variant}.log"
        with clinx_server(model.bundle, variant, args.threads, args.device, log_path) as (url, pid):
            memory = {"ready_rss_bytes": proc_memory(pid)["VmRSS"]}
            results: dict[str, Any] = {}
            singles: dict[int, float] = {}
            for level in levels:
                spy = None
                if args.py_spy and level == Level(32):
                    spy = start_py_spy(pid, profile.warmup_s + profile.duration_s,
                                       args.output / f"pyspy-{name}-{variant}-c32.txt")
                analysed, raw = run_level(url, pid, level, work, profile, scratch, f"{name}-{variant}-{level.name}",
                                          True)
                if spy is not None:
                    spy.wait(timeout=120)
                    analysed["py_spy"] = summarise_py_spy(args.output / f"pyspy-{name}-{variant}-c32.txt")
                results[level.name] = analysed
                analysed["idle_wait_s"] = wait_idle(url, pid)
                log.info("    %.0f model tok/s, %.3f notes/s, p50 %s s, padding %s, load %s",
                         analysed.get("model_tokens_per_s") or 0, analysed.get("notes_per_s") or 0,
                         _round(analysed["latency_p50_s"]), _round(analysed.get("padding_overhead")),
                         analysed["loadavg"][0])
                if level == Level(1):
                    singles = {r["notes"][0]: r["end"] - r["start"] for r in raw["records"] if r["status"] == 200}
            if variant in profile.half_load_variants and singles:
                record["half_load"][variant] = half_load(url, pid, work, profile, results, singles, scratch, name,
                                                         variant)
                wait_idle(url, pid)
            memory["peak_rss_bytes"] = proc_memory(pid)["VmHWM"]
        record["clinx"][variant] = results
        record["server_memory"][variant] = memory
        if "ceiling" in args.parts:  # again, so that the machine's drift meanwhile is averaged out
            before = record["ceiling"][variant]["before"]
            record["ceiling"][variant] = bracketed_ceiling(before, ceiling_run(variant, "after"), summary)
    if "baseline" in args.parts:
        naive_baseline(name, args, model, work, profile, record, scratch)
    record["finished_loadavg"] = loadavg()
    record["targets"] = targets(record)
    return record


def naive_baseline(name: str, args: argparse.Namespace, model: bundles.BenchModel, work: dict[str, Any],
                   profile: Profile, record: dict[str, Any], scratch: Path) -> None:
    log.info("%s: naive baseline", name)
    with naive_server(model.checkpoint, args.threads, args.device, scratch / f"{name}-naive.log") as (url, pid):
        baseline_profile = dataclasses.replace(profile, duration_s=profile.baseline_s,
                                               drain_s=max(profile.drain_s, 5))
        memory = {"ready_rss_bytes": proc_memory(pid)["VmRSS"]}
        for level in profile.baseline_levels:
            analysed, _ = run_level(url, pid, level, work, baseline_profile, scratch, f"{name}-naive-{level.name}",
                                    False)
            record["baseline"][level.name] = analysed
            log.info("    %.0f doc tok/s, %.3f notes/s, p50 %s s", analysed["doc_tokens_per_s"],
                     analysed["notes_per_s"], _round(analysed["latency_p50_s"]))
        memory["peak_rss_bytes"] = proc_memory(pid)["VmHWM"]
        record["server_memory"]["naive-fp32"] = memory


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


def per_cpu(level: dict[str, Any], key: str) -> float | None:
    """A rate per CPU-second of the server process: robust to other jobs taking cores away."""
    rate, cores = level.get(key), level.get("server_cpu_cores")
    return rate / cores if rate and cores else None


def targets(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and pass or miss.

    On a shared machine every contender gets a varying share of the cores, so the throughput targets
    are also given per CPU-second used by the measured process (server, or the ceiling's process).
    """
    out: list[dict[str, Any]] = []
    for variant, results in record["clinx"].items():
        ceiling_record = record["ceiling"].get(variant, {})
        ceiling = ceiling_record.get("real_tokens_per_s")
        singles = {k: v for k, v in results.items() if "batch" not in k and v.get("model_tokens_per_s")}
        if ceiling and singles:
            best_level, best = max(singles.items(), key=lambda item: item[1]["model_tokens_per_s"])
            value = best["model_tokens_per_s"] / ceiling
            out.append({"target": f"clinx-serve {variant} at saturation >= 90% of the model-only ceiling",
                        "value": value, "display": f"{value:.0%} ({best['model_tokens_per_s']:.0f} vs {ceiling:.0f} "
                        f"model tok/s, at {best_level})", "passed": value >= 0.9})
            ceiling_cpu = ceiling_record.get("real_tokens_per_cpu_s")
            server_cpu = {k: per_cpu(v, "model_tokens_per_s") for k, v in singles.items() if k != "c1"}
            server_cpu = {k: v for k, v in server_cpu.items() if v}
            if ceiling_cpu and server_cpu:
                level_name, rate = max(server_cpu.items(), key=lambda item: item[1])
                value = rate / ceiling_cpu
                out.append({"target": f"(same, per CPU-second: {variant} model tokens per CPU-s of the server vs of "
                            "the ceiling)", "value": value, "display": f"{value:.0%} ({rate:.0f} vs {ceiling_cpu:.0f}"
                            f" tok/CPU-s, at {level_name})", "passed": value >= 0.9})
    base = record["baseline"].get("c1", {})
    reduced = record.get("reduced_variant", "int8")
    fast = {k: v for k, v in record["clinx"].get(reduced, {}).items() if "batch" not in k}
    if base.get("doc_tokens_per_s") and fast:
        best = max(fast.values(), key=lambda v: v.get("doc_tokens_per_s") or 0)
        value = best["doc_tokens_per_s"] / base["doc_tokens_per_s"]
        out.append({"target": f"clinx-serve {reduced} >= 3x the naive fp32 baseline, tokens/s of notes "
                    "(document subwords)",
                    "value": value, "display": f"{value:.2f}x ({best['doc_tokens_per_s']:.0f} vs "
                    f"{base['doc_tokens_per_s']:.0f} doc tok/s)", "passed": value >= 3})
        value = best["model_tokens_per_s"] / base["model_tokens_per_s"]
        out.append({"target": "(same, counted in model-input tokens: compute rate, windows' context included)",
                    "value": value, "display": f"{value:.2f}x ({best['model_tokens_per_s']:.0f} vs "
                    f"{base['model_tokens_per_s']:.0f} model tok/s)", "passed": value >= 3})
        fast_cpu, base_cpu = per_cpu(best, "doc_tokens_per_s"), per_cpu(base, "doc_tokens_per_s")
        if fast_cpu and base_cpu:
            value = fast_cpu / base_cpu
            out.append({"target": "(same, note tokens per CPU-second of each server)", "value": value,
                        "display": f"{value:.2f}x ({fast_cpu:.0f} vs {base_cpu:.0f} doc tok/CPU-s)",
                        "passed": value >= 3})
    for variant, half in record["half_load"].items():
        quartiles = [q for q in half.get("by_size", []) if q.get("ratio") is not None]
        if quartiles:
            worst = max(quartiles, key=lambda q: q["ratio"])
            out.append({"target": f"{variant}: p99 latency at half the saturation load <= 3x the lone latency of "
                        "the same note size (worst quartile of note size)", "value": worst["ratio"],
                        "display": f"{worst['ratio']:.1f}x (notes of {worst['subwords'][0]}-{worst['subwords'][1]} "
                        f"subwords: p99 {worst['loaded_p99_s']:.2f} s loaded vs {worst['alone_p99_s']:.2f} s alone; "
                        "quartiles " + ", ".join(f"{q['ratio']:.1f}x" for q in quartiles) + ")",
                        "passed": worst["ratio"] <= 3})
        if half.get("ratio_p99") is not None:
            value = half["ratio_p99"]
            out.append({"target": "(stricter: p99 over notes of each note's loaded / lone latency)", "value": value,
                        "display": f"{value:.1f}x (n={half['n']}; median {half['ratio_p50']:.2f}x)",
                        "passed": value <= 3})
    if record["model"] == "clinx-large" and "int8" in record["server_memory"] and record.get("device") != "cuda":
        peak = record["server_memory"]["int8"]["peak_rss_bytes"]
        out.append({"target": "peak RSS of the server serving the CLIN-X-shaped int8 model <= 2 GB",
                    "value": peak / 1e9, "display": f"{peak / 1e9:.2f} GB", "passed": peak <= 2e9})
    for variant, results in record["clinx"].items():
        level = results.get("c32")
        if level and level.get("padding_overhead") is not None:
            value = level["padding_overhead"]
            out.append({"target": f"{variant}: padding overhead at 32 concurrent clients <= 10% (issue 5)",
                        "value": value, "display": f"{value:.1%}", "passed": value <= 0.10})
    return out


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _bundle_files(bundle: Path) -> dict[str, int]:
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    sizes = {}
    for member in manifest["members"]:
        for precision, variant in member["variants"].items():
            extra = sum(entry.get("bytes", 0) for entry in variant.get("external_data", []) or [])
            sizes[precision] = variant["bytes"] + extra
    return sizes


def environment(machine: dict[str, Any]) -> dict[str, Any]:
    import importlib.metadata as metadata

    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    versions = {}
    for package in ("onnxruntime", "torch", "transformers", "tokenizers", "numpy", "fastapi", "uvicorn", "httpx"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {
        "cpu": model, "cores_available": len(os.sched_getaffinity(0)), "cpu_count": os.cpu_count(),
        "cpu_flags": sorted(flag for flag in flags if "avx512" in flag or "vnni" in flag or "amx" in flag),
        "memory": memory.split(":", 1)[1].strip(), "python": platform.python_version(), "kernel": platform.release(),
        "versions": versions, "machine": machine, "loadavg": loadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def wait_for_quiet(threshold: float, max_wait_s: float) -> float:
    started = time.monotonic()
    while True:
        load = loadavg()[0]
        if load < threshold or time.monotonic() - started >= max_wait_s:
            if load >= threshold:
                log.warning("1-minute load average still %.2f after %.0f min: measuring anyway", load,
                            max_wait_s / 60)
            return load
        log.info("1-minute load average %.2f >= %.2f: waiting", load, threshold)
        time.sleep(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="demo,xlmr-base,clinx-large")
    parser.add_argument("--quick", action="store_true", help="smoke run: few short notes, seconds per level")
    parser.add_argument("--threads", type=int, default=2, help="threads for every contender (ORT, torch, BLAS)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: fp32 and fp16 on the GPU (see benchmarks/gpu/run_gpu.sh)")
    parser.add_argument("--notes", type=Path, default=bundles.NOTES, help="MTSamples notes.jsonl")
    parser.add_argument("--cache", type=Path, default=bundles.DEFAULT_CACHE, help="where built bundles are kept")
    parser.add_argument("--output", type=Path, default=HERE / "results")
    parser.add_argument("--wait-load", type=float, default=0.0,
                        help="wait until the 1-minute load average is below this before measuring (0: don't)")
    parser.add_argument("--wait-max-min", type=float, default=40.0)
    parser.add_argument("--py-spy", action="store_true",
                        help="sample the server with py-spy at 32 clients (raw stacks saved in the output folder)")
    parser.add_argument("--parts", default="ceiling,clinx,baseline",
                        help="which contenders to measure; the others' last results for the model are kept")
    parser.add_argument("--report-only", action="store_true", help="redraw report.md and plots from results.json")
    args = parser.parse_args()
    args.parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(args.parts) - {"ceiling", "clinx", "baseline"}
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from benchmarks.report import write_report

    args.output.mkdir(parents=True, exist_ok=True)
    bundles.NOTES = args.notes
    results_path = args.output / ("results-quick.json" if args.quick else "results.json")
    stored: dict[str, Any] = {"models": {}}
    if results_path.is_file():
        stored = json.loads(results_path.read_text(encoding="utf-8"))
    floor = args.output / "queue-floor.json"
    if floor.is_file():  # benchmarks/queue_floor.py: the half-load test on an ideal server
        stored["queue_floor"] = json.loads(floor.read_text(encoding="utf-8"))
    if args.report_only:
        best_machine(stored, stored.get("environment", {}).get("machine"))
        for record in stored.get("models", {}).values():
            record["targets"] = targets(record)
            for variant, levels in record.get("clinx", {}).items():  # re-read the raw stacks, if kept
                spy = args.output / f"pyspy-{record['model']}-{variant}-c32.txt"
                if "py_spy" in levels.get("c32", {}) and spy.is_file():
                    levels["c32"]["py_spy"] = summarise_py_spy(spy)
        results_path.write_text(json.dumps(stored, indent=2), encoding="utf-8")
    else:
        names = [name.strip() for name in args.models.split(",") if name.strip()]
        for name in names:
            bundles.paths(name)  # fail fast on a typo
        for name in names:
            bundles.ensure(name, args.cache, fp16=args.device == "cuda")
        if args.wait_load:
            wait_for_quiet(args.wait_load, args.wait_max_min * 60)
        with tempfile.TemporaryDirectory(prefix="clinx-bench-") as scratch_dir:
            scratch = Path(scratch_dir)
            machine = _machine(args.threads, scratch) if args.device == "cpu" else _gpu_machine(scratch)
            stored["environment"] = environment(machine)
            for name in names:
                record = measure_model(name, args, machine, scratch)
                record["environment"] = stored["environment"]
                previous = stored["models"].get(name)
                if previous and set(args.parts) != {"ceiling", "clinx", "baseline"}:
                    record = merge(previous, record, args.parts)
                stored["models"][name] = record
                best_machine(stored, machine)
                results_path.write_text(json.dumps(stored, indent=2), encoding="utf-8")
                for target in record["targets"]:
                    log.info("TARGET %s: %s -> %s", target["target"], target["display"],
                             "pass" if target["passed"] else "MISS")
    write_report(stored, args.output, quick=args.quick)
    print(args.output / ("report-quick.md" if args.quick else "report.md"))
    return 0


def merge(previous: dict[str, Any], fresh: dict[str, Any], parts: list[str]) -> dict[str, Any]:
    """The previous record with the re-measured parts replaced (each part notes when it was measured)."""
    merged = dict(previous)
    sections = {"ceiling": ["ceiling"], "clinx": ["clinx", "half_load"], "baseline": ["baseline"]}
    for part in parts:
        for key in sections[part]:
            merged[key] = fresh[key]
    memory = dict(previous.get("server_memory", {}))
    memory.update(fresh.get("server_memory", {}))
    merged["server_memory"] = memory
    merged.setdefault("remeasured", []).append({"parts": parts, "loadavg": fresh["started_loadavg"],
                                                 "date": fresh["environment"]["date"]})
    merged["targets"] = targets(merged)
    return merged


def _gpu_machine(scratch: Path) -> dict[str, Any]:
    result = scratch / "gpu-machine.json"
    subprocess.run([PY, str(HERE / "gpu" / "gpu_machine.py"), str(result)], check=True, cwd=ROOT)
    machine: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    machine["loadavg"] = loadavg()
    log.info("GPU %s: fp16 %.0f TFLOP/s, fp32 %.0f TFLOP/s (measured matmul)", machine.get("gpu"),
             machine["fp16_gflops"] / 1e3, machine["fp32_gflops"] / 1e3)
    return machine


def _machine(threads: int, scratch: Path) -> dict[str, Any]:
    result = scratch / "machine.json"
    subprocess.run([PY, str(HERE / "machine.py"), str(threads), str(result)], check=True, cwd=ROOT,
                   env={**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)})
    machine: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    machine["loadavg"] = loadavg()
    log.info("machine: fp32 %.0f GFLOP/s (numpy %.0f, ORT %.0f), int8 %.0f GOP/s with %d threads",
             machine["fp32_gflops"], machine["numpy_fp32_gflops"], machine["ort_fp32_gflops"],
             machine["ort_int8_gops"], threads)
    return machine


if __name__ == "__main__":
    raise SystemExit(main())
