"""Static int8 that keeps accuracy: NNCF's transformer recipe (SmoothQuant, bias correction) against
ONNX Runtime's dynamic int8, on the NCBI checkpoints, served F1 and speed in ONNX Runtime and OpenVINO.

Issue 22's AMX path serves a *static* int8 graph in OpenVINO. ONNX Runtime's own static QDQ
quantisation lost 1.8-3.7 points on every model here (``int8_candidates.py``), beyond the export's
0.5-point bound, so that path had no accurate graph to serve. NNCF (OpenVINO's compression library)
quantises the *unfused* fp32 export with its transformer recipe: activation outliers smoothed into
the weights (SmoothQuant), bias correction, and the patterns transformers are sensitive to left in
float. This measures, per checkpoint: strict F1 as the server answers (the graph as the int8
variant of a copy of the bundle, through the Extractor) and model-only tokens/s of each graph in
each runtime, rounds interleaved, with the CPU's SIMD flags (the AMX speed-up needs an AMX CPU).

    .venv/bin/pip install nncf openvino    # benchmark-only: neither is a dependency of the server
    .venv/bin/python benchmarks/static_int8.py --rounds 3

Needs the NCBI checkpoints of ``benchmarks/ncbi/run.sh`` (``runs/ncbi-minilm``, ``runs/ncbi-minilm-packed``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from cpu_runtimes import Runner, openvino_runner, ort_runner  # noqa: E402
from export_variants import Batch, _cpu, batches  # noqa: E402
from int8_candidates import (  # noqa: E402
    NCBI,
    Model,
    _flags,
    calibration_batches,
    candidate_bundle,
    machine_line,
    ncbi_model,
    speed_sample,
)

CHECKPOINTS = {"ncbi-single": ROOT / "runs" / "ncbi-minilm", "ncbi-packed": ROOT / "runs" / "ncbi-minilm-packed"}


def unfused_fp32(checkpoint: Path, target: Path) -> Path:
    """The checkpoint's plain ONNX export (standard operators, weights inline): what NNCF and OpenVINO read."""
    import onnx
    import torch
    from transformers import AutoModelForTokenClassification

    from model_export.onnx_export import export_onnx

    torch.set_num_threads(1)
    model = AutoModelForTokenClassification.from_pretrained(str(checkpoint))
    pad_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    staged = target.with_name(target.stem + "-external.onnx")
    export_onnx(model, staged, pad_id=pad_id)
    onnx.save(onnx.load(str(staged)), str(target))
    for path in staged.parent.glob(staged.name + "*"):
        path.unlink()
    return target


def nncf_static(source: Path, target: Path, calibration: list[Batch]) -> Path:
    import nncf
    import onnx

    items = [{"input_ids": ids, "attention_mask": mask} for ids, mask in calibration]
    quantized = nncf.quantize(onnx.load(str(source)), nncf.Dataset(items), subset_size=len(items),
                              model_type=nncf.ModelType.TRANSFORMER)
    onnx.save(quantized, str(target))
    return target


def served_f1(model: Model, graph: Path, work: Path, documents: list[Any], gold: Any) -> float:
    from model_export.scoring import score
    from model_export.verify import served_predictions

    bundle = candidate_bundle(model.bundle, work, lambda _source, target: (shutil.copy(graph, target),
                                                                           {"graph": graph.name})[1])
    return score(gold, served_predictions(bundle, documents, ["int8"])["int8"]).strict.f1


def timed(runners: dict[str, Runner], work: list[Batch], rounds: int) -> dict[str, list[float]]:
    for run in runners.values():
        run(*work[0])
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            started = time.perf_counter()
            for ids, mask in work:
                run(ids, mask)
            seconds[name].append(time.perf_counter() - started)
    return seconds


