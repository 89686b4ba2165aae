"""What an ideal server would show in the half-load test: a queueing simulation, no HTTP, no overhead.

The half-load target (p99 latency at half the saturation load <= 3x the lone latency of the same note
size) is also a property of the queue, not only of the software. This replays the test on a model of
a perfect server: one model, one window at a time (a running window is not interrupted, as on the CPU),
each window taking exactly its tokens / the model-only ceiling's tokens/s from ``results.json``, and
nothing else costing time. Requests arrive as a Poisson process at half the ceiling's notes/s, cycling
through the benchmark's notes in its order. Policies: FIFO; shortest remaining work first (SRPT, no
starvation bound); SRPT where a request older than 1 s goes first (clinx-serve's rule until
2026-11-25: ``clinx-hard-age``); and clinx-serve's (SRPT with the work halved for every
``CLINX_MAX_REORDER_MS`` waited).

Reported per quartile of note size, as the benchmark does: p99 time in the system / p99 lone time of
the same notes, over runs as long as the benchmark's half-load run (many seeds: how much one run can
vary) and over one long run (the value those runs scatter around).

    .venv/bin/python benchmarks/queue_floor.py --models demo,xlmr-base
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.settings import Settings  # noqa: E402
from benchmarks import bundles  # noqa: E402
from benchmarks.levels import percentile, size_quartiles  # noqa: E402
from benchmarks.profiles import PROFILES  # noqa: E402

MAX_AGE_S = 1.0  # the previous rule: a request older than this went first
HALF_LIFE_S = Settings.model_fields["max_reorder_ms"].default / 1000  # the server's default
POLICIES = ("fifo", "srpt", "clinx-hard-age", "clinx")


@dataclass
class Request:
    arrival: float
    note: int = field(compare=False)
    windows: list[float] = field(compare=False)  # service seconds of each window, in order
    queued: float = field(compare=False, default=0.0)  # seconds of work not started yet

    def __post_init__(self) -> None:
        self.queued = sum(self.windows)


def choose(waiting: list[Request], now: float, policy: str) -> Request:
    """The request whose next window runs; ``waiting`` is in arrival order."""
    if policy == "fifo" or (policy == "clinx-hard-age" and now - waiting[0].arrival >= MAX_AGE_S):
        return waiting[0]
    if policy == "clinx":  # the least queued work, halved for every HALF_LIFE_S the request has waited
        return min(waiting, key=lambda request: request.queued * 0.5 ** ((now - request.arrival) / HALF_LIFE_S))
    return min(waiting, key=lambda request: request.queued)  # srpt, and clinx-hard-age while nothing is old


def simulate(windows: list[list[float]], rate: float, duration: float, policy: str, seed: int
             ) -> list[tuple[int, float]]:
    """(note, time in system) of every request that arrived within ``duration``."""
    rng = random.Random(seed)
    arrivals: list[Request] = []
    clock, index = 0.0, 0
    while True:
        clock += rng.expovariate(rate)
        if clock > duration:
            break
        note = index % len(windows)
        arrivals.append(Request(clock, note, list(windows[note])))
        index += 1
    done: list[tuple[int, float]] = []
    waiting: list[Request] = []  # requests with windows left, in arrival order
    now, next_arrival = 0.0, 0
    while next_arrival < len(arrivals) or waiting:
        while next_arrival < len(arrivals) and arrivals[next_arrival].arrival <= now:
            waiting.append(arrivals[next_arrival])
            next_arrival += 1
        if not waiting:
            now = arrivals[next_arrival].arrival
            continue
        chosen = choose(waiting, now, policy)
        service = chosen.windows.pop(0)
        chosen.queued -= service
        now += service
        if not chosen.windows:
            waiting.remove(chosen)
            done.append((chosen.note, now - chosen.arrival))
    return done


def quartile_ratios(done: list[tuple[int, float]], sizes: list[int], alone: list[float]) -> list[dict[str, Any]]:
    return size_quartiles([sizes[note] for note, _ in done], [t for _, t in done], [alone[note] for note, _ in done])


def model_floor(name: str, stored: dict[str, Any], seeds: int, long_s: float, cache: Path) -> dict[str, Any]:
    from app.bundle import verify_bundle
    from app.text.encode import DocumentEncoder

    record = stored["models"][name]
    variant = next(iter(record["half_load"]), "int8")
    ceiling = record["ceiling"][variant]
    tokens_per_s = ceiling["real_tokens_per_s"]
    profile = PROFILES["cpu"][name]
    notes = bundles.read_notes()
    random.Random(8).shuffle(notes)  # the benchmark's order (workload.workload)
    notes = notes[: profile.notes]
    bundle = bundles.paths(name, cache).bundle
    manifest = verify_bundle(bundle)
    encoder = DocumentEncoder.from_file(bundle / manifest.tokenizer.file, manifest.special, manifest.geometry)
    documents = encoder.encode_many([note["text"] for note in notes])
    windows = [[len(encoder.input_ids(d, w)) / tokens_per_s for w in d.windows] for d in documents]
    sizes = [d.token_count for d in documents]
    alone = [sum(w) for w in windows]
    rate = len(notes) / sum(alone) / 2  # half of what the ideal server can do
    result: dict[str, Any] = {"model": name, "variant": variant, "ceiling_tokens_per_s": tokens_per_s,
                              "rate_notes_per_s": rate, "half_load_s": profile.half_load_s, "seeds": seeds,
                              "long_s": long_s, "policies": {}}
    for policy in POLICIES:
        worst = []
        for seed in range(seeds):
            quartiles = quartile_ratios(simulate(windows, rate, profile.half_load_s, policy, seed), sizes, alone)
            worst.append(max(q["ratio"] for q in quartiles))
        long = quartile_ratios(simulate(windows, rate, long_s, policy, 10_000), sizes, alone)
        ordered = sorted(worst)
        result["policies"][policy] = {
            "worst_quartile_short_runs": {"median": statistics.median(worst),
                                          "p10": percentile(ordered, 0.1), "p90": percentile(ordered, 0.9),
                                          "share_above_3x": sum(w > 3 for w in worst) / len(worst)},
            "long_run_quartiles": long,
        }
    return result


def write(results: list[dict[str, Any]], output: Path) -> Path:
    lines = ["# The half-load target on an ideal server (queueing simulation)", "",
             "Reproduce: `.venv/bin/python benchmarks/queue_floor.py --models "
             + ",".join(r["model"] for r in results) + "`. Method: the docstring of `benchmarks/queue_floor.py` "
             "(a perfect server: one window at a time, each taking its tokens / the model-only ceiling's rate, "
             "no HTTP or other overhead; Poisson arrivals at half its capacity).", ""]
    for r in results:
        lines += [f"## {r['model']} ({r['variant']})", "",
                  f"Ceiling {r['ceiling_tokens_per_s']:,.0f} model tokens/s; arrivals {r['rate_notes_per_s']:.3f} "
                  f"notes/s; {r['seeds']} runs of {r['half_load_s']:.0f} s (the benchmark's half-load run) and one "
                  f"of {r['long_s']:,.0f} s.", "",
                  "| policy | worst quartile, runs as long as the benchmark's: median (p10-p90) | runs above 3x | "
                  "long run, p99 loaded / alone per quartile of note size |", "|---|---|---|---|"]
        for policy, p in r["policies"].items():
            short = p["worst_quartile_short_runs"]
            quartiles = ", ".join(f"{q['subwords'][0]}-{q['subwords'][1]}: {q['ratio']:.1f}x"
                                  for q in p["long_run_quartiles"])
            lines.append(f"| {policy} | {short['median']:.1f}x ({short['p10']:.1f}-{short['p90']:.1f}x) | "
                         f"{short['share_above_3x']:.0%} | {quartiles} |")
        lines.append("")
    path = output / "queue-floor.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    (output / "queue-floor.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="demo,xlmr-base")
    parser.add_argument("--results", type=Path, default=HERE / "results" / "results.json")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--long-s", type=float, default=100_000.0)
    parser.add_argument("--cache", type=Path, default=bundles.DEFAULT_CACHE, help="where the bundles were built")
    args = parser.parse_args()
    stored = json.loads(args.results.read_text(encoding="utf-8"))
    names = [name.strip() for name in args.models.split(",") if name.strip()]
    results = [model_floor(name, stored, args.seeds, args.long_s, args.cache) for name in names]
    print(write(results, args.results.parent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
