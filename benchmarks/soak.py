"""Soak test: the demo server under steady load for ten minutes, outside the test suite.

1. Starts ``clinx serve`` on the demo bundle (``models/demo``; build it with ``make demo``) on 127.0.0.1.
2. Measures saturation throughput briefly: closed-loop clients at a few concurrency levels, best rate wins.
3. Runs an open-loop, rate-controlled client at 80 % of that rate for ten minutes with MTSamples notes
   (Poisson arrivals, a bounded number of requests in flight, a bounded total time), recording errors,
   latency percentiles and the server's resident memory (VmRSS) every 10 s.
4. Writes ``benchmarks/results/soak.md`` and ``soak.json``: zero errors expected, RSS growth after the
   warm-up minute (< 5 % target), with the machine's description and its load average at the start.

    .venv/bin/python benchmarks/soak.py                 # the real run (about 12 minutes)
    .venv/bin/python benchmarks/soak.py --duration 30   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import math
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.server_process import ServerProcess  # noqa: E402

DEFAULT_NOTES = ROOT.parent / "shared" / "data" / "mtsamples" / "notes.jsonl"
SAMPLE_EVERY_S = 10.0
REQUEST_TIMEOUT_S = 60.0


# --- measurements -----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(seconds: list[float]) -> dict[str, float | None]:
    summary: dict[str, float | None] = {}
    for q in (50, 90, 95, 99, 100):
        value = percentile(seconds, q)
        summary[f"p{q}_ms"] = None if value is None else round(value * 1000, 1)
    return summary


@dataclass
class Tally:
    """Outcomes of the requests finished within one period (or the whole run)."""

    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    def add(self, outcome: str, seconds: float) -> None:
        if outcome == "200":
            self.ok += 1
            self.latencies.append(seconds)
        else:
            self.errors[outcome] = self.errors.get(outcome, 0) + 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


async def send(client: httpx.AsyncClient, note: str) -> tuple[str, float]:
    """One request; the outcome is the status code, or the transport error's class name."""
    started = time.monotonic()
    try:
        response = await client.post("/extract", json={"documents": [{"id": "soak", "text": note}]})
        outcome = str(response.status_code)
        if response.status_code == 200 and len(response.json()["documents"]) != 1:
            outcome = "wrong_answer"
    except httpx.HTTPError as error:
        outcome = type(error).__name__
    return outcome, time.monotonic() - started


async def saturation(url: str, notes: list[str], concurrency: int, seconds: float, seed: int) -> dict[str, Any]:
    """Closed loop: ``concurrency`` clients, each sending its next note as soon as the last is answered."""
    rng = random.Random(seed)
    tally = Tally()
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:

        async def worker() -> None:
            while time.monotonic() < stop_at:
                outcome, took = await send(client, rng.choice(notes))
                tally.add(outcome, took)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return {"concurrency": concurrency, "seconds": round(elapsed, 1), "ok": tally.ok, "errors": tally.errors,
            "requests_per_s": round(tally.ok / elapsed, 3), **latency_summary(tally.latencies)}


