"""What assertion costs ``POST /extract``: installed size, load time, and p50 per note off / rules / trained.

    .venv/bin/python benchmarks/assertion_cost.py --bundle BUNDLE [--notes 60] [--rounds 3]

A real ``clinx serve`` on 127.0.0.1 (int8 on the CPU). Each MTSamples note (../shared/data/mtsamples)
is posted with ``"assertion": false``, ``"rules"`` and (when the bundle has a classifier) ``"model"``,
one after the other, note by note, in one sitting, so drift on the shared machine hits all alike; the
order of the modes rotates from note to note, so none is always first.
Writes benchmarks/results/assertion-cost.{json,md} with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "mtsamples" / "notes.jsonl"
RESULTS = ROOT / "benchmarks" / "results"
RULE_PACKAGES = ["spacy", "thinc", "negspacy", "blis", "srsly", "cymem", "preshed", "murmurhash", "catalogue",
                 "wasabi", "confection", "weasel", "langcodes", "spacy-legacy", "spacy-loggers", "cloudpathlib",
                 "smart-open", "typer", "typer-slim", "language-data", "marisa-trie"]


def installed_bytes(names: list[str]) -> dict[str, int]:
    sizes = {}
    for name in names:
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        sizes[name] = sum(file.size or 0 for file in distribution.files or [])
    return sizes


def import_seconds(rounds: int) -> list[float]:
    code = ("import time; t = time.perf_counter(); from app.assertion.rules import ContextRules; "
            "i = time.perf_counter(); ContextRules(); print(i - t, time.perf_counter() - i)")
    runs = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
        runs.append([float(part) for part in out.stdout.split()])
    return [statistics.median(run[0] for run in runs), statistics.median(run[1] for run in runs)]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (robust to a busy machine, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--notes", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import httpx

    from app.bundle import read_manifest
    from benchmarks.machine import measure
    from benchmarks.server_process import ServerProcess

    notes = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    notes = notes[:: max(1, len(notes) // args.notes)][: args.notes]
    _, loaded = import_seconds(args.rounds)
    manifest = read_manifest(args.bundle)
    modes: dict[str, object] = {"off": False, "rules": "rules"}
    if manifest.assertion.model is not None:
        modes["trained"] = "model"
    timings: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu: dict[str, list[float]] = {mode: [] for mode in modes}
    entities = {"asserted": 0}
    logs = RESULTS / ".assertion-cost-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with ServerProcess.start(args.bundle, logs, ready_timeout_s=600) as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:
        client.post("/extract", json={"text": notes[0]})
        names = list(modes)
        for round_index in range(args.rounds):
            for index, note in enumerate(notes):
                shift = (round_index * len(notes) + index) % len(names)  # each mode goes first as often
                for mode in names[shift:] + names[:shift]:
                    option = modes[mode]
                    started, used = time.perf_counter(), cpu_seconds(server.pid)
                    response = client.post("/extract", json={"text": note, "assertion": option})
                    timings[mode].append((time.perf_counter() - started) * 1000)
                    cpu[mode].append((cpu_seconds(server.pid) - used) * 1000)
                    response.raise_for_status()
                    if mode == "rules":
                        entities["asserted"] += sum(1 for e in response.json()["documents"][0]["entities"]
                                                    if "assertion" in e)
    sizes = installed_bytes(RULE_PACKAGES)
    figures = {mode: {"p50_ms": statistics.median(values), "p90_ms": percentile(values, 0.9), "n": len(values),
                       "server_cpu_ms_mean": statistics.mean(cpu[mode])}
               for mode, values in timings.items()}
    added = figures["rules"]["p50_ms"] / figures["off"]["p50_ms"] - 1
    added_trained = figures["trained"]["p50_ms"] / figures["off"]["p50_ms"] - 1 if "trained" in figures else None
    result: dict[str, Any] = {
        "bundle": {"name": manifest.name, "base_model": manifest.base_model.rsplit("/", 1)[-1]},
        "notes": len(notes), "rounds": args.rounds, "per_note_ms": figures, "rules_add_p50": added,
        "trained_adds_p50": added_trained,
        "asserted_entities_per_note": entities["asserted"] / (len(notes) * args.rounds),
        "installed_mb": round(sum(sizes.values()) / 1e6, 1), "installed_by_package_mb": {
            name: round(size / 1e6, 1) for name, size in sorted(sizes.items(), key=lambda item: -item[1])},
        "rules_load_s_with_spacy_import": round(loaded, 2),
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cores": os.cpu_count(),
                    "load_average_at_end": os.getloadavg(), "shared": True, **measure(os.cpu_count() or 1)},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "assertion-cost.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    lines = [f"# Assertion: cost on POST /extract ({manifest.name}, {len(notes)} MTSamples notes x {args.rounds} "
             "rounds, int8, CPU)", "",
             "| | p50 ms/note | p90 ms/note | server CPU ms/note (mean) |", "|---|---|---|---|"]
    lines += [f"| {mode} | {row['p50_ms']:.1f} | {row['p90_ms']:.1f} | {row['server_cpu_ms_mean']:.1f} |"
              for mode, row in figures.items()]
    cpu_added = figures["rules"]["server_cpu_ms_mean"] / figures["off"]["server_cpu_ms_mean"] - 1
    result["rules_add_server_cpu"] = cpu_added
    lines += ["", f"Rules add {cpu_added * 100:.1f}% to the server's CPU time per note."]
    if added_trained is not None:
        lines += ["", f"The trained classifier adds {added_trained * 100:.1f}% to the p50."]
    lines += ["", f"Rules add {added * 100:.1f}% to the p50 ({result['asserted_entities_per_note']:.1f} asserted "
              f"entities per note). Rules load (spaCy import included) {loaded:.2f} s, installed "
              f"{result['installed_mb']} MB (spaCy and its libraries, negspacy). Shared 2-core machine, load average "
              f"at the end {os.getloadavg()[0]:.1f}: see assertion-cost.json for the machine."]
    (RESULTS / "assertion-cost.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    (RESULTS / "assertion-cost.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
