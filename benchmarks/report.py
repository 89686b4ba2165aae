"""results.json -> report.md and plots (matplotlib, PNG) in benchmarks/results/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.report_plots import plots
from benchmarks.report_records import models_in, saturation


def _f(value: float | None, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}{unit}"
    return f"{value:.{digits}f}{unit}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _gb(value: float | None) -> str:
    return "–" if value is None else f"{value / 1e9:.2f} GB"


def summary_table(stored: dict[str, Any]) -> list[str]:
    """The table for the README: notes/s and tokens/s per contender, one block per model."""
    lines = ["| model | contender | notes/s | note tokens/s | model tokens/s | p50 latency, 1 client | vs naive |",
             "|---|---|---|---|---|---|---|"]
    for record in models_in(stored):
        name = record["model"]
        base = record["baseline"].get("c1", {})
        base_rate = base.get("doc_tokens_per_s")
        rows = []
        if base:
            rows.append(("naive: transformers pipeline, PyTorch fp32", base.get("notes_per_s"),
                         base.get("doc_tokens_per_s"), base.get("model_tokens_per_s"), base.get("latency_p50_s")))
        variants = list(record["clinx"]) or list(record["ceiling"])
        for variant in variants:
            results = record["clinx"].get(variant)
            if not results:
                continue
            level, best = saturation(results)
            rows.append((f"clinx-serve {variant} (saturated, {level})", best.get("notes_per_s"),
                         best.get("doc_tokens_per_s"), best.get("model_tokens_per_s"),
                         results.get("c1", {}).get("latency_p50_s")))
        for variant in variants:
            ceiling = record["ceiling"].get(variant)
            if ceiling:
                rows.append((f"model-only ceiling {variant} (ORT, no HTTP)", ceiling["notes_per_s"],
                             ceiling["doc_tokens_per_s"], ceiling["real_tokens_per_s"], None))
        limit = record["machine_limit_model_tokens_per_s"]
        work = record["workload"]
        for variant in limit:
            rows.append((f"machine limit {variant} (GEMM rate / FLOPs per token)",
                         limit[variant] / work["model_tokens_per_note"], limit[variant] / work["context_amplification"],
                         limit[variant], None))
        for contender, notes, doc, model_rate, p50 in rows:
            speedup = f"{doc / base_rate:.2f}x" if base_rate and doc and "naive" not in contender else "–"
            lines.append(f"| {name} | {contender} | {_f(notes, 3)} | {_f(doc, 0)} | {_f(model_rate, 0)} | "
                         f"{_f(p50, 2, ' s')} | {speedup} |")
    return lines


def targets_table(stored: dict[str, Any]) -> list[str]:
    lines = ["| model | target | measured | result |", "|---|---|---|---|"]
    for record in models_in(stored):
        for target in record.get("targets", []):
            lines.append(f"| {record['model']} | {target['target']} | {target['display']} | "
                         f"{'pass' if target['passed'] else '**miss**'} |")
    return lines


def _bracket(ceiling: dict[str, Any]) -> str:
    """Before / after the server's levels, when measured both times (the reference is their mean)."""
    if "after" not in ceiling:
        return ""
    return (f"; mean of {ceiling['before']['real_tokens_per_s']:,.0f} before and "
            f"{ceiling['after']['real_tokens_per_s']:,.0f} after the server's levels")


def misses(stored: dict[str, Any]) -> list[str]:
    """Why each missed target was missed, from the run's own figures."""
    lines: list[str] = []
    for record in models_in(stored):
        missed = [t for t in record.get("targets", []) if not t["passed"] and not t["target"].startswith("(")]
        for target in missed:
            text = target["target"]
            if "of the model-only ceiling" in text:
                lines.append(_saturation_miss(record, text.split()[1]))
            elif "p99 latency at half" in text:
                lines.append(f"- **{record['model']}, half load**: {HALF_LOAD_MISS}{_floor(stored, record['model'])}")
            elif ">= 3x the naive" in text:
                lines.append(f"- **{record['model']}, vs naive**: see the saturation line; the model reads "
                             f"{record['workload']['context_amplification']:.2f} tokens per note token (its "
                             "windows' context), the naive pipeline "
                             f"{record['workload']['naive_amplification']:.2f}.")
    return ["## Misses, explained", "", *lines, ""] if lines else []


