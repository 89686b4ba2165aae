"""The GPU self-check on an air-gapped node, within a time box: what check.sh runs after the install.

Steps, most important first, each in its own process group with its own time limit (never more than
what is left of the box): the CUDA provider initialises; per model the model-only ceiling and
``clinx serve`` at 1 and 32 clients in the GPU's variant (fp16); the GPU's matrix rates; the naive
transformers pipeline on torch; then the other variants (fp32). A step that fails or runs out of time
is recorded with the end of its log, and the next one runs. ``results.json`` is rewritten after every
step, so even a check cut short leaves what it measured; ``report.md`` is the short summary.

    python -m benchmarks.gpu.node_check --kit DIR --out DIR [--device cuda|cpu] [--time-box-s 360]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bundles  # noqa: E402
from benchmarks.environment import environment  # noqa: E402
from benchmarks.gpu import node_report  # noqa: E402
from benchmarks.profiles import max_batch_tokens  # noqa: E402
from benchmarks.workload import flops_per_token, workload  # noqa: E402

KINDS = ("provider", "ceiling", "serve", "matrix", "naive")


@dataclass
class Step:
    name: str
    kind: str
    plan: dict[str, Any]
    max_s: float  # its own time limit
    min_s: float  # not started with less than this left in the box
    model: str | None = None
    variant: str | None = None
    record: dict[str, Any] = field(default_factory=dict)


def variant_order(device: str, available: list[str]) -> list[str]:
    """The variant the server picks on the device first (fp16 on a GPU, int8 or fp32 on a CPU), then the rest."""
    preferred = ("fp16", "fp32", "int8") if device == "cuda" else ("int8", "fp32", "fp16")
    return sorted(available, key=lambda variant: preferred.index(variant) if variant in preferred else 9)


def node_workload(name: str, bundle: Path, skeleton: Path | None, notes_path: Path, count: int) -> dict[str, Any]:
    """The notes, subwords and windows (``benchmarks/workload.py``; the naive windows too, with transformers)."""
    bundles.NOTES = notes_path
    if skeleton is not None and importlib.util.find_spec("transformers") is not None:
        return workload(name, bundle, skeleton, count, quick=False)
    from app.bundle import verify_bundle
    from app.text.encode import DocumentEncoder

    notes = bundles.read_notes(notes_path)
    random.Random(8).shuffle(notes)
    notes = notes[:count]
    manifest = verify_bundle(bundle, set())
    encoder = DocumentEncoder.from_file(bundle / manifest.tokenizer.file, manifest.special, manifest.geometry)
    documents = encoder.encode_many([note["text"] for note in notes])
    windows = [len(encoder.input_ids(d, w)) for d in documents for w in d.windows]
    doc_tokens = [d.token_count for d in documents]
    return {"model": name, "notes": notes, "max_length": manifest.max_length, "doc_tokens": doc_tokens, "summary": {
        "notes": len(notes), "doc_tokens": sum(doc_tokens), "windows": len(windows), "model_tokens": sum(windows),
        "model_tokens_per_note": sum(windows) / len(notes),
        "context_amplification": sum(windows) / max(1, sum(doc_tokens)),
        "window_length_token_weighted": sum(n * n for n in windows) / sum(windows)}}


def plan_steps(kit: dict[str, Any], root: Path, args: argparse.Namespace, works: dict[str, Any]) -> list[Step]:
    """Every step in the order it runs; ``args.steps`` keeps only some kinds."""
    scratch, logs = str(args.work / "scratch"), str(args.out / "logs")
    common = {"device": args.device, "threads": args.threads, "scratch": scratch, "log_dir": logs}
    load = {"level_s": args.level_s, "warmup_s": args.warmup_s, "drain_s": args.drain_s,
            "concurrency": args.concurrency}
    level_cost = len(args.concurrency) * (args.level_s + args.warmup_s + args.drain_s)
    models = {name: model for name, model in kit["models"].items() if name in works}
    if not models:
        return []
    first = next(iter(models))
    steps = [Step("provider", "provider", {**common, "bundle": str(root / models[first]["bundle"]),
                                           "variant": variant_order(args.device, models[first]["variants"])[0]},
                  max_s=120, min_s=10, model=first)]
    later: list[Step] = []
    for name, model in models.items():
        bundle = str(root / model["bundle"])
        texts = [note["text"] for note in works[name]["notes"]]
        for rank, variant in enumerate(variant_order(args.device, model["variants"])):
            tag = f"{name}-{variant}"
            ceiling = Step(f"ceiling:{tag}", "ceiling", {
                **common, "bundle": bundle, "variant": variant, "texts": texts, "repeat": True,
                "max_batch_tokens": max_batch_tokens(args.device, works[name]["max_length"]),
                "duration_s": args.ceiling_s},
                max_s=args.ceiling_s + 120, min_s=args.ceiling_s + 10, model=name, variant=variant)
            serve = Step(f"serve:{tag}", "serve", {**common, **load, "bundle": bundle, "variant": variant,
                                                   "tag": tag, "work": works[name]},
                         max_s=level_cost + 120, min_s=level_cost + 15, model=name, variant=variant)
            (steps if rank == 0 else later).extend([ceiling, serve])
    steps.append(Step("matrix", "matrix", {**common, "seconds": args.matrix_s}, max_s=60 + 8 * args.matrix_s,
                      min_s=10 + 4 * args.matrix_s))
    for name, model in models.items():
        if model.get("checkpoint"):
            cost = args.level_s + args.warmup_s + args.drain_s
            steps.append(Step(f"naive:{name}", "naive", {
                **common, **load, "concurrency": [1], "skeleton": str(root / model["checkpoint"]),
                "tag": f"{name}-naive", "work": works[name]}, max_s=cost + 150, min_s=cost + 30, model=name))
    return [step for step in steps + later if step.kind in args.steps]


def run_step(step: Step, args: argparse.Namespace, deadline: float) -> dict[str, Any]:
    """The step's process, ended with its whole group (servers, load generators) at its time limit."""
    left = deadline - time.monotonic()
    if left < step.min_s:
        return {"status": "skipped", "reason": f"time box: {left:.0f} s left, the step needs about {step.min_s:.0f}"}
    if step.kind == "naive" and importlib.util.find_spec("torch") is None:
        return {"status": "skipped", "reason": "torch is not installed"}
    work = args.work / "steps"
    work.mkdir(parents=True, exist_ok=True)
    safe = step.name.replace(":", "-")
    plan_path, result_path = work / f"{safe}.plan.json", work / f"{safe}.result.json"
    plan_path.write_text(json.dumps(step.plan), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    log_path = args.out / "logs" / f"{safe}.log"
    limit = min(step.max_s, left)
    started = time.monotonic()
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "benchmarks.gpu.node_steps", step.kind, str(plan_path),
                                    str(result_path)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            code: int | None = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            code = None
            _end_group(process)
    record: dict[str, Any] = {"seconds": round(time.monotonic() - started, 1), "limit_s": round(limit),
                              "log": str(log_path.relative_to(args.out))}
    if code == 0 and result_path.is_file():
        record.update(status="ok", result=json.loads(result_path.read_text(encoding="utf-8")))
    else:
        record.update(status="timeout" if code is None else "failed",
                      reason=f"ran past its {limit:.0f} s limit" if code is None else f"exit code {code}",
                      log_tail=_tail(log_path))
    return record


def _end_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, lines: int = 25) -> str:
    text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    return "\n".join(text.splitlines()[-lines:])