async def soak(server: ServerProcess, notes: list[str], rate: float, seconds: float, max_in_flight: int,
               seed: int) -> dict[str, Any]:
    """Open loop: Poisson arrivals at ``rate`` per second for ``seconds``; at most ``max_in_flight`` outstanding.

    An arrival that finds ``max_in_flight`` requests outstanding is not sent and counts as an error
    (``client_backlog``): the server fell behind the offered load.
    """
    rng = random.Random(seed)
    total, period = Tally(), Tally()
    timeline: list[dict[str, Any]] = []
    in_flight: set[asyncio.Task[None]] = set()
    sent = 0
    limits = httpx.Limits(max_connections=max_in_flight + 4, max_keepalive_connections=max_in_flight + 4)
    async with httpx.AsyncClient(base_url=server.url, timeout=REQUEST_TIMEOUT_S, limits=limits) as client:

        async def one(note: str) -> None:
            outcome, took = await send(client, note)
            total.add(outcome, took)
            period.add(outcome, took)

        started = time.monotonic()
        next_arrival = started
        next_sample = started + SAMPLE_EVERY_S
        stop_at = started + seconds
        while True:
            now = time.monotonic()
            if now >= next_sample or now >= stop_at:
                timeline.append({
                    "t_s": round(now - started, 1), "rss_mb": round(server.rss() / 2**20, 2),
                    "sent": sent, "in_flight": len(in_flight), "ok": period.ok, "errors": period.error_count,
                    "achieved_per_s": round(period.ok / SAMPLE_EVERY_S, 3), **latency_summary(period.latencies),
                    "loadavg_1m": round(os.getloadavg()[0], 2),
                })
                period = Tally()
                next_sample += SAMPLE_EVERY_S
            if now >= stop_at:
                break
            if now >= next_arrival:
                if len(in_flight) >= max_in_flight:
                    total.add("client_backlog", 0.0)
                    period.add("client_backlog", 0.0)
                else:
                    task = asyncio.create_task(one(rng.choice(notes)))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    sent += 1
                next_arrival += rng.expovariate(rate)
                continue
            await asyncio.sleep(min(next_arrival, next_sample, stop_at) - now)
        if in_flight:  # answered within the request timeout, or counted as errors
            await asyncio.wait(in_flight, timeout=REQUEST_TIMEOUT_S + 5)
        elapsed = time.monotonic() - started
    return {"offered_per_s": rate, "seconds": round(elapsed, 1), "sent": sent, "ok": total.ok,
            "errors": total.errors, "error_count": total.error_count,
            "achieved_per_s": round(total.ok / seconds, 3), "latency": latency_summary(total.latencies),
            "timeline": timeline}


def rss_growth(timeline: list[dict[str, Any]], warm_up_s: float) -> dict[str, Any]:
    """Growth of VmRSS from the first sample after the warm-up to the last, and the post-warm-up peak."""
    after = [sample for sample in timeline if sample["t_s"] >= warm_up_s]
    if len(after) < 2:
        return {"baseline_mb": None, "final_mb": None, "peak_mb": None, "growth_pct": None, "slope_mb_per_h": None}
    baseline, final = after[0]["rss_mb"], after[-1]["rss_mb"]
    times = [sample["t_s"] for sample in after]
    values = [sample["rss_mb"] for sample in after]
    mean_t, mean_v = sum(times) / len(times), sum(values) / len(values)
    spread = sum((t - mean_t) ** 2 for t in times)
    slope = sum((t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True)) / spread if spread else 0.0
    return {"baseline_mb": baseline, "final_mb": final, "peak_mb": max(values),
            "growth_pct": round(100 * (final - baseline) / baseline, 2),
            "peak_growth_pct": round(100 * (max(values) - baseline) / baseline, 2),
            "slope_mb_per_h": round(slope * 3600, 2)}


# --- the machine ------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    memory = None
    with contextlib.suppress(OSError, AttributeError):
        found = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        memory = round(int(found.group(1)) / 2**20, 1) if found else None
    versions = {"python": platform.python_version()}
    for package in ("clinx-serve", "onnxruntime", "tokenizers", "numpy", "fastapi", "uvicorn", "starlette",
                    "pydantic", "httpx"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[package] = importlib.metadata.version(package)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True)
    return {
        "cpu_model": cpu,
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gib": memory,
        "kernel": platform.release(),
        "versions": versions,
        "git_commit": commit.stdout.strip() + (" (uncommitted changes)" if dirty.stdout.strip() else ""),
        "loadavg_at_start": [round(value, 2) for value in os.getloadavg()],
    }


