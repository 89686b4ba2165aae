#!/usr/bin/env bash
# The same comparison as benchmarks/run.py, on a CUDA GPU (written for an H100):
#   naive baseline: transformers pipeline, PyTorch fp32 on the GPU, one request at a time;
#   model-only ceiling: ONNX Runtime CUDA provider with IO binding (the server's Runtime), fp32 and fp16;
#   clinx-serve: CLINX_DEVICE=cuda, CLINX_VARIANT=fp32|fp16, 1/8/32/64 clients, single notes and batches of 8;
#   the GPU's limit: measured fp16 (tensor core) and TF32 matmul rates / the model's FLOPs per token.
#
# Needs, in the Python environment it runs (VENV, default .venv): onnxruntime-gpu (`pip install -e '.[gpu-wheels]'`,
# or '.[gpu]' on a machine with CUDA 13 + cuDNN 9), a CUDA build of torch, transformers, onnx, onnxscript (the
# export: '.[train]' without its CPU onnxruntime), httpx, matplotlib; the MTSamples notes (NOTES); a GPU.
# Bundles (with fp16) are built once into runs/bench-bundles-gpu/. Results: benchmarks/results/gpu/.
#
#   bash benchmarks/gpu/run_gpu.sh            # the measurement
#   bash benchmarks/gpu/run_gpu.sh --quick    # smoke run
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
NOTES=${NOTES:-../shared/data/mtsamples/notes.jsonl}
MODELS=${MODELS:-demo,xlmr-base,clinx-large}
OUTPUT=${OUTPUT:-benchmarks/results/gpu}

nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
"$PY" - <<'PY'
import sys

import onnxruntime as ort
import torch

problems = []
if "CUDAExecutionProvider" not in ort.get_available_providers():
    problems.append(f"onnxruntime {ort.__version__} has no CUDA provider (install onnxruntime-gpu, not onnxruntime)")
if not torch.cuda.is_available():
    problems.append(f"torch {torch.__version__} sees no CUDA device (install a CUDA build of torch)")
if problems:
    sys.exit("\n".join(problems))
print(f"onnxruntime {ort.__version__} {ort.get_available_providers()}; torch {torch.__version__} "
      f"on {torch.cuda.get_device_name(0)}")
PY
test -f "$NOTES" || { echo "MTSamples notes not found at $NOTES (set NOTES=...)" >&2; exit 2; }

"$PY" benchmarks/bundles.py "$MODELS" --root runs/bench-bundles-gpu --fp16 --notes "$NOTES"
exec "$PY" benchmarks/run.py --device cuda --models "$MODELS" --cache runs/bench-bundles-gpu \
  --notes "$NOTES" --output "$OUTPUT" --threads "${THREADS:-4}" "$@"
