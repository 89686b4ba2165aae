"""Engine A/B: clinx-serve from two checkouts, side by side on one bundle, alternating, several rounds.

"No performance loss" for a refactor of the engine (issue 14) is a statement about the spread of the
measurements on this machine: a shared machine drifts by several percent within minutes, so both
checkouts are served at once from their own working trees (each imports its own ``app``), and the
load alternates between them round by round (before-after, then after-before). Per round and side:

- saturation: ``--clients`` closed-loop clients for ``--saturation-s``, completed notes/s;
- lone latency: one client for ``--lone-s``; p50 over its requests and the mean over the notes both
  sides answered in that round (the same notes: the load generator walks the notes in a fixed order).

Load comes from ``benchmarks/loadgen.py`` in its own process, as in ``benchmarks/run.py``.

    git worktree add /work/wt-ab-before 2613ed3; git worktree add /work/wt-ab-after main
    .venv/bin/clinx demo --output /work/ab-demo   # one bundle for both
    .venv/bin/python benchmarks/ab_engine.py --before /work/wt-ab-before --after /work/wt-ab-after \\
        --bundle /work/ab-demo --rounds 4
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bundles  # noqa: E402
from benchmarks.environment import environment  # noqa: E402
from benchmarks.levels import analyse_level, child, wait_idle  # noqa: E402
from benchmarks.loadgen import loadavg  # noqa: E402
from benchmarks.server_process import BENCH_SETTINGS, ServerProcess, serve_command  # noqa: E402

log = logging.getLogger("bench")
SIDES = ("before", "after")


def checkout(root: Path) -> dict[str, str]:
    """The commit a working tree is at, and which ``app`` a server started there imports (checked)."""
    commit = subprocess.run(["git", "-C", str(root), "log", "-1", "--format=%h %s"], capture_output=True,
                            text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, check=True).stdout.strip()
    module = serve_command(root)[2]
    probe = ("import importlib.util, app.engine; "
             f"print(app.engine.__file__); print(importlib.util.find_spec({module!r}).origin)")
    found = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True,
                           check=True).stdout.split()
    for path in found:
        if not Path(path).resolve().is_relative_to(root.resolve()):
            raise SystemExit(f"a server started in {root} would import {path}, not its own code")
    return {"root": str(root), "commit": commit + (" (uncommitted changes)" if dirty else ""),
            "cli": module, "engine_imported_from": found[0]}


def workload(bundle: Path, notes: list[dict[str, str]]) -> dict[str, Any]:
    """What ``levels.analyse_level`` needs: subwords per note and the model tokens per note."""
    from app.bundle import bundle_encoder, verify_bundle

    encoder = bundle_encoder(bundle, verify_bundle(bundle))
    documents = encoder.encode_many([note["text"] for note in notes])
    doc_tokens = [document.token_count for document in documents]
    model_tokens = sum(len(encoder.input_ids(d, w)) for d in documents for w in d.windows)
    return {"notes": notes, "doc_tokens": doc_tokens,
            "summary": {"notes": len(notes), "doc_tokens": sum(doc_tokens), "model_tokens": model_tokens,
                        "model_tokens_per_note": model_tokens / len(notes),
                        "context_amplification": model_tokens / max(1, sum(doc_tokens))}}


def measure(server: ServerProcess, work: dict[str, Any], clients: int, seconds: float, warmup_s: float,
            scratch: Path, tag: str) -> tuple[dict[str, Any], dict[int, float]]:
    """One closed-loop level; its analysis and the latency of each note answered (by note index)."""
    plan = {"url": server.url, "notes": work["notes"], "mode": "closed", "concurrency": clients,
            "docs_per_request": 1, "warmup_s": warmup_s, "duration_s": seconds, "drain_s": 15,
            "server_pid": server.pid, "clinx_metrics": True}
    raw = child("loadgen.py", plan, scratch, tag, env={"OMP_NUM_THREADS": "1"})
    analysed = analyse_level(raw, work, True)
    analysed["idle_wait_s"] = wait_idle(server.url, server.pid)
    t0 = raw["window"][0]
    latencies = {r["notes"][0]: r["end"] - r["start"] for r in raw["records"] if r["status"] == 200
                 and r["end"] >= t0}
    return analysed, latencies


def run_round(index: int, servers: dict[str, ServerProcess], work: dict[str, Any], args: argparse.Namespace,
              scratch: Path) -> dict[str, Any]:
    order = SIDES if index % 2 == 0 else SIDES[::-1]
    result: dict[str, Any] = {"order": list(order), "loadavg_start": loadavg()}
    lone: dict[str, dict[int, float]] = {}
    for side in order:
        server = servers[side]
        saturated, _ = measure(server, work, args.clients, args.saturation_s, args.warmup_s, scratch,
                               f"r{index}-{side}-c{args.clients}")
        alone, lone[side] = measure(server, work, 1, args.lone_s, 1.0, scratch, f"r{index}-{side}-c1")
        result[side] = {
            "saturation_notes_per_s": saturated["completed_notes_per_s"],
            "saturation_model_tokens_per_s": saturated.get("model_tokens_per_s"),
            "saturation_p50_s": saturated["latency_p50_s"],
            "saturation_statuses": saturated["statuses"],
            "server_cpu_cores": saturated.get("server_cpu_cores"),
            "lone_p50_s": alone["latency_p50_s"],
            "lone_n": alone["latency_n"],
            "loadavg": saturated["loadavg"],
        }
        log.info("round %d %s: %.2f notes/s at %d clients, lone p50 %.0f ms (load %.1f)", index, side,
                 result[side]["saturation_notes_per_s"], args.clients, (alone["latency_p50_s"] or 0) * 1000,
                 saturated["loadavg"][0])
    common = sorted(set(lone["before"]) & set(lone["after"]))
    result["lone_common_notes"] = len(common)
    for side in SIDES:
        result[side]["lone_mean_common_s"] = statistics.fmean(lone[side][n] for n in common) if common else None
    return result


def spread(values: list[float]) -> dict[str, float]:
    """Median, min, max and (max - min) / median of one side's per-round figures."""
    middle = statistics.median(values)
    return {"median": middle, "min": min(values), "max": max(values),
            "spread": (max(values) - min(values)) / middle if middle else 0.0}