HALF_LOAD_MISS = (
    "Poisson arrivals at half the saturated rate come in bursts, and one model on 2 cores serves one window "
    "at a time: a note that arrives behind a burst waits for it. Even an ideal single server has this tail "
    "(an M/M/1 queue at 50% load keeps a request ln(100) / (1 - 0.5) = 9.2 service times at p99); "
    "serving the request with the least work left first shortens it for every note size but the largest, "
    "and how far depends on how the rule keeps old requests from starving. The per-quartile figures are in "
    "the model's section."
)


def _floor(stored: dict[str, Any], model: str) -> str:
    """What the queueing simulation (benchmarks/queue_floor.py) says an ideal server would show."""
    floor = next((r for r in stored.get("queue_floor", []) if r["model"] == model), None)
    if floor is None:
        return ""
    parts = []
    for policy, p in floor["policies"].items():
        short = p["worst_quartile_short_runs"]
        parts.append(f"{policy} {short['median']:.1f}x ({short['share_above_3x']:.0%} of runs above 3x)")
    return (" An ideal server (no overhead, windows at the ceiling's rate, same notes and arrival rate; "
            "`benchmarks/queue_floor.py`, [queue-floor.md](queue-floor.md)) would show, as the median of runs as "
            "long as this one, a worst quartile of: " + "; ".join(parts) + ".")


def _saturation_miss(record: dict[str, Any], variant: str) -> str:
    """Where the CPU went at the saturated level: the model's threads, the event loop, the rest, the client."""
    level_name, level = saturation(record["clinx"].get(variant, {}))
    ceiling = record["ceiling"].get(variant, {})
    threads = level.get("other_threads_cpu") or []
    model_cores = sum(threads[:2])  # the inference thread and ONNX Runtime's pool thread (2 threads)
    main = level.get("main_thread_cpu") or 0.0
    rest = sum(threads[2:])
    client = level.get("client_cpu_cores") or level.get("client_cpu_s", 0.0) / max(level.get("window_s", 1.0), 1e-9)
    per_model_cpu = (level.get("model_tokens_per_s") or 0.0) / model_cores if model_cores else 0.0
    ceiling_cpu = ceiling.get("real_tokens_per_cpu_s") or 0.0
    efficiency = f"{per_model_cpu / ceiling_cpu:.0%}" if ceiling_cpu else "–"
    return (
        f"- **{record['model']} {variant}, saturation** (at {level_name}): the model's two threads got "
        f"{model_cores:.2f} of the 2 cores; the event loop (HTTP, JSON, validation, decoding) {main:.2f}, the "
        f"tokenizer and other server threads {rest:.2f}, the load generator on the same cores about {client:.2f} "
        f"(its CPU time over its run, start-up included). Per CPU-second of its own threads the model ran at "
        f"{efficiency} of the ceiling's rate. The smaller the model, the larger the share of this fixed per-note "
        f"work: the ceiling runs nothing else."
    )


