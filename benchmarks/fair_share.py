"""Fair share and admission by deadline, measured on a real server (issue 20).

One ``clinx serve`` with two named clients: ``research`` floods long notes, ``ehr`` (an interface
engine) sends one short note a second. Phases, each load from ``benchmarks/loadgen.py`` in its own
process:

1. **lone**: ``ehr`` alone, one short note a second: its lone latency.
2. **capacity**: ``research``'s long notes, closed loop: the requests per second the server completes.
3. **flood**: ``research`` at 5x that rate (Poisson arrivals) while ``ehr`` keeps one short note a
   second: ``ehr``'s p99 against its lone p99 (target: within 3x), 429s of each client.
4. **overload**: one client at 3x capacity with a deadline (``timeout_s``) far below the queue that load
   would build: the 200 / 429 / 504 counts (target: no 504; the queue refuses at once instead).

Writes ``benchmarks/results/fair-share.md`` and ``.json`` with the machine's description.

    make demo   # the demo bundle, models/demo
    .venv/bin/python benchmarks/fair_share.py                       # about 5 minutes
    .venv/bin/python benchmarks/fair_share.py --flood-s 20 --quick  # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.keys import add_key  # noqa: E402
from benchmarks.server_process import ServerProcess  # noqa: E402
from benchmarks.soak import DEFAULT_NOTES, machine, percentile  # noqa: E402

PY = sys.executable
SHORT_CHARS = 200
LONG_CHARS = (4000, 8000)
TIMEOUT_S = 10.0  # the overload phase's deadline


def read_notes(path: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(long notes: 40 of 4,000-8,000 characters, the longest first; short notes: the first sentences, up to
    200 characters, of 40 of the shortest)."""
    notes = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    ordered = sorted(notes, key=lambda note: -len(note["text"]))
    long = [{"id": f"long-{i}", "text": note["text"]}
            for i, note in enumerate(n for n in ordered if LONG_CHARS[0] <= len(n["text"]) <= LONG_CHARS[1])][:40]
    short = []
    for i, note in enumerate(ordered[-80::2]):
        text = note["text"][:SHORT_CHARS]
        cut = text.rfind(". ")
        short.append({"id": f"short-{i}", "text": text[: cut + 1] if cut > 40 else text})
    return long, short


def plan(server: ServerProcess, notes: list[dict[str, str]], key: str, **fields: Any) -> dict[str, Any]:
    return {"url": server.url, "notes": notes, "headers": {"Authorization": f"Bearer {key}"},
            "server_pid": server.process.pid, "timeout_s": 120.0, **fields}