def per_cpu(figures: dict[str, Any]) -> float | None:
    """Model tokens per CPU-second of the server: robust to other jobs taking cores away (a shared machine)."""
    rate, cores = figures.get("saturation_model_tokens_per_s"), figures.get("server_cpu_cores")
    return rate / cores if rate and cores else None


FIGURES = {"saturation_notes_per_s": "higher", "saturation_model_tokens_per_cpu_s": "higher",
           "lone_p50_s": "lower", "lone_mean_common_s": "lower"}


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Per figure: each side's median and spread, after/before of the medians, and the paired ratios."""
    for r in rounds:
        for side in SIDES:
            r[side]["saturation_model_tokens_per_cpu_s"] = per_cpu(r[side])
    out: dict[str, Any] = {}
    for figure, better in FIGURES.items():
        values = {side: [r[side][figure] for r in rounds if r[side][figure] is not None] for side in SIDES}
        if not all(values.values()):
            continue
        sides = {side: spread(values[side]) for side in SIDES}
        paired = [r["after"][figure] / r["before"][figure] for r in rounds if r["before"][figure]
                  and r["after"][figure] is not None]
        ratio = sides["after"]["median"] / sides["before"]["median"]
        noise = max(sides["before"]["spread"], sides["after"]["spread"])
        out[figure] = {"better": better, **sides, "after_over_before": ratio, "paired_ratios": paired,
                       "paired_ratio_median": statistics.median(paired) if paired else None,
                       "within_spread": abs(ratio - 1) <= noise}
    return out


