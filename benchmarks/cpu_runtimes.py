"""ONNX Runtime against OpenVINO on this CPU: the same graphs, the same windows, side by side.

Issue 22 asks for the fastest accurate CPU path as an execution choice: OpenVINO serving a static
int8 graph where the CPU has matrix units (AMX), the best measured path elsewhere. Before any of it
is built, this measures what each runtime does with each graph on the CPU at hand, recorded with its
SIMD flags: model-only real tokens/s over length-sorted batches of real windows (the server's batch
budget), rounds interleaved in one process, and how often each graph's argmax tag agrees with ONNX
Runtime fp32 (real tokens).

    .venv/bin/pip install openvino        # not a dependency of the server or the tests
    .venv/bin/python benchmarks/cpu_runtimes.py --rounds 5

Graphs: the bundle's fp32 and int8 variants, and any ``--extra NAME=PATH`` (default: the static QDQ
graph ``benchmarks/int8_candidates.py`` wrote for the demo, when present).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from export_variants import Batch, _cpu, batches  # noqa: E402
from int8_candidates import _flags, speed_sample  # noqa: E402

Runner = Callable[[Any, Any], Any]
STATIC_QDQ = ROOT / "runs" / "int8-candidates-demos" / "demo-static-qdq" / "model.int8.onnx"


def ort_runner(path: Path, threads: int) -> Runner:
    from model_export.verify import ort_session

    session = ort_session(path, threads)
    return lambda ids, mask: session.run(["logits"], {"input_ids": ids, "attention_mask": mask})[0]


def openvino_runner(path: Path, threads: int) -> Runner:
    import openvino

    compiled = openvino.Core().compile_model(str(path), "CPU", {"INFERENCE_NUM_THREADS": threads,
                                                                 "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    output = compiled.output("logits")
    return lambda ids, mask: request.infer({"input_ids": ids, "attention_mask": mask})[output]


def agreement(reference: list[np.ndarray], outputs: list[np.ndarray], work: list[Batch]) -> float:
    """Share of real tokens whose argmax tag equals the reference's."""
    same = total = 0
    for ref, out, (_, mask) in zip(reference, outputs, work, strict=True):
        real = mask.astype(bool)
        same += int((ref.argmax(-1) == out.argmax(-1))[real].sum())
        total += int(real.sum())
    return same / total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--extra", action="append", default=[], help="NAME=PATH of another graph to run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--speed-tokens", type=int, default=20000)
    parser.add_argument("--max-batch-tokens", type=int, default=8192)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "cpu-runtimes")
    args = parser.parse_args()
    import onnxruntime

    try:
        import openvino
    except ImportError:
        sys.exit("OpenVINO is not installed: .venv/bin/pip install openvino")
    from model_export.demo import CONCEPTS, demo_corpus

    graphs = {"fp32": args.bundle / "model.onnx", "int8 (bundle)": args.bundle / "model.int8.onnx"}
    extras = args.extra or ([f"static QDQ={STATIC_QDQ}"] if STATIC_QDQ.is_file() else [])
    graphs.update((name, Path(path)) for name, path in (item.split("=", 1) for item in extras))
    documents = demo_corpus(CONCEPTS, documents=80, seed=1013)
    work, tokens = speed_sample(batches(args.bundle, documents, args.max_batch_tokens)[0], args.speed_tokens)
    runners: dict[str, Runner] = {}
    failures: dict[str, str] = {}
    for graph, path in graphs.items():
        for runtime, make in (("onnxruntime", ort_runner), ("openvino", openvino_runner)):
            try:
                runners[f"{runtime} {graph}"] = make(path, args.threads)
            except Exception as error:  # a runtime that cannot run a graph is a finding, not a crash
                lines = [line.strip(" -") for line in str(error).splitlines() if line.strip()]
                failures[f"{runtime} {graph}"] = next((line for line in lines if "No conversion rule" in line),
                                                      lines[-1] if lines else type(error).__name__)[:200]
    reference = [runners["onnxruntime fp32"](ids, mask) for ids, mask in work]
    agree = {name: agreement(reference, [run(ids, mask) for ids, mask in work], work) for name, run in runners.items()}
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            started = time.perf_counter()
            for ids, mask in work:
                run(ids, mask)
            seconds[name].append(time.perf_counter() - started)
    rows = {name: {"tokens_per_s_median": tokens / statistics.median(values),
                   "tokens_per_s_range": [tokens / max(values), tokens / min(values)], "argmax_agreement": agree[name]}
            for name, values in seconds.items()}
    result = {"bundle": str(args.bundle), "graphs": {k: str(v) for k, v in graphs.items()}, "rows": rows,
              "failures": failures, "cpu": _cpu(), "cpu_flags": _flags(), "threads": args.threads,
              "rounds": args.rounds, "real_tokens": tokens, "batches": len(work),
              "onnxruntime": onnxruntime.__version__, "openvino": openvino.__version__,
              "load_average": os.getloadavg()}
    from benchmarks.results_io import save_results

    print(save_results(args.output, result, markdown))
    return 0


def markdown(result: dict[str, Any]) -> str:
    base = result["rows"]["onnxruntime int8 (bundle)"]["tokens_per_s_median"]
    lines = ["# CPU runtimes: ONNX Runtime and OpenVINO on the same graphs", "",
             f"Machine: {result['cpu']}; SIMD flags: {', '.join(result['cpu_flags']) or 'none'}; ONNX Runtime "
             f"{result['onnxruntime']}, OpenVINO {result['openvino']}; {result['threads']} threads; "
             f"{result['rounds']} interleaved rounds over {result['real_tokens']} real tokens of the demo's held-out "
             f"notes in {result['batches']} length-sorted batches; load average at the end "
             f"{', '.join(f'{x:.1f}' for x in result['load_average'])}. Bundle `{result['bundle']}`.", "",
             "Rerun: `.venv/bin/python benchmarks/cpu_runtimes.py` (needs `pip install openvino`)", "",
             "| runtime and graph | tokens/s (median) | range | vs ONNX Runtime int8 | argmax = ORT fp32 |",
             "|---|---|---|---|---|"]
    for name, row in result["rows"].items():
        low, high = row["tokens_per_s_range"]
        lines.append(f"| {name} | {row['tokens_per_s_median']:.0f} | {low:.0f}-{high:.0f} | "
                     f"{row['tokens_per_s_median'] / base:.2f}x | {row['argmax_agreement'] * 100:.2f}% |")
    lines += [""] + [f"- {name}: could not run: {why}" for name, why in result["failures"].items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
