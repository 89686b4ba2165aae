"""How long a short note waits behind a long batch on a CPU, under three ways of sharing the model.

The fair-share target (issue 20) compares a short note's latency while another client floods the
queue with its latency alone. A CPU batch cannot be split, so the question is what the short note's
window does while a long window runs: wait for it (one batch at a time, today's default), run beside
it (a second thread on the same session: the two share the cores), or stop it (ONNX Runtime's
``RunOptions.terminate``: the long batch is abandoned and run again afterwards). One process, the
bundle's own session as the server creates it, contenders alternated:

- lone: the short window alone, and the long window alone (model time)
- wait: the short window submitted at a random moment of a long window's run, run after it
- beside: the same, run at once on a second thread
- stop: the same, the long run terminated, the short window run, the long run started again;
  also how long the terminate flag takes to stop a run, and the long window's cost per preemption

    .venv/bin/python benchmarks/short_behind_long.py --bundle models/demo --variant int8

Writes benchmarks/results/short-behind-long.{json,md} with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.bundle import read_manifest, verify_variant  # noqa: E402
from app.engine.runtime import create_session  # noqa: E402
from benchmarks.soak import machine as describe_machine  # noqa: E402


def window(length: int, vocab: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(1000, vocab, size=(1, length), dtype=np.int64)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


def quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered) * 1000, 1),
            "p90": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
            "max": round(ordered[-1] * 1000, 1)}


class LongRunner:
    """A thread running the long window back to back (the flood), optionally stoppable."""

    def __init__(self, session: Any, feeds: dict[str, Any], ort: Any) -> None:
        self.session, self.feeds, self.ort = session, feeds, ort
        self.stop_all = threading.Event()
        self.completed = 0
        self.terminated = 0
        self.options: Any = None
        self.lock = threading.Lock()  # held while a long run is in progress (the "wait" mode)
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop_all.is_set():
            options = self.ort.RunOptions()
            with self.lock:
                self.options = options
                try:
                    self.session.run(["logits"], self.feeds, options)
                    self.completed += 1
                except Exception:  # terminated
                    self.terminated += 1
                self.options = None

    def __enter__(self) -> LongRunner:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_all.set()
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--variant", default="int8")
    parser.add_argument("--long", type=int, default=0, help="long window's subwords (default: the bundle's max_length)")
    parser.add_argument("--short", type=int, default=64, help="short window's subwords")
    parser.add_argument("--samples", type=int, default=30, help="short windows per mode and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "short-behind-long")
    args = parser.parse_args()

    import onnxruntime as ort

    manifest = read_manifest(args.bundle)
    variant = manifest.members[0].variants[args.variant]
    session = create_session(verify_variant(args.bundle, variant))
    vocab = 30000
    long_feeds = window(args.long or manifest.max_length, vocab, 1)
    short_feeds = window(args.short, vocab, 2)
    rng = random.Random(7)

    def run(feeds: dict[str, Any], options: Any = None) -> float:
        started = time.perf_counter()
        session.run(["logits"], feeds, options)
        return time.perf_counter() - started

    for _ in range(5):
        run(long_feeds)
        run(short_feeds)
    results: dict[str, Any] = {"lone_short": [], "lone_long": [], "wait": [], "beside": [], "stop": [],
                               "terminate_delay": [], "long_per_s": {}}

    def flood(mode: str) -> None:
        with LongRunner(session, long_feeds, ort) as runner:
            time.sleep(0.5)
            started_completed, started_at = runner.completed, time.perf_counter()
            for _ in range(args.samples):
                time.sleep(rng.uniform(0.05, 0.4))
                arrived = time.perf_counter()
                if mode == "wait":
                    with runner.lock:
                        session.run(["logits"], short_feeds)
                elif mode == "beside":
                    session.run(["logits"], short_feeds)
                else:  # stop: terminate the long run, run the short window before the long one starts again
                    options = runner.options
                    if options is not None:
                        options.terminate = True
                    with runner.lock:
                        if options is not None:
                            results["terminate_delay"].append(time.perf_counter() - arrived)
                        session.run(["logits"], short_feeds)
                results[mode].append(time.perf_counter() - arrived)
            elapsed = time.perf_counter() - started_at
            results["long_per_s"].setdefault(mode, []).append((runner.completed - started_completed) / elapsed)

    for _ in range(args.rounds):
        results["lone_short"] += [run(short_feeds) for _ in range(args.samples)]
        results["lone_long"] += [run(long_feeds) for _ in range(max(5, args.samples // 3))]
        for mode in ("wait", "beside", "stop"):
            flood(mode)

    long_alone_per_s = 1 / statistics.median(results["lone_long"])
    summary = {
        "machine": describe_machine(),
        "bundle": str(args.bundle), "variant": args.variant,
        "long_subwords": int(long_feeds["input_ids"].shape[1]), "short_subwords": args.short,
        "latency_ms": {key: quantiles(results[key])
                       for key in ("lone_short", "lone_long", "wait", "beside", "stop", "terminate_delay")
                       if results[key]},
        "long_throughput_vs_alone": {mode: round(statistics.mean(rates) / long_alone_per_s, 3)
                                     for mode, rates in results["long_per_s"].items()},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# A short note behind a long batch (CPU)",
        "",
        f"Produced by `benchmarks/short_behind_long.py` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC;"
        f" bundle `{args.bundle.name}` ({args.variant}), long window {summary['long_subwords']} subwords,"
        f" short window {args.short}; {args.rounds} alternating rounds of {args.samples} short windows per mode.",
        "",
        f"- machine: {json.dumps(summary['machine'])}",
        "",
        "| short window | p50 ms | p90 ms | max ms | long windows/s vs alone |",
        "|---|---|---|---|---|",
    ]
    for key, label in (("lone_short", "alone"), ("wait", "waits for the running long window"),
                       ("beside", "runs beside it (second thread, same session)"),
                       ("stop", "stops it (RunOptions.terminate), long window rerun")):
        figures = summary["latency_ms"][key]
        ratio = summary["long_throughput_vs_alone"].get(key, "")
        lines.append(f"| {label} | {figures['p50']} | {figures['p90']} | {figures['max']} | {ratio} |")
    long_ms = summary["latency_ms"]["lone_long"]
    lines += ["", f"Long window alone: p50 {long_ms['p50']} ms. Terminate flag to stopped run: "
              f"p50 {summary['latency_ms'].get('terminate_delay', {}).get('p50')} ms, "
              f"max {summary['latency_ms'].get('terminate_delay', {}).get('max')} ms.", ""]
    args.output.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
