"""The machine's limit: measured matrix-multiply rates with a given number of threads.

fp32: numpy (OpenBLAS) and ONNX Runtime ``MatMul``; int8: ONNX Runtime ``MatMulInteger`` (uint8 x
int8 -> int32, what dynamically quantised models run). Shapes are a transformer layer's
(tokens x hidden) @ (hidden x 4*hidden). Run as its own process: the thread count is fixed by the
environment before numpy loads.

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 .venv/bin/python benchmarks/machine.py 2 result.json
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

M, K, N = 2048, 1024, 4096


def _rate(call: Any, flops: float, seconds: float = 3.0) -> float:
    call()
    best = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        call()
        best = max(best, flops / (time.perf_counter() - started))
    return best / 1e9


def _ort_session(threads: int, integer: bool) -> Any:

    import onnxruntime as ort
    from onnx import TensorProto, helper

    if integer:
        node = helper.make_node("MatMulInteger", ["a", "b"], ["c"])
        inputs = [helper.make_tensor_value_info("a", TensorProto.UINT8, [M, K]),
                  helper.make_tensor_value_info("b", TensorProto.INT8, [K, N])]
        output = helper.make_tensor_value_info("c", TensorProto.INT32, [M, N])
    else:
        node = helper.make_node("MatMul", ["a", "b"], ["c"])
        inputs = [helper.make_tensor_value_info("a", TensorProto.FLOAT, [M, K]),
                  helper.make_tensor_value_info("b", TensorProto.FLOAT, [K, N])]
        output = helper.make_tensor_value_info("c", TensorProto.FLOAT, [M, N])
    graph = helper.make_graph([node], "gemm", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(),
                                options, providers=["CPUExecutionProvider"])


def measure(threads: int, seconds: float = 3.0) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((M, K), dtype=np.float32)
    b = rng.standard_normal((K, N), dtype=np.float32)
    flops = 2.0 * M * K * N
    result: dict[str, Any] = {"threads": threads, "shape": [M, K, N]}
    result["numpy_fp32_gflops"] = _rate(lambda: a @ b, flops, seconds)
    fp32 = _ort_session(threads, integer=False)
    result["ort_fp32_gflops"] = _rate(lambda: fp32.run(None, {"a": a, "b": b}), flops, seconds)
    a8 = rng.integers(0, 255, (M, K), dtype=np.uint8)
    b8 = rng.integers(-127, 127, (K, N), dtype=np.int8)
    int8 = _ort_session(threads, integer=True)
    result["ort_int8_gops"] = _rate(lambda: int8.run(None, {"a": a8, "b": b8}), flops, seconds)
    result["fp32_gflops"] = max(result["numpy_fp32_gflops"], result["ort_fp32_gflops"])
    return result


def main() -> int:
    threads = int(sys.argv[1])
    Path(sys.argv[2]).write_text(json.dumps(measure(threads)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