def evaluate(name: str, work_dir: Path, threads: int, rounds: int, sample_tokens: int) -> dict[str, Any]:
    from model_export.evaluate import gold_spans
    from model_export.int8_choice import CANDIDATES, quantize_candidate
    from model_export.scoring import score
    from model_export.verify import served_predictions

    model = ncbi_model(name, CHECKPOINTS[name], work_dir)
    documents = model.test()
    gold = gold_spans(documents)
    folder = work_dir / f"{name}-static"
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    plain = unfused_fp32(CHECKPOINTS[name], folder / "unfused.onnx")
    calibration = calibration_batches(model.bundle, model.calibration(), 16, 8192)
    static = nncf_static(plain, folder / "nncf-transformer.onnx", calibration)
    quantize_s = time.monotonic() - started
    dynamic = folder / "dynamic.onnx"
    quantize_candidate(model.bundle / "model.onnx", dynamic, CANDIDATES[0], per_channel=True, reduce_range=False,
                       external=False)
    f1 = {"fp32 (bundle, fused)": score(gold, served_predictions(model.bundle, documents, ["fp32"])["fp32"]).strict.f1,
          "dynamic int8 (ONNX Runtime)": served_f1(model, dynamic, folder / "bundle-dynamic", documents, gold),
          "static int8 (NNCF transformer)": served_f1(model, static, folder / "bundle-nncf", documents, gold)}
    for graph, value in f1.items():
        print(f"{name} {graph}: strict F1 {value * 100:.2f}", flush=True)
    windows, tokens = speed_sample(batches(model.bundle, documents, 8192)[0], sample_tokens)
    runners = {"onnxruntime fp32 (fused)": ort_runner(model.bundle / "model.onnx", threads),
               "onnxruntime dynamic int8": ort_runner(dynamic, threads),
               "onnxruntime static int8 (NNCF)": ort_runner(static, threads),
               "openvino fp32": openvino_runner(plain, threads),
               "openvino static int8 (NNCF)": openvino_runner(static, threads)}
    seconds = timed(runners, windows, rounds)
    speed = {runner: {"tokens_per_s_median": tokens / statistics.median(values),
                      "tokens_per_s_range": [tokens / max(values), tokens / min(values)]}
             for runner, values in seconds.items()}
    return {"bundle": str(model.bundle), "test": model.test_description, "documents": len(documents),
            "real_tokens": tokens, "batches": len(windows), "calibration_batches": len(calibration),
            "export_and_quantize_s": quantize_s, "strict_f1": f1, "speed": speed,
            "static_bytes": static.stat().st_size, "dynamic_bytes": dynamic.stat().st_size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="ncbi-single,ncbi-packed")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "int8-candidates")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--speed-tokens", type=int, default=30000)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "static-int8")
    args = parser.parse_args()
    if not NCBI.is_dir():
        sys.exit(f"NCBI corpus not found at {NCBI}")
    import nncf
    import onnxruntime
    import openvino

    results = {name: evaluate(name, args.work, args.threads, args.rounds, args.speed_tokens)
               for name in args.models.split(",")}
    result = {"models": results, "cpu": _cpu(), "cpu_flags": _flags(), "threads": args.threads,
              "rounds": args.rounds, "onnxruntime": onnxruntime.__version__, "openvino": openvino.__version__,
              "nncf": nncf.__version__, "load_average": os.getloadavg()}
    from benchmarks.results_io import save_results

    print(save_results(args.output, result, markdown))
    return 0


def markdown(result: dict[str, Any]) -> str:
    lines = ["# Static int8 with NNCF's transformer recipe, against dynamic int8", "",
             machine_line(result, f"ONNX Runtime {result['onnxruntime']}, OpenVINO {result['openvino']}, "
                                  f"NNCF {result['nncf']}"), "",
             "Rerun: `.venv/bin/python benchmarks/static_int8.py` (needs `pip install nncf openvino`)", ""]
    for name, model in result["models"].items():
        fp32 = model["strict_f1"]["fp32 (bundle, fused)"]
        base = model["speed"]["onnxruntime dynamic int8"]["tokens_per_s_median"]
        lines += [f"## {name}", "", f"`{model['bundle']}`, {model['test']} ({model['documents']} documents); "
                  f"NNCF calibrated on {model['calibration_batches']} batches of training windows; speed over "
                  f"{model['real_tokens']} real tokens in {model['batches']} batches.", "",
                  "| graph | strict F1 (served) | vs fp32 (points) |", "|---|---|---|"]
        lines += [f"| {graph} | {value * 100:.2f} | {(value - fp32) * 100:+.2f} |"
                  for graph, value in model["strict_f1"].items()]
        lines += ["", "| runtime and graph | tokens/s | range | vs ONNX Runtime dynamic int8 |", "|---|---|---|---|"]
        for runner, row in model["speed"].items():
            low, high = row["tokens_per_s_range"]
            lines.append(f"| {runner} | {row['tokens_per_s_median']:.0f} | {low:.0f}-{high:.0f} | "
                         f"{row['tokens_per_s_median'] / base:.2f}x |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