def markdown(report: dict[str, Any]) -> str:
    env, summary, args = report["environment"], report["summary"], report["settings"]
    lines = [
        f"# Engine A/B: {report['settings'].get('title') or 'before and after the engine refactor (issue 14)'}", "",
        f"Produced by `benchmarks/ab_engine.py` on {env['date']}. Both servers ran at once on the same bundle "
        f"(`{args['bundle']}`, variant {report['variant']['after']}), load alternating between them round by round; "
        "the machine is shared, so every figure is this machine's at that moment.", "",
        f"- before: `{report['checkouts']['before']['commit']}`",
        f"- after: `{report['checkouts']['after']['commit']}`",
        f"- Machine: {env['cpu']}, {env['cores_available']} cores available, {env['memory']}; Python {env['python']}, "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
        f"- Load average at the start: {', '.join(f'{x:.2f}' for x in env['loadavg'])}; at the end: "
        f"{', '.join(f'{x:.2f}' for x in report['loadavg_end'])}",
        f"- Workload: {report['workload']['notes']} MTSamples notes (fixed shuffled order), one per request; "
        f"saturation: {args['clients']} clients for {args['saturation_s']:.0f} s (after {args['warmup_s']:.0f} s "
        f"warm-up); lone latency: 1 client for {args['lone_s']:.0f} s; {args['rounds']} rounds.",
        f"- Rerun: `{report['command']}`", "",
        "## Per round", "",
        "| round | order | load 1m | before notes/s | after notes/s | before model tok/CPU-s "
        "| after model tok/CPU-s | before lone p50 ms | after lone p50 ms | before lone mean ms (same notes) "
        "| after lone mean ms (same notes) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for index, r in enumerate(report["rounds"]):
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f}"

        def rate(side: dict[str, Any]) -> str:
            value = side.get("saturation_model_tokens_per_cpu_s")
            return "-" if value is None else f"{value:.0f}"

        lines.append(f"| {index + 1} | {' then '.join(r['order'])} | {r['loadavg_start'][0]:.1f} | "
                     f"{r['before']['saturation_notes_per_s']:.2f} | {r['after']['saturation_notes_per_s']:.2f} | "
                     f"{rate(r['before'])} | {rate(r['after'])} | "
                     f"{ms(r['before']['lone_p50_s'])} | {ms(r['after']['lone_p50_s'])} | "
                     f"{ms(r['before']['lone_mean_common_s'])} ({r['lone_common_notes']} notes) | "
                     f"{ms(r['after']['lone_mean_common_s'])} |")
    lines += ["", "## Summary", "",
              "| figure | before median (min-max) | after median (min-max) | after / before | paired ratios "
              "| run-to-run spread | within spread |", "|---|---|---|---|---|---|---|"]
    names = {"saturation_notes_per_s": f"saturation notes/s, {args['clients']} clients",
             "saturation_model_tokens_per_cpu_s": "saturation model tokens per CPU-second of the server",
             "lone_p50_s": "lone latency p50 (ms)", "lone_mean_common_s": "lone latency, mean over the same notes (ms)"}
    for figure, s in summary.items():
        scale, digits = {"saturation_notes_per_s": (1.0, 2), "saturation_model_tokens_per_cpu_s": (1.0, 0)}.get(
            figure, (1000.0, 0))

        def fmt(side: dict[str, float], scale: float = scale, digits: int = digits) -> str:
            return (f"{side['median'] * scale:.{digits}f} ({side['min'] * scale:.{digits}f}-"
                    f"{side['max'] * scale:.{digits}f})")

        lines.append(f"| {names[figure]} | {fmt(s['before'])} | {fmt(s['after'])} | {s['after_over_before']:.3f} | "
                     + ", ".join(f"{p:.3f}" for p in s["paired_ratios"])
                     + f" | {max(s['before']['spread'], s['after']['spread']):.1%} | "
                     f"{'yes' if s['within_spread'] else 'NO'} |")
    lines += ["", "Spread: (max - min) / median of one side's rounds, the larger side's. Paired ratio: after / before "
              "within a round (the two sides measured a minute apart). Lower is better for latency, higher for "
              "rates. Notes/s counts the notes answered within the window (a note more or less is ~7 %); model "
              "tokens per CPU-second of the server (from its token counter and /proc) is the rate that other jobs "
              "taking cores away changes least.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="working tree of the commit before")
    parser.add_argument("--after", type=Path, help="working tree of the commit after")
    parser.add_argument("--bundle", type=Path, help="one bundle both serve (clinx demo --output ...)")
    parser.add_argument("--notes", type=Path, default=bundles.NOTES, help="MTSamples notes.jsonl")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--saturation-s", type=float, default=20.0)
    parser.add_argument("--lone-s", type=float, default=20.0)
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--variant", default="auto")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "engine-ab")
    parser.add_argument("--report-only", action="store_true", help="redraw the markdown from the output's JSON")
    parser.add_argument("--title", default="", help="what the two checkouts differ by (the report's heading)")
    args = parser.parse_args()
    if args.report_only:
        report = json.loads(args.output.with_suffix(".json").read_text(encoding="utf-8"))
        if args.title:
            report["settings"]["title"] = args.title
        return write(report, args.output)
    if not (args.before and args.after and args.bundle):
        parser.error("--before, --after and --bundle are required (unless --report-only)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import httpx

    notes = bundles.read_notes(args.notes)
    random.Random(8).shuffle(notes)  # the benchmark's order (benchmarks/workload.py)
    work = workload(args.bundle, notes)
    roots = {"before": args.before.resolve(), "after": args.after.resolve()}
    checkouts = {side: checkout(root) for side, root in roots.items()}
    described = environment({})
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="clinx-ab-") as scratch_dir, contextlib.ExitStack() as stack:
        scratch = Path(scratch_dir)
        servers = {side: stack.enter_context(ServerProcess.start(
            args.bundle, scratch, ready_timeout_s=600, log_name=f"{side}.log", root=roots[side],
            **{**BENCH_SETTINGS, "variant": args.variant})) for side in SIDES}
        variant = {side: httpx.get(servers[side].url + "/info", timeout=30).json()["models"][0].get("variant")
                   for side in SIDES}
        for index in range(args.rounds):
            rounds.append(run_round(index, servers, work, args, scratch))
        errors = {side: servers[side].error_lines() for side in SIDES}
    report = {
        "environment": described, "loadavg_end": loadavg(), "checkouts": checkouts, "variant": variant,
        "settings": {"bundle": str(args.bundle), "rounds": args.rounds, "clients": args.clients,
                     "saturation_s": args.saturation_s, "lone_s": args.lone_s, "warmup_s": args.warmup_s,
                     "server": BENCH_SETTINGS, "title": args.title},
        "command": " ".join(["benchmarks/ab_engine.py", *sys.argv[1:]]),
        "workload": work["summary"], "rounds": rounds, "server_error_lines": errors,
    }
    return write(report, args.output)


def write(report: dict[str, Any], output: Path) -> int:
    """The summary (recomputed from the rounds), then ``output``.json and .md."""
    report["summary"] = summarise(report["rounds"])
    from benchmarks.results_io import save_results

    print(save_results(output, report, markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
