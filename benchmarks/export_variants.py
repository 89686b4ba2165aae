"""fp32 vs int8 (vs fp16) of one exported model: strict F1 on a test split and model-only CPU throughput.

Exports the checkpoint twice through ``clinx export`` (fused, the default; and ``--no-optimize``
for comparison), with the test split as the evaluation corpus so export itself refuses a variant
that loses more than 1 F1 point. Throughput is ONNX Runtime alone (no HTTP, no tokenisation): all
windows of the test split, length-sorted and batched by padded tokens like the server's batcher,
``intra_op_num_threads`` fixed; rounds are interleaved across variants and the median is reported,
since the machine is shared. Also compares int8 settings (per-channel, reduce_range).

    nice -n 19 .venv/bin/python benchmarks/export_variants.py \\
        --checkpoint runs/ncbi-minilm --test ../shared/data/ncbi-disease/standoff/test --format brat
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
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

Batch = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]


def export(checkpoint: Path, output: Path, test: Path, corpus_format: str, *extra: str) -> float:
    """``clinx export`` as a user runs it; returns its wall time."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "clinx_cli", "export", str(checkpoint), "--output", str(output),
                    "--name", output.name, "--eval-corpus", str(test), "--eval-format", corpus_format, *extra],
                   check=True, cwd=ROOT)
    return time.monotonic() - started


def batches(bundle: Path, documents: list[Any], max_tokens: int) -> tuple[list[Batch], int]:
    """Every window of ``documents``, length-sorted, grouped by padded tokens; and the real token count."""
    from app.bundle import bundle_encoder, read_manifest
    from app.engine.executor import pad_rows
    from app.engine.scheduler import length_sorted_batches

    manifest = read_manifest(bundle)
    encoder = bundle_encoder(bundle, manifest)
    rows = [encoder.input_ids(encoded, window) for encoded in encoder.encode_many([d.text for d in documents])
            for window in encoded.windows]
    groups = length_sorted_batches([len(row) for row in rows], max_tokens)
    padded = [pad_rows([rows[index] for index in group], manifest.special.pad_id) for group in groups]
    return padded, sum(len(row) for row in rows)


def throughput(paths: dict[str, Path], work: list[Batch], tokens: int, threads: int, rounds: int
               ) -> dict[str, dict[str, float]]:
    """Real tokens per second of each graph over the whole split; rounds interleaved, median and best."""
    from model_export.verify import ort_session

    sessions = {name: ort_session(path, threads) for name, path in paths.items()}
    for session in sessions.values():
        session.run(["logits"], {"input_ids": work[0][0], "attention_mask": work[0][1]})
    seconds: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(rounds):
        for name, session in sessions.items():
            started = time.perf_counter()
            for ids, mask in work:
                session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
            seconds[name].append(time.perf_counter() - started)
    return {name: {"tokens_per_s_median": tokens / statistics.median(values), "tokens_per_s_best": tokens / min(values),
                   "seconds_median": statistics.median(values)} for name, values in seconds.items()}


