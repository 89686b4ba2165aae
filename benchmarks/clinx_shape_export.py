"""Export a CLIN-X-shaped model (XLM-R-large: 24 layers, 1024 hidden, 250,002-token vocabulary) end to end.

Random weights (no hub on the project's machines), written as an ordinary checkpoint, then the
normal ``export_bundle`` path: dynamo export, fusions, parity vs PyTorch, int8 and fp16, external
data for the >2 GB fp32 graph, then ``clinx export verify`` and the server's Runtime on the result.
Records wall time per stage, file sizes and peak RSS to benchmarks/results/clinx-shape-export.md.

    nice -n 19 .venv/bin/python benchmarks/clinx_shape_export.py [--work runs/clinx-shape] [--keep]
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLINX_VOCAB = 250_002  # XLM-R's SentencePiece vocabulary, which CLIN-X keeps
ENTITY_TYPES = ["problem", "test", "treatment"]


def peak_rss_gb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory of this process, or of its largest finished child (Linux reports KiB)."""
    return resource.getrusage(who).ru_maxrss / 1024**2


def build_checkpoint(work: Path) -> Path:
    """Base encoder with a small Unigram tokenizer, embeddings grown to CLIN-X's vocabulary, random head."""
    from transformers import XLMRobertaModel

    from app.text.labels import bioes_tags
    from app.text.windows import WindowGeometry
    from model_export.sample_text import SAMPLE_NOTES
    from model_export.synthetic import build_random_tagger, build_random_xlmr

    base = build_random_xlmr(work / "base", list(SAMPLE_NOTES) * 20, shape="large", vocab_size=2000)
    encoder = XLMRobertaModel.from_pretrained(base)
    encoder.resize_token_embeddings(CLINX_VOCAB)
    encoder.save_pretrained(base)
    del encoder
    return build_random_tagger(base, work / "checkpoint", bioes_tags(ENTITY_TYPES),
                               WindowGeometry(300, 100))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "clinx-shape")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "clinx-shape-export")
    parser.add_argument("--keep", action="store_true", help="keep the checkpoint and bundle afterwards")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import onnxruntime
    import torch
    import transformers

    from app.bundle import verify_bundle
    from app.engine.runtime import Runtime
    from model_export.export import ExportConfig, export_bundle
    from model_export.verify import verify_bundle_files

    args.work.mkdir(parents=True, exist_ok=True)
    stages: dict[str, float] = {}
    started = time.monotonic()
    checkpoint = build_checkpoint(args.work)
    stages["build random checkpoint"] = time.monotonic() - started
    bundle = args.work / "bundle"
    started = time.monotonic()
    manifest = export_bundle(ExportConfig(checkpoint=checkpoint, output_dir=bundle, name="clinx-shape", version="0"))
    stages["export_bundle (export, fuse, verify, int8, fp16)"] = time.monotonic() - started
    started = time.monotonic()
    _, checks = verify_bundle_files(bundle)
    stages["clinx export verify (load + run every variant)"] = time.monotonic() - started
    started = time.monotonic()
    runtime = Runtime(bundle, verify_bundle(bundle, {"int8"}), device="cpu", intra_op_threads=2)
    stages["server Runtime load (CPU, auto variant)"] = time.monotonic() - started
    member = manifest.members[0]
    files = {precision: {"file": v.file, "bytes": v.bytes,
                         "external_data": {d.file: d.bytes for d in v.external_data}}
             for precision, v in member.variants.items()}
    result: dict[str, Any] = {
        "model": "XLM-R-large shape (CLIN-X): 24 layers, hidden 1024, 16 heads, vocab 250002, random weights",
        "parameters": _parameters(checkpoint),
        "stages_s": {name: round(value, 1) for name, value in stages.items()},
        "files": files,
        "optimization": {p: v.optimization for p, v in member.variants.items()},
        "parity": manifest.parity,
        "verify": [check.line() for check in checks],
        "runtime": {"provider": runtime.provider, "variant": runtime.variant},
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "peak_rss_child_gb": round(peak_rss_gb(resource.RUSAGE_CHILDREN), 2),
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__, "onnxruntime": onnxruntime.__version__},
        "cpu": _cpu(),
    }
    from benchmarks.results_io import save_results

    print(save_results(args.output, result, _markdown))
    if not args.keep:
        shutil.rmtree(args.work)
    return 0


def _parameters(checkpoint: Path) -> int:
    """Counted from the safetensors headers, without loading 2 GB of weights again."""
    import numpy as np
    from safetensors import safe_open

    total = 0
    for path in checkpoint.glob("*.safetensors"):
        with safe_open(str(path), framework="np") as handle:
            for name in handle.keys():  # noqa: SIM118 - safe_open handles are not iterable
                total += int(np.prod(handle.get_slice(name).get_shape()))
    return total


def _cpu() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor()
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    import os

    return f"{model}, {len(os.sched_getaffinity(0))} cores available"


def _markdown(result: dict[str, Any]) -> str:
    lines = ["# CLIN-X-shaped export", "", f"Model: {result['model']} ({result['parameters'] / 1e6:.0f} M parameters).",
             f"Machine: {result['cpu']}. Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
             "", "Rerun: `nice -n 19 .venv/bin/python benchmarks/clinx_shape_export.py`", "", "## Wall time",
             "", "| stage | seconds |", "|---|---|"]
    lines += [f"| {name} | {seconds} |" for name, seconds in result["stages_s"].items()]
    lines += ["", f"Peak RSS: {result['peak_rss_gb']} GB in the main process (PyTorch model, ONNX Runtime sessions); "
              f"{result['peak_rss_child_gb']} GB in the largest conversion child (fusion, int8 or fp16 run in "
              "child processes for models over 1 GB, so their memory is returned between steps).", "", "## Files", "",
              "| variant | graph | external data | total |", "|---|---|---|---|"]
    for precision, entry in result["files"].items():
        external = ", ".join(f"{name} ({size / 1e9:.2f} GB)" for name, size in entry["external_data"].items()) or "-"
        total = entry["bytes"] + sum(entry["external_data"].values())
        lines.append(f"| {precision} | {entry['file']} ({entry['bytes'] / 1e6:.1f} MB) | {external} | "
                     f"{total / 1e9:.2f} GB |")
    lines += ["", "## Optimisation and parity", "", "```json",
              json.dumps({"optimization": result["optimization"], "parity": result["parity"]}, indent=2), "```", "",
              "## `clinx export verify`", "", "```", *result["verify"], "```", "",
              f"Server runtime: {result['runtime']['provider']}, variant {result['runtime']['variant']}: loaded.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