def detail_tables(record: dict[str, Any]) -> list[str]:
    work = record["workload"]
    lines = [f"### {record['model']}", "", record["description"] + ".", "",
             f"Workload: {work['notes']} MTSamples notes (mean {work['characters_mean']:.0f} characters, "
             f"{work['doc_tokens_per_note']:.0f} subwords each, {work['doc_tokens'] / max(work['words'], 1):.2f} "
             f"subwords per word); {work['windows']} windows of mean length {work['window_length_mean']:.0f}: "
             f"the model reads **{work['context_amplification']:.1f}x** the note's subwords (consecutive sentences "
             f"packed into centres of up to 300 subwords, with up to 100 subwords of context on each side). The naive "
             f"pipeline's "
             f"512-subword windows with stride 100 read {work['naive_amplification']:.2f}x.",
             f"Load average (1/5/15 min) at start {record['started_loadavg']}, at end {record['finished_loadavg']}.",
             ""]
    flops = record["flops_per_token"]["clinx_windows"]
    limit = record["machine_limit_model_tokens_per_s"]
    lines += [f"FLOPs per model token: {flops['total'] / 1e6:.0f} M ({flops['linear'] / 1e6:.0f} M linear layers, "
              f"{flops['attention'] / 1e6:.0f} M attention at the token-weighted window length "
              f"{work['window_length_token_weighted']:.0f}); machine limit {limit['fp32']:.0f} model tokens/s fp32, "
              f"{limit['int8']:.0f} int8. Bundle files: " + ", ".join(
                  f"{k} {v / 1e6:.0f} MB" for k, v in record["bundle_files"].items()) + ".", ""]
    lines += ["| contender | clients | notes/request | notes/s | note tok/s | model tok/s | p50 s | p95 s | p99 s "
              "(n) | padding | rows/batch | model busy | server CPU (cores) | event loop CPU | server RSS peak | "
              "HTTP statuses |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for variant, ceiling in record["ceiling"].items():
        lines.append(f"| ceiling {variant} | – | – | {_f(ceiling['notes_per_s'], 3)} | "
                     f"{_f(ceiling['doc_tokens_per_s'], 0)} | {_f(ceiling['real_tokens_per_s'], 0)} | – | – | – | "
                     f"{_pct(ceiling['padding_overhead'])} | "
                     f"{ceiling['windows_run'] / max(ceiling['batches_run'], 1):.1f}"
                     f" | – | – | – | – | {ceiling['batches_run']}/{ceiling['batches_total']} batches in "
                     f"{ceiling['seconds']:.0f} s{_bracket(ceiling)} |")
    rows = [(f"clinx-serve {variant}", name, level) for variant, levels in record["clinx"].items()
            for name, level in levels.items()]
    rows += [("naive fp32", name, level) for name, level in record["baseline"].items()]
    rows += [(f"clinx-serve {variant} open loop, half load", "open", half["level"])
             for variant, half in record["half_load"].items()]
    for contender, name, level in rows:
        clients, _, docs = name.partition("-batch")
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(level["statuses"].items()))
        lines.append(
            f"| {contender} | {clients.lstrip('c')} | {docs or 1} | {_f(level.get('notes_per_s'), 3)} | "
            f"{_f(level.get('doc_tokens_per_s'), 0)} | {_f(level.get('model_tokens_per_s'), 0)} | "
            f"{_f(level['latency_p50_s'])} | {_f(level['latency_p95_s'])} | {_f(level['latency_p99_s'])} "
            f"({level['latency_n']}) | {_pct(level.get('padding_overhead'))} | {_f(level.get('rows_per_batch'), 1)} | "
            f"{_pct(level.get('inference_busy'))} | {_f(level.get('server_cpu_cores'))} | "
            f"{_f(level.get('main_thread_cpu'))} | {_gb(level.get('server_peak_rss_bytes'))} | {statuses} |")
    memory = record["server_memory"]
    lines += ["", "Server memory: " + "; ".join(
        f"{name}: {_gb(m.get('ready_rss_bytes'))} when ready, peak {_gb(m.get('peak_rss_bytes'))}"
        for name, m in memory.items()) + ".", ""]
    for variant, levels in record["clinx"].items():
        spy = levels.get("c32", {}).get("py_spy")
        if spy and spy.get("main_thread_busy_share") is not None:
            leaves = ", ".join(f"{leaf} ({count})" for leaf, count in spy["main_thread_top_leaves"][:5])
            lines += [f"py-spy at 32 clients ({variant}, {spy['samples']} samples over all threads): the event-loop "
                      f"thread was busy in {spy['main_thread_busy_share']:.1%} of its samples; busiest frames: "
                      f"{leaves}.", ""]
    for variant, half in record["half_load"].items():
        lines += [f"Half load ({variant}): Poisson arrivals at {half['rate_notes_per_s']:.3f} notes/s (half of "
                  f"{half['saturation_notes_per_s']:.3f}), {half['n']} answered; latency / lone latency of the same "
                  f"note: p50 {_f(half['ratio_p50'])}x, p99 {_f(half['ratio_p99'])}x."]
        quartiles = half.get("by_size", [])
        if quartiles:
            lines += ["By quartile of note size (the target): "
                      + "; ".join(f"{q['subwords'][0]}-{q['subwords'][1]} subwords: p99 {q['loaded_p99_s']:.3f} s "
                                  f"loaded vs {q['alone_p99_s']:.3f} s alone ({_f(q['ratio'])}x)" for q in quartiles)
                      + "."]
        lines += [""]
    return lines


def gpu_line(stored: dict[str, Any], machine: dict[str, Any]) -> str:
    if any(record.get("device") == "cuda" for record in stored.get("models", {}).values()):
        return (f"- GPU: {machine.get('gpu')}; measured matmul fp16 {_f(machine.get('fp16_gflops', 0) / 1e3, 0)} "
                f"TFLOP/s, TF32 {_f(machine.get('tf32_gflops', 0) / 1e3, 0)} TFLOP/s (torch {machine.get('torch')}, "
                f"CUDA {machine.get('cuda')}).")
    return ("- GPU: **no figures**. No GPU was available to this run; `benchmarks/gpu/run_gpu.sh` runs the same "
            "comparison on a CUDA machine (fp16, IO binding, against the GPU's fp16 matrix rate).")