def run_loads(plans: dict[str, dict[str, Any]], work: Path) -> dict[str, dict[str, Any]]:
    """Each plan in its own loadgen process, all at once; their results by name."""
    children = {}
    for name, content in plans.items():
        (work / f"{name}.plan.json").write_text(json.dumps(content), encoding="utf-8")
        children[name] = subprocess.Popen([PY, str(HERE / "loadgen.py"), str(work / f"{name}.plan.json"),
                                           str(work / f"{name}.result.json")], cwd=ROOT,
                                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    for name, child in children.items():
        if child.wait(timeout=3600) != 0:
            raise SystemExit(f"loadgen {name} failed with {child.returncode}")
    return {name: json.loads((work / f"{name}.result.json").read_text(encoding="utf-8")) for name in plans}


def completed_per_s(result: dict[str, Any]) -> float:
    """Requests answered 200 within the measurement window, per second (a closed loop's throughput)."""
    begin, end = result["window"]
    return len([r for r in result["records"] if r["status"] == 200 and begin <= r["end"] <= end]) / (end - begin)


def batch_ms(result: dict[str, Any]) -> float | None:
    """The model's mean time per batch within the measurement window (the server's metrics, sampled)."""
    samples = [s for s in result["samples"] if s.get("label") in ("window_start", "window_end") and s.get("metrics")]
    if len(samples) != 2:
        return None
    first, last = (sample["metrics"] for sample in samples)
    batches = last.get("clinx_batch_size_count", 0) - first.get("clinx_batch_size_count", 0)
    seconds = last.get("clinx_inference_duration_seconds_sum", 0) - first.get("clinx_inference_duration_seconds_sum", 0)
    return round(seconds / batches * 1000, 1) if batches else None


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Requests started in the measurement window: counts by status (429 by reason) and latency of the 200s."""
    begin, end = result["window"]
    records = [r for r in result["records"] if begin <= r["start"] <= end and r["status"] != -3]
    statuses: dict[str, int] = {}
    for record in records:
        key = str(record["status"]) + (f" ({record['reason']})" if record.get("reason") else "")
        statuses[key] = statuses.get(key, 0) + 1
    seconds = [r["end"] - r["start"] for r in records if r["status"] == 200]
    queued = [r["queue_ms"] / 1000 for r in records if r["status"] == 200 and "queue_ms" in r]
    return {"requests": len(records), "statuses": statuses, "ok": len(seconds),
            "ok_per_s": round(len(seconds) / (end - begin), 3), "latency": percentiles_ms(seconds),
            "queue_wait": percentiles_ms(queued)}


def percentiles_ms(seconds: list[float]) -> dict[str, float | None]:
    return {f"p{q}_ms": (None if (value := percentile(seconds, q)) is None else round(value * 1000, 1))
            for q in (50, 90, 99, 100)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES)
    parser.add_argument("--flood-s", type=float, default=60.0, help="length of the flood and overload phases")
    parser.add_argument("--quick", action="store_true", help="shorter lone and capacity phases")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "fair-share")
    args = parser.parse_args(argv)
    if not (args.bundle / "manifest.json").is_file():
        raise SystemExit(f"no bundle at {args.bundle} (make demo builds models/demo)")
    long, short = read_notes(args.notes)
    described = machine()
    print(f"machine: {described['cpu_model']}, {described['usable_cpus']} CPUs, load {described['loadavg_at_start']}")
    with tempfile.TemporaryDirectory(prefix="clinx-fair-") as scratch:
        work = Path(scratch)
        keys = work / "keys"
        flood_key, ehr_key, solo_key = add_key(keys, "research"), add_key(keys, "ehr"), add_key(keys, "batch")
        server = ServerProcess.launch(args.bundle, work, log_name="server.log", api_keys_file=keys,
                                      log_level="warning", audit_log_level="off")
        try:
            server.wait_ready(300)
            lone_s, capacity_s = (20.0, 15.0) if args.quick else (40.0, 30.0)
            print("phase lone")
            lone = run_loads({"ehr": plan(server, short, ehr_key, mode="open", rate=1.0, warmup_s=2,
                                          duration_s=lone_s)}, work)["ehr"]
            print("phase capacity")
            capacity = run_loads({"research": plan(server, long, flood_key, mode="closed", concurrency=8,
                                                   warmup_s=5, duration_s=capacity_s)}, work)["research"]
            capacity_rps = round(completed_per_s(capacity), 3)
            if not capacity_rps:
                raise SystemExit("no long note completed in the capacity phase: lengthen it, or shorten the notes")
            print(f"capacity: {capacity_rps} long notes/s; phase flood at 5x")
            flood = run_loads({
                "research": plan(server, long, flood_key, mode="open", rate=5 * capacity_rps, warmup_s=5,
                                 duration_s=args.flood_s, max_in_flight=2048, drain_s=60, seed=1),
                "ehr": plan(server, short, ehr_key, mode="open", rate=1.0, warmup_s=5, duration_s=args.flood_s,
                            seed=2, drain_s=60),
            }, work)
            time.sleep(5)  # let the flood's admitted work drain before the next phase
            print("phase overload")
            overload = run_loads({"batch": plan(server, long, solo_key, mode="open", rate=3 * capacity_rps,
                                                warmup_s=5, duration_s=args.flood_s, max_in_flight=2048,
                                                drain_s=60, seed=3, extra_body={"timeout_s": TIMEOUT_S})},
                                 work)["batch"]
            statuses = server.statuses()
        finally:
            server.stop()
    report = {
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "machine": described,
        "loadavg_at_end": [round(value, 2) for value in os.getloadavg()],
        "bundle": str(args.bundle.relative_to(ROOT) if args.bundle.is_relative_to(ROOT) else args.bundle.name),
        "settings": "defaults (CLINX_MAX_QUEUE_TOKENS 262144, CLINX_REQUEST_TIMEOUT_S 60, fair share on), "
                    f"overload timeout_s {TIMEOUT_S:g}",
        "notes": {"long_chars_mean": round(sum(len(n["text"]) for n in long) / len(long)),
                  "short_chars_mean": round(sum(len(n["text"]) for n in short) / len(short))},
        "capacity_long_notes_per_s": capacity_rps,
        "lone": summary(lone),
        "flood": {name: summary(result) for name, result in flood.items()},
        "flood_batch_ms": batch_ms(flood["ehr"]),
        "overload": summary(overload),
        "server_statuses": statuses,
    }
    ratio = None
    lone_p99, flood_p99 = report["lone"]["latency"]["p99_ms"], report["flood"]["ehr"]["latency"]["p99_ms"]
    if lone_p99 and flood_p99:
        ratio = round(flood_p99 / lone_p99, 2)
    report["ehr_p99_ratio"] = ratio
    from benchmarks.results_io import save_results

    print(save_results(args.output, report, markdown))
    return 0


def markdown(report: dict[str, Any]) -> str:
    m, lone, flood, overload = report["machine"], report["lone"], report["flood"], report["overload"]

    def row(name: str, s: dict[str, Any]) -> str:
        latency, queued = s["latency"], s["queue_wait"]
        return (f"| {name} | {s['requests']} | {', '.join(f'{k}: {v}' for k, v in sorted(s['statuses'].items()))} "
                f"| {latency['p50_ms']} | {latency['p99_ms']} | {latency['p100_ms']} | {queued['p50_ms']} "
                f"| {queued['p99_ms']} |")

    return f"""# Fair share and admission by deadline

Produced by `benchmarks/fair_share.py` on {report['finished_at']} (UTC) with bundle `{report['bundle']}`,
server settings: {report['settings']}. Long notes: 40 MTSamples notes of 4,000-8,000 characters
(mean {report['notes']['long_chars_mean']}); short notes: first sentences (mean
{report['notes']['short_chars_mean']} characters).

- CPU: {m['cpu_model']}; {m['usable_cpus']} usable CPUs; {m['memory_gib']} GiB; commit {m['git_commit']}
- Load average at the start (1, 5, 15 min): {', '.join(map(str, m['loadavg_at_start']))}; at the end:
  {', '.join(map(str, report['loadavg_at_end']))} (a shared machine: figures are this machine's, at that moment)

Capacity: {report['capacity_long_notes_per_s']} long notes/s (closed loop, 8 clients).

| phase / client | requests | statuses | p50 ms | p99 ms | max ms | queue wait p50 ms | queue wait p99 ms |
|---|---|---|---|---|---|---|---|
{row("lone: ehr, 1 short note/s", lone)}
{row("flood: research, long notes at 5x capacity", flood["research"])}
{row("flood: ehr, 1 short note/s", flood["ehr"])}
{row(f"overload: batch, long notes at 3x capacity, timeout_s {TIMEOUT_S:g}", overload)}

- **ehr's p99 in the flood / its lone p99: {report['ehr_p99_ratio']}** (target: within 3). A batch
  is never interrupted: a note that arrives while one runs waits for it, so in a flood the floor of
  ehr's latency is its lone latency plus up to one of research's batches (here {report['flood_batch_ms']} ms
  of model time on average). The queue-wait columns (the server's `X-Clinx-Queue-Time-Ms`) separate
  the scheduler's share of a latency from the rest (HTTP, tokenising, decoding, a busy CPU).
- ehr's 429s in the flood: {sum(v for k, v in flood['ehr']['statuses'].items() if k.startswith('429'))};
  research's: {sum(v for k, v in flood['research']['statuses'].items() if k.startswith('429'))}.
- Overload: {overload['statuses'].get('504', 0)} x 504 among {overload['requests']} requests
  (target 0: a request the queue cannot finish in time gets 429 at once).
- The server's own count over the run (`clinx_requests_total` by status): {report['server_statuses']}.
"""


if __name__ == "__main__":
    raise SystemExit(main())
