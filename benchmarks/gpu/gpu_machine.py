"""The GPU's limit: measured dense matmul rates (torch, CUDA), for the tokens/s the model could reach.

fp16 and bf16 (tensor cores), TF32 (what ONNX Runtime's CUDA provider uses for fp32 MatMul by
default) and strict fp32, on 8192 x 8192 x 8192, best of about ``seconds`` (default 3) each.

    .venv/bin/python benchmarks/gpu/gpu_machine.py result.json [seconds]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

SIZE = 8192


def _rate(torch: Any, dtype: Any, tf32: bool, seconds: float = 3.0) -> float:
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(SIZE, SIZE, device="cuda", dtype=dtype)
    b = torch.randn(SIZE, SIZE, device="cuda", dtype=dtype)
    flops = 2.0 * SIZE**3
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    best = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(10):
            a @ b
        end.record()
        torch.cuda.synchronize()
        best = max(best, 10 * flops / (start.elapsed_time(end) / 1000))
    return best / 1e9


def measure(seconds: float = 3.0) -> dict[str, Any]:
    import torch

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to torch")
    result = {
        "gpu": torch.cuda.get_device_name(0),
        "shape": [SIZE, SIZE, SIZE],
        "fp16_gflops": _rate(torch, torch.float16, tf32=False, seconds=seconds),
        "bf16_gflops": _rate(torch, torch.bfloat16, tf32=False, seconds=seconds),
        "tf32_gflops": _rate(torch, torch.float32, tf32=True, seconds=seconds),
        "fp32_strict_gflops": _rate(torch, torch.float32, tf32=False, seconds=seconds),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "seconds_per_rate": seconds,
    }
    result["fp32_gflops"] = result["tf32_gflops"]  # ORT's CUDA provider runs fp32 MatMul in TF32 by default
    return result


def main() -> int:
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    Path(sys.argv[1]).write_text(json.dumps(measure(seconds)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
