"""Every int8 candidate of three models, side by side: strict F1 as served and model-only speed.

For the demo (held-out synthetic notes), the NCBI single model (sentence windows) and the NCBI
packed model (test split): each candidate the export can choose (``model_export.int8_choice``) plus
static QDQ quantisation calibrated on the model's own training windows, quantised from the bundle's
fp32 graph exactly as ``clinx export`` does. F1 is what the server answers (the candidate in a copy
of the bundle, through the Extractor: the server's batching and decoding); speed is ONNX Runtime
alone over every test window, length-sorted batches of the server's budget, rounds interleaved.

    .venv/bin/python benchmarks/int8_candidates.py --rounds 3   # about 20 minutes on 2 cores
    .venv/bin/python benchmarks/int8_candidates.py --models demo-deid --rounds 3 \
        --output benchmarks/results/int8-candidates-deid   # the de-identification demo

The two ``dynamic-fp32-first``/``-last`` rows are measured here only (the export does not try them).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from export_variants import Batch, _cpu, batches, throughput  # noqa: E402

NCBI = ROOT.parent / "shared" / "data" / "ncbi-disease" / "standoff"
INT8_FILE = "model.int8.onnx"


@dataclass(frozen=True)
class Model:
    name: str
    bundle: Path
    test: Callable[[], list[Any]]
    calibration: Callable[[], list[Any]]
    test_description: str


def ncbi_model(name: str, checkpoint: Path, work: Path) -> Model:
    """An NCBI checkpoint exported once (no fp16, no evaluation: the candidates are scored here)."""
    from model_export.checkpoints import TRAINING_FILE, read_json
    from model_export.corpus_options import CorpusOptions, load_documents

    bundle = work / name
    if not (bundle / "manifest.json").is_file():
        import subprocess

        subprocess.run([sys.executable, "-m", "clinx_cli", "export", str(checkpoint), "--output", str(bundle),
                        "--name", name, "--no-fp16"], check=True, cwd=ROOT)
    recorded = read_json(checkpoint / TRAINING_FILE).get("corpus", {})
    options = CorpusOptions(format="brat", label_map=recorded.get("label_map") or {},
                            collapse_labels=recorded.get("collapse_labels"))
    return Model(name, bundle, lambda: load_documents(NCBI / "test", options, role="test"),
                 lambda: load_documents(NCBI / "train", options, role="train"), "NCBI-disease test split")


def demo_model(bundle: Path) -> Model:
    from model_export.demo import CONCEPTS, demo_corpus
    from model_export.demo_corpus import split_demo_corpus

    return Model("demo", bundle, lambda: demo_corpus(CONCEPTS, documents=80, seed=1013),
                 lambda: split_demo_corpus(demo_corpus(CONCEPTS))[0],
                 "80 held-out synthetic notes (seed 1013)")


def deid_model(bundle: Path) -> Model:
    from model_export.demo import DEID, demo_corpus
    from model_export.demo_corpus import split_demo_corpus

    return Model("demo-deid", bundle, lambda: demo_corpus(DEID, documents=80, seed=1017),
                 lambda: split_demo_corpus(demo_corpus(DEID))[0],
                 "80 held-out synthetic notes with Faker PHI (seed 1017)")


def candidate_bundle(bundle: Path, target: Path, quantize: Callable[[Path, Path], dict[str, Any]]) -> Path:
    """A copy of ``bundle`` (hard links) whose int8 variant is the candidate ``quantize`` writes."""
    from app.bundle import MANIFEST, file_entry, verify_bundle

    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for path in bundle.iterdir():
        if path.name not in (INT8_FILE, MANIFEST):
            os.link(path, target / path.name)
    record = quantize(bundle / "model.onnx", target / INT8_FILE)
    manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    variant = manifest["members"][0]["variants"]["int8"]
    variant.update({**file_entry(target, INT8_FILE).model_dump(), "optimization": record})
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    verify_bundle(target)
    return target


def calibration_batches(bundle: Path, documents: Sequence[Any], count: int, max_tokens: int) -> list[Batch]:
    """``count`` batches spread over the training windows (every k-th of the length-sorted batches)."""
    work, _ = batches(bundle, list(documents), max_tokens)
    step = max(1, len(work) // count)
    return work[::step][:count]


def speed_sample(work: list[Batch], tokens: int) -> tuple[list[Batch], int]:
    """Batches spread evenly over the length-sorted list, about ``tokens`` real tokens in all (0: every one)."""
    real = [int(mask.sum()) for _, mask in work]
    if tokens <= 0 or sum(real) <= tokens:
        return work, sum(real)
    step = max(1, round(sum(real) / tokens))
    chosen = list(range(0, len(work), step))
    return [work[index] for index in chosen], sum(real[index] for index in chosen)


def evaluate(model: Model, work: Path, threads: int, rounds: int, max_tokens: int, calibration: int,
             sample_tokens: int) -> dict[str, Any]:
    from app.bundle import read_manifest
    from model_export.evaluate import gold_spans
    from model_export.int8_choice import CANDIDATES, Int8Candidate, quantisable_nodes, quantize_candidate
    from model_export.onnx_export import quantize_static_int8
    from model_export.scoring import score
    from model_export.verify import served_predictions

    documents = model.test()
    gold = gold_spans(documents)
    calibrating = calibration_batches(model.bundle, model.calibration(), calibration, max_tokens)
    nodes = quantisable_nodes(model.bundle / "model.onnx")
    quantizers: dict[str, Callable[[Path, Path], dict[str, Any]]] = {
        candidate.name: (lambda source, target, c=candidate: quantize_candidate(
            source, target, c, per_channel=True, reduce_range=False, external=False))
        for candidate in CANDIDATES}
    for name, first, last in (("dynamic-fp32-first", 1 / 6, 0.0), ("dynamic-fp32-last", 0.0, 1 / 6)):
        variant = Int8Candidate(name, "measured here only", first, last)
        quantizers[name] = (lambda source, target, c=variant: quantize_candidate(
            source, target, c, per_channel=True, reduce_range=False, external=False))
    quantizers["static-qdq"] = lambda source, target: quantize_static_int8(source, target, calibrating,
                                                                           external=False)
    head = CANDIDATES[1].nodes_to_exclude(nodes)
    quantizers["static-qdq-fp32-head"] = lambda source, target: quantize_static_int8(
        source, target, calibrating, external=False, exclude=head)
    fp32 = served_predictions(model.bundle, documents, ["fp32"])["fp32"]
    rows: dict[str, dict[str, Any]] = {"fp32": {"strict_f1": score(gold, fp32).strict.f1, "quantize_s": 0.0}}
    graphs = {"fp32": model.bundle / "model.onnx"}
    for name, quantize in quantizers.items():
        started = time.monotonic()
        directory = candidate_bundle(model.bundle, work / f"{model.name}-{name}", quantize)
        seconds = time.monotonic() - started
        served = served_predictions(directory, documents, ["int8"])["int8"]
        rows[name] = {"strict_f1": score(gold, served).strict.f1, "quantize_s": seconds,
                      "fp32_nodes": read_manifest(directory).members[0].variants["int8"].optimization.get("fp32_nodes"),
                      "bytes": (directory / INT8_FILE).stat().st_size}
        graphs[name] = directory / INT8_FILE
        print(f"{model.name} {name}: strict F1 {rows[name]['strict_f1']:.4f} (fp32 {rows['fp32']['strict_f1']:.4f})",
              flush=True)
    windows, tokens = speed_sample(batches(model.bundle, documents, max_tokens)[0], sample_tokens)
    speed = throughput(graphs, windows, tokens, threads, rounds)
    for name, figures in speed.items():
        rows[name].update(figures)
    return {"bundle": str(model.bundle), "test": model.test_description, "documents": len(documents),
            "real_tokens": tokens, "batches": len(windows), "calibration_batches": len(calibrating),
            "quantisable_nodes": len(nodes), "candidates": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="demo,ncbi-single,ncbi-packed",
                        help="comma-separated: demo, demo-deid, ncbi-single, ncbi-packed")
    parser.add_argument("--demo-bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--deid-bundle", type=Path, default=ROOT / "models" / "demo-deid")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "int8-candidates")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "int8-candidates")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calibration-batches", type=int, default=16)
    parser.add_argument("--speed-tokens", type=int, default=30000,
                        help="real tokens of the test windows timed per graph and round (0: all)")
    parser.add_argument("--max-batch-tokens", type=int, default=8192, help="as the server's CLINX_MAX_BATCH_TOKENS")
    args = parser.parse_args()
    import onnxruntime

    from model_export.onnx_export import cpu_int8_features

    args.work.mkdir(parents=True, exist_ok=True)
    builders = {"demo": lambda: demo_model(args.demo_bundle), "demo-deid": lambda: deid_model(args.deid_bundle),
                "ncbi-single": lambda: ncbi_model("ncbi-single", ROOT / "runs" / "ncbi-minilm", args.work),
                "ncbi-packed": lambda: ncbi_model("ncbi-packed", ROOT / "runs" / "ncbi-minilm-packed", args.work)}
    results = {}
    for name in args.models.split(","):
        if name.startswith("ncbi") and not NCBI.is_dir():
            print(f"{name}: skipped, {NCBI} is absent", flush=True)
            continue
        results[name] = evaluate(builders[name](), args.work, args.threads, args.rounds, args.max_batch_tokens,
                                 args.calibration_batches, args.speed_tokens)
    flags = _flags()
    result = {"models": results, "cpu": _cpu(), "cpu_int8_features": cpu_int8_features(), "cpu_flags": flags,
              "threads": args.threads, "rounds": args.rounds, "onnxruntime": onnxruntime.__version__,
              "load_average": os.getloadavg()}
    from benchmarks.results_io import save_results

    print(save_results(args.output, result, markdown))
    return 0


def _flags() -> list[str]:
    text = Path("/proc/cpuinfo").read_text(encoding="utf-8") if Path("/proc/cpuinfo").is_file() else ""
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return sorted(flag for flag in flags if flag.startswith(("avx", "amx")) or "vnni" in flag)


def machine_line(result: dict[str, Any], runtimes: str) -> str:
    """The machine, its SIMD flags and the timing method, as every int8/runtime report opens."""
    return (f"Machine: {result['cpu']}; SIMD flags: {', '.join(result['cpu_flags']) or 'none'}; {runtimes}; "
            f"intra-op threads = {result['threads']}, {result['rounds']} interleaved rounds, median real tokens/s; "
            f"load average at the end {', '.join(f'{x:.1f}' for x in result['load_average'])}.")


def markdown(result: dict[str, Any]) -> str:
    lines = ["# int8 candidates: strict F1 as served and model-only speed, models side by side", "",
             machine_line(result, f"ONNX Runtime {result['onnxruntime']}"), "",
             "Rerun: `.venv/bin/python benchmarks/int8_candidates.py`", ""]
    for name, model in result["models"].items():
        rows = model["candidates"]
        fp32, dynamic = rows["fp32"], rows.get("dynamic", rows["fp32"])
        lines += [f"## {name}", "",
                  f"`{model['bundle']}`, {model['test']} ({model['documents']} documents, {model['real_tokens']} "
                  f"real tokens timed in {model['batches']} batches spread over the test windows); static "
                  f"candidates calibrated on {model['calibration_batches']} batches of the model's training "
                  "windows.", "",
                  "| graph | fp32 MatMuls | strict F1 (served) | vs fp32 (points) | tokens/s | vs dynamic | size |",
                  "|---|---|---|---|---|---|---|"]
        for graph, row in rows.items():
            size = f"{row['bytes'] / 1e6:.1f} MB" if "bytes" in row else "-"
            lines.append(
                f"| {graph} | {row.get('fp32_nodes', 'all')} | {row['strict_f1'] * 100:.2f} | "
                f"{(row['strict_f1'] - fp32['strict_f1']) * 100:+.2f} | {row['tokens_per_s_median']:.0f} | "
                f"{row['tokens_per_s_median'] / dynamic['tokens_per_s_median']:.2f}x | {size} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