def strict_f1(bundle: Path, path: Path, documents: list[Any]) -> float:
    """Strict F1 of one graph through the server's decode path (for int8 settings not in a bundle)."""
    from app.bundle import bundle_encoder, read_manifest
    from model_export.evaluate import gold_spans, predict_spans
    from model_export.scoring import score
    from model_export.verify import ort_logits_fn

    manifest = read_manifest(bundle)
    encoder = bundle_encoder(bundle, manifest)
    predicted = predict_spans(encoder, documents, ort_logits_fn(path), manifest.tags, manifest.decode)
    return score(gold_spans(documents), predicted).strict.f1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "runs" / "ncbi-minilm")
    parser.add_argument("--test", type=Path, default=ROOT.parent / "shared/data/ncbi-disease/standoff/test")
    parser.add_argument("--format", default="brat")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "export-variants")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "export-variants")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-batch-tokens", type=int, default=8192, help="as the server's CLINX_MAX_BATCH_TOKENS")
    args = parser.parse_args()
    import onnxruntime
    import torch
    import transformers

    from app.bundle import read_manifest
    from model_export.checkpoints import TRAINING_FILE, read_json
    from model_export.corpus_options import CorpusOptions, load_documents
    from model_export.onnx_export import cpu_int8_features, quantize_int8

    args.work.mkdir(parents=True, exist_ok=True)
    fused, unfused = args.work / "fused", args.work / "unfused"
    wall = {"export (fused, fp32+int8+fp16)": export(args.checkpoint, fused, args.test, args.format),
            "export (--no-optimize, fp32+int8)": export(args.checkpoint, unfused, args.test, args.format,
                                                        "--no-optimize", "--no-fp16")}
    recorded = read_json(args.checkpoint / TRAINING_FILE).get("corpus", {})
    documents = load_documents(args.test, CorpusOptions(format=args.format, label_map=recorded.get("label_map") or {},
                                                        collapse_labels=recorded.get("collapse_labels")), role="test")
    manifest, plain = read_manifest(fused), read_manifest(unfused)
    scores = {f"{p} (fused)": s["strict"]["f1"] for p, s in manifest.evaluation["eval_corpus"]["variants"].items()}
    scores |= {f"{p} (unfused)": s["strict"]["f1"] for p, s in plain.evaluation["eval_corpus"]["variants"].items()}
    graphs = {"fp32 (fused)": fused / "model.onnx", "int8 (fused)": fused / "model.int8.onnx",
              "fp32 (unfused)": unfused / "model.onnx", "int8 (unfused)": unfused / "model.int8.onnx"}
    settings = {}
    for per_channel in (True, False):
        for reduce_range in (False, True):
            name = f"int8 per_channel={per_channel} reduce_range={reduce_range}"
            path = args.work / f"int8-{int(per_channel)}{int(reduce_range)}.onnx"
            quantize_int8(fused / "model.onnx", path, per_channel=per_channel, reduce_range=reduce_range,
                          external=False)
            settings[name] = {"strict_f1": strict_f1(fused, path, documents), "bytes": path.stat().st_size}
            graphs[name] = path
    work, tokens = batches(fused, documents, args.max_batch_tokens)
    speed = throughput(graphs, work, tokens, args.threads, args.rounds)
    result = {
        "checkpoint": str(args.checkpoint), "test": str(args.test), "documents": len(documents),
        "windows": sum(len(ids) for ids, _ in work), "real_tokens": tokens, "batches": len(work),
        "threads": args.threads, "rounds": args.rounds, "max_batch_tokens": args.max_batch_tokens,
        "strict_f1": scores, "throughput": speed, "int8_settings": settings, "export_wall_s": wall,
        "parity": manifest.parity, "optimization": {p: v.optimization for p, v in manifest.members[0].variants.items()},
        "bytes": {name: path.stat().st_size for name, path in graphs.items()},
        "cpu": _cpu(), "cpu_int8_features": cpu_int8_features(), "load_average": os.getloadavg(),
        "versions": {"python": platform.python_version(), "onnxruntime": onnxruntime.__version__,
                     "torch": torch.__version__, "transformers": transformers.__version__},
    }
    from benchmarks.results_io import save_results

    print(save_results(args.output, result, _markdown))
    return 0


def _cpu() -> str:
    text = Path("/proc/cpuinfo").read_text(encoding="utf-8") if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")),
                 platform.processor())
    return f"{model}, {len(os.sched_getaffinity(0))} cores available"


def _markdown(result: dict[str, Any]) -> str:
    speed, f1 = result["throughput"], result["strict_f1"]
    base = speed["fp32 (fused)"]["tokens_per_s_median"]
    lines = [
        "# Export variants: fp32 vs int8 (vs fp16)", "",
        f"Checkpoint `{result['checkpoint']}`, test split `{result['test']}` ({result['documents']} documents, "
        f"{result['windows']} windows, {result['real_tokens']} real tokens in {result['batches']} length-sorted "
        f"batches of at most {result['max_batch_tokens']} padded tokens).",
        f"Machine: {result['cpu']} ({', '.join(result['cpu_int8_features'])}); shared with other jobs "
        f"(load average at the end {', '.join(f'{x:.1f}' for x in result['load_average'])}). "
        + ", ".join(f"{k} {v}" for k, v in result["versions"].items()) + ".",
        f"Throughput: ONNX Runtime CPU only, intra-op threads = {result['threads']}, {result['rounds']} interleaved "
        "rounds over the whole split, median (best) real tokens/s.", "",
        "Rerun: `nice -n 19 .venv/bin/python benchmarks/export_variants.py`", "",
        "| graph | strict F1 (test) | tokens/s median | tokens/s best | vs fp32 fused | size |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in speed.items():
        score = f1.get(name, result["int8_settings"].get(name, {}).get("strict_f1"))
        lines.append(f"| {name} | {score * 100:.2f} | {figures['tokens_per_s_median']:.0f} | "
                     f"{figures['tokens_per_s_best']:.0f} | {figures['tokens_per_s_median'] / base:.2f}x | "
                     f"{result['bytes'][name] / 1e6:.1f} MB |")
    lines += [f"| fp16 (fused; GPU variant, F1 checked on CPU) | {f1['fp16 (fused)'] * 100:.2f} | - | - | - | - |", "",
              "Export wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in result["export_wall_s"].items()) + ".", "",
              "## Parity and fusions recorded in the manifest", "", "```json",
              json.dumps({"parity": result["parity"], "optimization": result["optimization"]}, indent=2), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
