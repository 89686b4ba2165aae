"""The self-check's results: each step's result filed like ``benchmarks/run.py``'s records, and a short report.

``results.json`` keeps every step (failures with the end of their log) and, per model, ``ceiling``,
``clinx`` and ``baseline`` keyed like run.py's results (variant, then level ``c1``/``c32``), so the
benchmark report can take them in; ``report.md`` is a markdown fragment (``##`` headings) to paste
or include.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.workload import machine_limits


def file_result(results: dict[str, Any], step: Any, kit: dict[str, Any]) -> None:
    """Put a finished step's result where run.py's records keep it."""
    record = step.record
    if record.get("status") != "ok":
        return
    result = record["result"]
    model = results["models"].get(step.model or "", {})
    if step.kind == "provider":
        results["provider"] = result
    elif step.kind == "ceiling":
        model.setdefault("ceiling", {})[step.variant] = result
    elif step.kind == "serve":
        model.setdefault("clinx", {})[step.variant] = result["levels"]
        model.setdefault("server", {})[step.variant] = {"ready_s": result["ready_s"], "info": result["info"]}
    elif step.kind == "naive":
        model["baseline"] = result["levels"]
        model["baseline_note"] = f"{result['weights']}; torch {result['torch']}"
    elif step.kind == "matrix":
        results["machine"] = result
    machine = results.get("machine")
    for entry in results["models"].values():
        if machine and entry.get("flops_per_token"):
            entry["machine_limit_model_tokens_per_s"] = machine_limits(machine, entry["flops_per_token"])


def write(results: dict[str, Any], out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    (out / "report.md").write_text(markdown(results), encoding="utf-8")


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:,.0f} ms"


def machine_line(results: dict[str, Any]) -> str:
    gpu = results.get("gpu", {})
    gpus = gpu.get("gpus") or []
    described = "; ".join(", ".join(row) for row in gpus) if gpus else f"no GPU ({gpu.get('error', 'none found')})"
    env = results.get("environment", {})
    provider = results.get("provider", {})
    versions = env.get("versions", {})
    return (f"GPU: {described} ({', '.join(gpu.get('fields', []))}). CPU: {env.get('cpu', '?')}, "
            f"{env.get('cores_available', '?')} cores, {env.get('memory', '?')}. Python {env.get('python', '?')}; "
            f"onnxruntime {provider.get('onnxruntime', '?')} ({provider.get('onnxruntime_file', '?')}); "
            f"torch {versions.get('torch', '-')}; transformers {versions.get('transformers', '-')}.")


def steps_table(results: dict[str, Any]) -> list[str]:
    lines = ["| step | status | seconds | note |", "|---|---|---|---|"]
    for step in results.get("shell_steps", []) + results.get("steps", []):
        note = step.get("reason") or step.get("detail") or ""
        tail = (step.get("log_tail") or "").strip().splitlines()
        if step.get("status") in ("failed", "timeout") and tail:
            note += f": `{tail[-1][:160]}`"
        lines.append(f"| {step['name']} | {step['status']} | {step.get('seconds', '')} | {note.replace('|', '/')} |")
    return lines


def throughput_table(results: dict[str, Any]) -> list[str]:
    levels = [f"c{value}" for value in results.get("settings", {}).get("concurrency", [1, 32])]
    low, high = levels[0], levels[-1]
    lines = [f"| model | variant | ceiling (model tok/s) | serve {low}: p50 latency, notes/s | serve {high}: model "
             "tok/s (% of ceiling), notes/s, p50 / p99 latency | matmul limit (model tok/s) |",
             "|---|---|---|---|---|---|"]
    for name, model in results.get("models", {}).items():
        limits = model.get("machine_limit_model_tokens_per_s", {})
        for variant in model["variants"]:
            ceiling = model.get("ceiling", {}).get(variant, {}).get("real_tokens_per_s")
            served = model.get("clinx", {}).get(variant, {})
            one, many = served.get(low, {}), served.get(high, {})
            share = (f" ({many['model_tokens_per_s'] / ceiling:.0%})"
                     if ceiling and many.get("model_tokens_per_s") else "")
            lines.append(
                f"| {name} | {variant} | {_number(ceiling)} | {_ms(one.get('latency_p50_s'))}, "
                f"{_number(one.get('notes_per_s'), 1)} | {_number(many.get('model_tokens_per_s'))}{share}, "
                f"{_number(many.get('notes_per_s'), 1)}, {_ms(many.get('latency_p50_s'))} / "
                f"{_ms(many.get('latency_p99_s'))} | {_number(limits.get(variant))} |")
        naive = model.get("baseline", {}).get("c1")
        if naive:
            lines.append(f"| {name} | naive (torch fp32) | - | {_ms(naive.get('latency_p50_s'))}, "
                         f"{_number(naive.get('notes_per_s'), 1)} | - | - |")
    return lines


def markdown(results: dict[str, Any]) -> str:
    gpu_rows = results.get("gpu", {}).get("gpus") or [["no GPU"]]
    settings = results.get("settings", {})
    lines = [f"## GPU self-check: {gpu_rows[0][0]} ({results.get('started', '')})", "",
             machine_line(results), "",
             f"Device `{settings.get('device')}`; time box {settings.get('time_box_s')} s, used "
             f"{results.get('elapsed_s', '?')} s; {settings.get('level_s')} s per load level; kit built "
             f"{results['kit'].get('built', '?')} from commit {results['kit'].get('commit', '?')}.", "",
             "### Steps", "", *steps_table(results), ""]
    provider = results.get("provider")
    if provider:
        lines += ["### ONNX Runtime's provider", "",
                  f"Session providers {provider.get('session_providers')}, served as {provider.get('provider')} "
                  f"{provider.get('variant')}; preload_dlls: {provider.get('preload_dlls', 'not called (cpu)')}; "
                  f"session in {_number(provider.get('session_s'), 2)} s, first batch in "
                  f"{_number(provider.get('first_run_s'), 2)} s; CUDA libraries loaded: "
                  f"{len(provider.get('cuda_libraries', []))}.", ""]
    lines += ["### Throughput on the sample notes", "", *throughput_table(results), ""]
    for name, model in results.get("models", {}).items():
        work = model.get("workload", {})
        lines.append(f"- `{name}`: {model['description']}; {work.get('notes')} notes, "
                     f"{_number(work.get('model_tokens_per_note'))} model tokens per note."
                     + (f" Naive baseline: {model['baseline_note']}." if model.get("baseline_note") else ""))
    machine = results.get("machine")
    if machine:
        rates = ", ".join(f"{key.removesuffix('_gflops')} {value:,.0f} GFLOP/s" for key, value in
                          machine.items() if key.endswith("_gflops"))
        lines += ["", f"Measured matrix rates: {rates}."]
    return "\n".join(lines) + "\n"