def spans_section(output: Path) -> list[str]:
    """What the spans look like, beside how fast they come: stability under context and a real-text check.

    Read from ``context-stability.json`` (``benchmarks/context_stability.py``) and ``mtsamples-40.json``
    (``benchmarks/mtsamples_check.py``) when they are in the output folder.
    """
    import json

    lines: list[str] = []
    stability, real = output / "context-stability.json", output / "mtsamples-40.json"
    if stability.is_file():
        result = json.loads(stability.read_text(encoding="utf-8"))
        lines += ["## Spans stable under context", "",
                  f"The demo bundle on {result['notes']} MTSamples notes, each alone and inside a document with other "
                  "notes around it (blank lines between): exact-span Jaccard of the note's spans "
                  f"([context-stability.md](context-stability.md), `benchmarks/context_stability.py`; "
                  f"{result['bundle']['decode']} decoding, variant {result['variant']}).", "",
                  "| other notes | micro Jaccard | mean Jaccard | notes >= 0.9 |", "|---|---|---|---|"]
        lines += [f"| {name} | {row['micro_jaccard']:.3f} | {row['mean_jaccard']:.3f} "
                  f"| {row['notes_at_or_above_0_9']} / {result['notes']} |"
                  for name, row in result["placements"].items()]
        lines.append("")
    if real.is_file():
        result = json.loads(real.read_text(encoding="utf-8"))
        strict, lenient = result["scores"]["strict"], result["scores"]["lenient"]
        lines += ["## Spans on real text", "",
                  f"The demo bundle on {result['sentences']} hand-annotated MTSamples sentences "
                  f"({result['gold_spans']} concepts; [mtsamples-40.md](mtsamples-40.md), "
                  f"`benchmarks/mtsamples_check.py score`): strict F1 {strict['f1']:.3f}, lenient F1 "
                  f"{lenient['f1']:.3f}; predicted spans cutting a word: {result['spans_cutting_a_word']}.", ""]
    return lines