def gpu_description() -> dict[str, Any]:
    """nvidia-smi's view of the GPU(s), or why there is none."""
    fields = "name,memory.total,driver_version,clocks.max.sm,power.limit,compute_cap"
    try:
        done = subprocess.run(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader"], capture_output=True,
                              text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as error:
        return {"error": f"nvidia-smi: {type(error).__name__}: {error}"}
    return {"fields": fields.split(","), "gpus": [line.split(", ") for line in done.stdout.strip().splitlines()]}


def shell_steps(path: Path | None) -> list[dict[str, Any]]:
    """check.sh's own steps (verify, join, install), one tab-separated line each."""
    if path is None or not path.is_file():
        return []
    keys = ("name", "status", "seconds", "detail")
    return [dict(zip(keys, line.split("\t"), strict=False)) for line in path.read_text().splitlines() if line]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kit", type=Path, required=True, help="the unpacked kit (kit.json, bundles/, notes.jsonl)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/clinx-gpu-check"))
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda",
                        help="cpu: the dry run (CLINX_DEVICE=cpu, the CPU onnxruntime)")
    parser.add_argument("--time-box-s", type=float, default=360.0, help="all measuring steps together")
    parser.add_argument("--level-s", type=float, default=15.0, help="measured seconds per load level")
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--drain-s", type=float, default=5.0)
    parser.add_argument("--ceiling-s", type=float, default=10.0)
    parser.add_argument("--matrix-s", type=float, default=1.0, help="seconds per measured matrix rate")
    parser.add_argument("--concurrency", default="1,32")
    parser.add_argument("--notes", type=int, default=0, help="notes to use (0: all of the kit's sample)")
    parser.add_argument("--threads", type=int, default=4, help="CPU threads of ONNX Runtime and torch")
    parser.add_argument("--steps", default=",".join(KINDS), help="kinds of step to run: " + ", ".join(KINDS))
    parser.add_argument("--shell-steps", type=Path, help="check.sh's step lines, merged into the results")
    args = parser.parse_args(argv)
    args.concurrency = [int(value) for value in args.concurrency.split(",") if value.strip()]
    args.steps = {kind.strip() for kind in args.steps.split(",") if kind.strip()}
    if args.steps - set(KINDS):
        parser.error(f"unknown steps {sorted(args.steps - set(KINDS))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.monotonic()
    (args.out / "logs").mkdir(parents=True, exist_ok=True)
    kit = json.loads((args.kit / "kit.json").read_text(encoding="utf-8"))
    results: dict[str, Any] = {
        "kit": {key: value for key, value in kit.items() if key != "files"},
        "settings": {key: str(value) if isinstance(value, Path) else sorted(value) if isinstance(value, set) else
                     value for key, value in vars(args).items()},
        "gpu": gpu_description(), "shell_steps": shell_steps(args.shell_steps), "steps": [], "models": {},
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    works: dict[str, Any] = {}
    for name, model in kit["models"].items():
        skeleton = args.kit / model["checkpoint"] if model.get("checkpoint") else None
        count = args.notes or kit["notes"]["count"]
        entry = results["models"][name] = {"description": model["description"], "variants": model["variants"]}
        try:
            works[name] = node_workload(name, args.kit / model["bundle"], skeleton, args.kit / "notes.jsonl", count)
        except Exception as error:  # recorded; the model's steps are left out
            entry["error"] = f"reading the notes with the bundle's tokenizer: {type(error).__name__}: {error}"
            continue
        entry["workload"] = works[name]["summary"]
        if skeleton is not None:
            entry["flops_per_token"] = flops_per_token(skeleton, works[name]["summary"]["window_length_token_weighted"])
    node_report.write(results, args.out)
    deadline = time.monotonic() + args.time_box_s
    for step in plan_steps(kit, args.kit, args, works):
        print(f"[{time.monotonic() - began:5.0f} s] {step.name} ...", flush=True)
        step.record = {"name": step.name, **run_step(step, args, deadline)}
        print(f"[{time.monotonic() - began:5.0f} s] {step.name}: {step.record['status']} "
              f"{step.record.get('reason', '')}", flush=True)
        results["steps"].append({key: value for key, value in step.record.items() if key != "result"})
        node_report.file_result(results, step, kit)
        results["environment"] = environment(results.get("machine") or {})
        results["elapsed_s"] = round(time.monotonic() - began, 1)
        node_report.write(results, args.out)
    node_report.write(results, args.out)
    failed = [step["name"] for step in results["steps"] if step["status"] in ("failed", "timeout")]
    print(f"results: {args.out / 'results.json'}; report: {args.out / 'report.md'}"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
