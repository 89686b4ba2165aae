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
import dataclasses
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bundles  # noqa: E402
from benchmarks.environment import best_machine, environment, measure_machine, wait_for_quiet  # noqa: E402
from benchmarks.levels import bracketed_ceiling, child, half_load, run_level, wait_idle  # noqa: E402
from benchmarks.loadgen import loadavg  # noqa: E402
from benchmarks.profiles import STRIDE, Level, Profile, max_batch_tokens, profile_for, reduced_variant  # noqa: E402
from benchmarks.pyspy import start_py_spy, summarise_py_spy  # noqa: E402
from benchmarks.server_process import bench_server, naive_server  # noqa: E402
from benchmarks.targets import targets  # noqa: E402
from benchmarks.workload import bundle_files, flops_per_token, machine_limits, workload  # noqa: E402

log = logging.getLogger("bench")
PARTS = ("ceiling", "clinx", "baseline")


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def measure_model(name: str, args: argparse.Namespace, machine: dict[str, Any], scratch: Path) -> dict[str, Any]:
    profile = profile_for(name, args.device, args.quick)
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
        "device": args.device, "reduced_variant": reduced_variant(args.device),
        "profile": dataclasses.asdict(profile), "workload": summary, "started_loadavg": loadavg(),
        "flops_per_token": {"clinx_windows": clinx_flops, "naive_windows": naive_flops},
        "machine_limit_model_tokens_per_s": limits,
        "bundle_files": bundle_files(model.bundle), "ceiling": {}, "clinx": {}, "baseline": {}, "half_load": {},
        "server_memory": {},
    }
    texts = [note["text"] for note in work["notes"]]
    budget = max_batch_tokens(args.device, work["max_length"])  # the server's default

    def ceiling_run(variant: str, when: str) -> dict[str, Any]:
        log.info("%s: model-only ceiling, %s (%s)", name, variant, when)
        ceiling = child("ceiling.py", {"bundle": str(model.bundle), "variant": variant, "texts": texts,
                                       "max_batch_tokens": budget, "threads": args.threads,
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
        with bench_server(model.bundle, variant, args.threads, args.device, log_path) as server:
            url, pid = server.url, server.pid
            memory = {"ready_rss_bytes": server.memory()["VmRSS"]}
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
            memory["peak_rss_bytes"] = server.memory()["VmHWM"]
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
    with naive_server(model.checkpoint, args.threads, args.device, STRIDE, scratch / f"{name}-naive.log") as server:
        url, pid = server.url, server.pid
        baseline_profile = dataclasses.replace(profile, duration_s=profile.baseline_s,
                                               drain_s=max(profile.drain_s, 5))
        memory = {"ready_rss_bytes": server.memory()["VmRSS"]}
        for level in profile.baseline_levels:
            analysed, _ = run_level(url, pid, level, work, baseline_profile, scratch, f"{name}-naive-{level.name}",
                                    False)
            record["baseline"][level.name] = analysed
            log.info("    %.0f doc tok/s, %.3f notes/s, p50 %s s", analysed["doc_tokens_per_s"],
                     analysed["notes_per_s"], _round(analysed["latency_p50_s"]))
        memory["peak_rss_bytes"] = server.memory()["VmHWM"]
        record["server_memory"]["naive-fp32"] = memory


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
    unknown = set(args.parts) - set(PARTS)
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
            machine = measure_machine(args.device, args.threads, scratch)
            stored["environment"] = environment(machine)
            for name in names:
                record = measure_model(name, args, machine, scratch)
                record["environment"] = stored["environment"]
                previous = stored["models"].get(name)
                if previous and set(args.parts) != set(PARTS):
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


if __name__ == "__main__":
    raise SystemExit(main())