def write_report(stored: dict[str, Any], output: Path, *, quick: bool = False) -> Path:
    suffix = "-quick" if quick else ""
    images = plots(models_in(stored), output, suffix)
    env = stored.get("environment", {})
    machine = env.get("machine", {})
    best = stored.get("machine_best", {})
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items())
    command = "--quick " if quick else ""
    names = ",".join(r["model"] for r in models_in(stored))
    reproduce = (f"Reproduce: `.venv/bin/python benchmarks/run.py {command}--models {names}` (bundles are built once "
                 "into `runs/bench-bundles/`).")
    if any(record.get("device") == "cuda" for record in stored.get("models", {}).values()):
        reproduce = f"Reproduce: `MODELS={names} bash benchmarks/gpu/run_gpu.sh {command}`."
    threads = next(iter(stored["models"].values()))["threads"] if stored.get("models") else "?"
    lines = [
        "# clinx-serve benchmarks: against the naive baseline, the model-only ceiling and the machine's limit",
        "",
        ("**Smoke run (`--quick`): a handful of short notes, seconds per level. Not a measurement.**\n"
         if quick else ""),
        reproduce,
        "",
        "## Machine",
        "",
        f"- CPU: {env.get('cpu')}, {env.get('cores_available')} cores available to the process "
        f"(flags: {' '.join(env.get('cpu_flags', []))}); memory {env.get('memory')}; Linux {env.get('kernel')}.",
        f"- Python {env.get('python')}; {versions}.",
        f"- Every contender ran with {threads} threads (ORT intra-op, torch, BLAS); the load generator ran in its "
        "own process on the same cores.",
        f"- Measured GEMM rate ({machine.get('shape')}, {machine.get('threads')} threads, best of ~3 s): fp32 numpy "
        f"{_f(machine.get('numpy_fp32_gflops'), 1)} GFLOP/s, ONNX Runtime {_f(machine.get('ort_fp32_gflops'), 1)} "
        f"GFLOP/s; int8 (ORT MatMulInteger) {_f(machine.get('ort_int8_gops'), 1)} GOP/s. The machine limits use "
        "the highest rates measured over all runs (other jobs only ever lower them): "
        f"fp32 {_f(best.get('fp32_gflops'), 1)} GFLOP/s, int8 {_f(best.get('ort_int8_gops'), 1)} GOP/s.",
        f"- Load average (1/5/15 min) when the run started: {env.get('loadavg')}; each model's section gives its "
        "own at start and end (the benchmark's own processes count: about 2 while it measures).",
        f"- Date: {env.get('date')}.",
        gpu_line(stored, machine),
        "",
        "## Summary",
        "",
        "notes/s and note tokens/s count the notes' own subwords (what a user gets); model tokens/s count the "
        "unpadded tokens the model reads (clinx windows include their context; the naive pipeline's include its "
        "stride overlap). Saturated = the best closed-loop level.",
        "",
        *summary_table(stored),
        "",
        "## Targets",
        "",
        *targets_table(stored),
        "",
        *misses(stored),
        *[f"![{name}]({name})" for name in images],
        "",
        *([] if quick else spans_section(output)),
        "## Details",
        "",
    ]
    for record in models_in(stored):
        lines += detail_tables(record)
    lines += [
        "## Method",
        "",
        "- **Workload**: MTSamples notes in a fixed shuffled order (seed 8), cycled; single-note requests and "
        "requests of 8 notes.",
        "- **clinx-serve**: `clinx serve` as a subprocess (`CLINX_DEVICE=cpu`, `CLINX_VARIANT`, "
        "`CLINX_INTRA_OP_THREADS`; `CLINX_MAX_QUEUE_TOKENS=16000000` and `CLINX_REQUEST_TIMEOUT_S=1800` so that "
        "64 clients with long notes are measured rather than shed; everything else default: on the CPU 512-token "
        "batches (one window; 8192 on a GPU), one batch at a time taken by the inference thread when the model "
        "is free, 5 ms delay, 10% padding bound, shortest remaining request first; uvloop and httptools). "
        "Closed loop: N clients each send the next request when the last one "
        "answered. Throughput is read from the server's counters (`clinx_real_tokens_total`, sampled each "
        "second, measured between batch completions when batches take seconds), so a level is measured even "
        "when few requests complete in its window; notes/s = model tokens/s / model tokens per note of the "
        "workload. Padding overhead = Δ`clinx_padded_tokens_total` / Δ`clinx_real_tokens_total` - 1. Server "
        "CPU from `/proc/<pid>/stat` (utime + stime, all threads), peak RSS from `VmHWM`.",
        "- **CPU share**: the load generator and any other job share the cores with the measured process, so "
        "the *server CPU* column says how many cores the server process actually used, and throughput targets "
        "are also given per CPU-second of the measured process (server, ceiling process, naive server), which "
        "compares the software rather than the share it got. This virtual machine's speed also drifts by "
        "several percent from minute to minute: contenders measured minutes apart differ by that much for no "
        "other reason. "
        "*Model busy* = inference seconds of the batches finished in the window / window length (above 100% "
        "when a long batch started before the window). *Event loop CPU* = CPU of the server's main thread.",
        "- **Latency**: per request, client side, over requests that finished after the warm-up; `n` says how "
        "many (few at high concurrency on the big models: their windows are bounded).",
        "- **Half load**: open-loop Poisson arrivals at half the saturated notes/s, on the notes whose lone "
        "latency the 1-client level measured; the target compares, per quartile of note size, the p99 latency "
        "under load with the p99 lone latency of the same notes (the stricter per-note ratio is shown too).",
        "- **Ceiling**: `benchmarks/ceiling.py`: the server's `Runtime` on all windows of the workload, "
        "length-sorted and cut by the server's own budget (512 tokens on the CPU), padded before timing; "
        "batches in a fixed shuffled order until all ran or the time was up. Measured right before and right "
        "after the server's levels of the same variant; the reference is the mean of the two.",
        "- **Naive baseline**: `benchmarks/naive_server.py`: FastAPI + `pipeline('token-classification', "
        "aggregation_strategy='simple', stride=100)` (model_max_length 512), PyTorch fp32, `torch."
        "set_num_threads`, a lock: one request at a time. Same checkpoint as the bundle. Its tokens/s count "
        "the same tokenizer's subwords.",
        "- **Machine limit**: GEMM rate / FLOPs per token, FLOPs = 2 x encoder weights (+ classifier) + "
        "4 x layers x hidden x attended length (QK^T and AV) at the token-weighted window length; int8 limit: "
        "linear layers at the int8 rate, attention at the fp32 rate. Embedding lookups, layer norms, GELU and "
        "softmax are not counted, so no real run reaches it.",
        "- Bounded runs: the CLIN-X shape (XLM-R-large) reads a note in seconds on 2 cores (see its ceiling), so "
        "it is measured on fewer notes, fewer levels and no half-load run, and its naive baseline on a few notes; "
        "see its section for n.",
        "",
    ]
    path = output / f"report{suffix}.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