# --- report -----------------------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    m, soak_run, growth = report["machine"], report["soak"], report["rss"]
    sat_rows = "\n".join(
        f"| {row['concurrency']} | {row['requests_per_s']} | {row['p50_ms']} | {row['p99_ms']} | "
        f"{sum(row['errors'].values())} |" for row in report["saturation"]
    )
    timeline_rows = "\n".join(
        f"| {s['t_s']} | {s['rss_mb']} | {s['achieved_per_s']} | {s['in_flight']} | {s['p50_ms']} | {s['p99_ms']} | "
        f"{s['errors']} | {s['loadavg_1m']} |" for s in soak_run["timeline"]
    )
    latency = soak_run["latency"]
    errors = f"{soak_run['error_count']} {soak_run['errors'] or ''}"
    rss = (f"{growth['growth_pct']} % ({growth['baseline_mb']} -> {growth['final_mb']} MB; "
           f"peak {growth['peak_mb']} MB, trend {growth['slope_mb_per_h']} MB/h)")
    notes = report["notes"]
    verdict_errors = "PASS" if soak_run["error_count"] == 0 and report["server"]["error_log_lines"] == 0 else "FAIL"
    growth_pct = growth["growth_pct"]
    verdict_rss = "PASS" if growth_pct is not None and growth_pct < report["settings"]["rss_growth_target_pct"] \
        else "FAIL"
    versions = ", ".join(f"{name} {version}" for name, version in m["versions"].items())
    return f"""# Soak test: demo bundle, {report['settings']['duration_s'] / 60:.0f} minutes at \
{report['settings']['load_fraction']:.0%} of saturation

Produced by `benchmarks/soak.py` on {report['finished_at']} (UTC). The machine may be shared (load average
at the start below): figures are this machine's, at that moment.

## Verdict

| check | target | measured | |
|---|---|---|---|
| errors (non-200, transport errors, client backlog) | 0 | {errors} | {verdict_errors} |
| server error log lines | 0 | {report['server']['error_log_lines']} {report['server']['error_log_messages'] or ''} | |
| server's answers on /extract (by status) | | {report['server']['extract_statuses']} | |
| RSS growth after the {report['settings']['warm_up_s']:.0f} s warm-up (first to last sample) | \
< {report['settings']['rss_growth_target_pct']} % | {rss} | {verdict_rss} |

## Machine

- CPU: {m['cpu_model']}; {m['logical_cpus']} logical CPUs ({m['usable_cpus']} usable); {m['memory_gib']} GiB memory;
  kernel {m['kernel']}
- Load average at the start (1, 5, 15 min): {', '.join(map(str, m['loadavg_at_start']))}; at the end:
  {', '.join(map(str, report['loadavg_at_end']))}
- Versions: {versions}
- Commit: {m['git_commit']}
- Bundle: `{report['settings']['bundle']}` ({report['server']['model']}, variant {report['server']['variant']} on \
{report['server']['provider']}); server settings: defaults (max_batch_tokens, max_queue_delay_ms, ...)

## Saturation (closed loop, {report['settings']['saturation_s']:.0f} s per level, MTSamples notes, one per request)

| clients | requests/s | p50 ms | p99 ms | errors |
|---|---|---|---|---|
{sat_rows}

Saturation throughput: **{report['saturation_per_s']} requests/s**; soak load (open loop, Poisson arrivals):
**{soak_run['offered_per_s']:.3f} requests/s**, at most {report['settings']['max_in_flight']} in flight.

## Soak ({soak_run['seconds']:.0f} s)

Sent {soak_run['sent']}, answered 200: {soak_run['ok']} ({soak_run['achieved_per_s']} requests/s); latency p50
{latency['p50_ms']} ms, p90 {latency['p90_ms']} ms, p95 {latency['p95_ms']} ms, p99 {latency['p99_ms']} ms, max
{latency['p100_ms']} ms. Notes: {notes['count']} MTSamples notes, {notes['mean_chars']:.0f} characters on average
(max {notes['max_chars']}).

Every {SAMPLE_EVERY_S:.0f} s (latencies of the requests finished in that period):

| t (s) | server RSS (MB) | answered/s | in flight | p50 ms | p99 ms | errors | load 1m |
|---|---|---|---|---|---|---|---|
{timeline_rows}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES)
    parser.add_argument("--duration", type=float, default=600.0, help="soak seconds (default 600)")
    parser.add_argument("--warm-up", type=float, default=60.0, help="soak seconds before the RSS baseline")
    parser.add_argument("--saturation-seconds", type=float, default=20.0, help="per concurrency level")
    parser.add_argument("--concurrency", default="2,4,8", help="closed-loop levels for the saturation run")
    parser.add_argument("--load-fraction", type=float, default=0.8)
    parser.add_argument("--max-in-flight", type=int, default=64)
    parser.add_argument("--rss-target-pct", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "soak")
    args = parser.parse_args(argv)

    if not (args.bundle / "manifest.json").is_file():
        print(f"no bundle at {args.bundle}: build the demo bundle first with `make demo`", file=sys.stderr)
        return 2
    if not args.notes.is_file():
        print(f"MTSamples notes not found at {args.notes}", file=sys.stderr)
        return 2
    notes = [json.loads(line)["text"] for line in args.notes.read_text(encoding="utf-8").splitlines() if line.strip()]
    notes = [note for note in notes if note.strip()]
    described = machine()
    print(f"machine: {described['cpu_model']}, {described['usable_cpus']} CPUs, load {described['loadavg_at_start']}")

    work = Path(tempfile.mkdtemp(prefix="clinx-soak-"))
    server = ServerProcess.launch(args.bundle, work, log_name="server.log", log_level="info")
    print(f"server log: {server.log_path}")
    try:
        server.wait_ready(300.0)
        info = httpx.get(server.url + "/info", timeout=10).json()["models"][0]
        levels = [int(level) for level in args.concurrency.split(",")]
        asyncio.run(saturation(server.url, notes, levels[0], min(5.0, args.saturation_seconds), args.seed))
        rows = []
        for level in levels:
            rows.append(asyncio.run(saturation(server.url, notes, level, args.saturation_seconds, args.seed)))
            print(f"saturation, {level} clients: {rows[-1]['requests_per_s']} requests/s, "
                  f"p50 {rows[-1]['p50_ms']} ms, errors {rows[-1]['errors']}")
        best = max(row["requests_per_s"] for row in rows)
        rate = args.load_fraction * best
        print(f"soak: {rate:.3f} requests/s for {args.duration:.0f} s")
        run = asyncio.run(soak(server, notes, rate, args.duration, args.max_in_flight, args.seed + 1))
        statuses = server.statuses()
        error_lines = server.error_lines()
    finally:
        exit_code = server.stop()
    growth = rss_growth(run["timeline"], args.warm_up)
    report = {
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "machine": described,
        "loadavg_at_end": [round(value, 2) for value in os.getloadavg()],
        "settings": {"bundle": os.path.relpath(args.bundle, ROOT), "duration_s": args.duration,
                     "warm_up_s": args.warm_up, "saturation_s": args.saturation_seconds,
                     "load_fraction": args.load_fraction, "max_in_flight": args.max_in_flight,
                     "rss_growth_target_pct": args.rss_target_pct, "seed": args.seed},
        "server": {"model": f"{info['name']} {info['version']}", "variant": info["variant"],
                   "provider": info["execution_provider"], "error_log_lines": sum(error_lines.values()),
                   "error_log_messages": error_lines, "extract_statuses": statuses,
                   "exit_code_after_sigterm": exit_code},
        "notes": {"count": len(notes), "mean_chars": sum(map(len, notes)) / len(notes),
                  "max_chars": max(map(len, notes))},
        "saturation": rows,
        "saturation_per_s": best,
        "soak": run,
        "rss": growth,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    print(f"errors {run['error_count']} {run['errors']}; latency {run['latency']}; RSS {growth}")
    print(f"wrote {args.out.with_suffix('.md')} and {args.out.with_suffix('.json')}")
    ok = run["error_count"] == 0 and not error_lines and growth["growth_pct"] is not None \
        and growth["growth_pct"] < args.rss_target_pct
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
