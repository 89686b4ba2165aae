"""One step of the node's self-check, run in its own process group so that the time box can end it.

Each step reads a JSON plan and writes a JSON result; the measuring itself is the benchmark harness's:
``ceiling.py`` (model-only ceiling), ``server_process.py`` and ``levels.py`` (clinx serve, naive
baseline), ``gpu_machine.py`` / ``machine.py`` (matrix rates).

    python -m benchmarks.gpu.node_steps provider|ceiling|serve|naive|matrix plan.json result.json
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.levels import run_level  # noqa: E402
from benchmarks.profiles import STRIDE, Level, Profile  # noqa: E402
from benchmarks.server_process import bench_server, naive_server, proc_memory  # noqa: E402

WEIGHT_FILES = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt")
CUDA_LIBRARIES = re.compile(r"lib(cudart|cublas|cublasLt|cudnn|curand|cufft|nvrtc)[^/]*\.so[.0-9]*$")


def provider(plan: dict[str, Any]) -> dict[str, Any]:
    """Does ONNX Runtime's CUDA provider really initialise? The server's own ``Runtime`` on one batch.

    ``onnxruntime.preload_dlls()`` loads CUDA and cuDNN from the nvidia-* pip packages; which
    libraries ended up in the process is read from /proc/self/maps.
    """
    import numpy as np
    import onnxruntime as ort

    import app
    from app.bundle import verify_bundle
    from app.engine.runtime import Runtime

    result: dict[str, Any] = {"onnxruntime": ort.__version__, "onnxruntime_file": ort.__file__,
                              "available_providers": ort.get_available_providers(), "device": plan["device"],
                              "app_file": app.__file__}
    if plan["device"] == "cuda":
        said = io.StringIO()
        try:
            with contextlib.redirect_stdout(said), warnings.catch_warnings(record=True) as warned:
                ort.preload_dlls()  # it prints what it could not load, and carries on
            result["preload_dlls"] = "ok"
        except Exception as error:  # recorded: the system's CUDA may still be found
            result["preload_dlls"] = f"{type(error).__name__}: {error}"
            warned = []
        result["preload_dlls_said"] = said.getvalue().strip().splitlines() + [str(w.message) for w in warned]
        result["cuda_libraries"] = sorted({line.split()[-1] for line in Path("/proc/self/maps").read_text()
                                           .splitlines() if CUDA_LIBRARIES.search(line)})
    bundle = Path(plan["bundle"])
    manifest = verify_bundle(bundle, {plan["variant"]})
    started = time.perf_counter()
    runtime = Runtime(bundle, manifest, device=plan["device"], variant=plan["variant"],
                      intra_op_threads=plan["threads"])
    result["session_s"] = time.perf_counter() - started
    result["session_providers"] = runtime.sessions[0].get_providers()
    ids = np.full((2, 64), manifest.special.pad_id, dtype=np.int64)
    ids[:, 0], ids[:, 1:63], ids[:, 63] = manifest.special.cls_id, 5, manifest.special.sep_id
    started = time.perf_counter()
    logits = runtime.run(ids, np.ones_like(ids))[0]
    result.update(first_run_s=time.perf_counter() - started, logits_shape=list(logits.shape),
                  logits_finite=bool(np.isfinite(logits).all()), provider=runtime.provider, variant=runtime.variant)
    return result


def ceiling(plan: dict[str, Any]) -> dict[str, Any]:
    from benchmarks import ceiling as model_only

    result: dict[str, Any] = model_only.run(plan)
    return result


def _profile(plan: dict[str, Any]) -> Profile:
    return Profile(notes=len(plan["work"]["notes"]), levels={}, duration_s=plan["level_s"],
                           warmup_s=plan["warmup_s"], drain_s=plan["drain_s"], ceiling_s=0, baseline_levels=(),
                           baseline_s=0, half_load_variants=(), half_load_s=0)


def _levels(plan: dict[str, Any], url: str, pid: int, clinx: bool) -> dict[str, Any]:
    """Closed-loop levels (one note per request) against a running server; stops at the first failure."""
    scratch = Path(plan["scratch"])
    scratch.mkdir(parents=True, exist_ok=True)
    levels: dict[str, Any] = {}
    for concurrency in plan["concurrency"]:
        level = Level(concurrency)
        analysed, _ = run_level(url, pid, level, plan["work"], _profile(plan), scratch, f"{plan['tag']}-{level.name}",
                                clinx)
        analysed["server_memory"] = proc_memory(pid)
        analysed["gpu_memory_used_mib"] = gpu_memory_used()
        levels[level.name] = analysed
        print(f"{plan['tag']} {level.name}: {json.dumps(_headline(analysed))}", flush=True)
    return levels


def _headline(level: dict[str, Any]) -> dict[str, Any]:
    keys = ("statuses", "latency_p50_s", "latency_p99_s", "notes_per_s", "model_tokens_per_s")
    return {key: level.get(key) for key in keys}


def serve(plan: dict[str, Any]) -> dict[str, Any]:
    """``clinx serve`` (CLINX_DEVICE, CLINX_VARIANT) at each concurrency, single-note requests."""
    log_path = Path(plan["log_dir"]) / f"{plan['tag']}-server.log"
    started = time.monotonic()
    with bench_server(Path(plan["bundle"]), plan["variant"], plan["threads"], plan["device"], log_path) as server:
        ready_s = time.monotonic() - started
        info = server_info(server.url)
        return {"ready_s": ready_s, "info": info, "levels": _levels(plan, server.url, server.pid, clinx=True)}


def server_info(url: str) -> dict[str, Any]:
    """What the server says it runs (provider, variant, batch budget): ``GET /info``."""
    import httpx

    payload: dict[str, Any] = httpx.get(url + "/info", timeout=30).json()
    return payload


def materialise_checkpoint(skeleton: Path, target: Path) -> Path:
    """The model's architecture and tokenizer with random weights: the naive baseline's speed is the same."""
    from transformers import AutoConfig, AutoModelForTokenClassification

    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(skeleton, target, ignore=shutil.ignore_patterns(*WEIGHT_FILES))
    model = AutoModelForTokenClassification.from_config(AutoConfig.from_pretrained(skeleton))
    model.save_pretrained(target)
    return target


def naive(plan: dict[str, Any]) -> dict[str, Any]:
    """transformers ``pipeline`` in PyTorch fp32 on the device, one request at a time (benchmarks/naive_server.py)."""
    import torch

    if plan["device"] == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"torch {torch.__version__} sees no CUDA device")
    checkpoint = materialise_checkpoint(Path(plan["skeleton"]), Path(plan["scratch"]) / f"{plan['tag']}-checkpoint")
    log_path = Path(plan["log_dir"]) / f"{plan['tag']}-naive-server.log"
    with naive_server(checkpoint, plan["threads"], plan["device"], STRIDE, log_path) as server:
        return {"weights": "random (the bundle's architecture and tokenizer; speed only)", "torch": torch.__version__,
                "levels": _levels(plan, server.url, server.pid, clinx=False)}


def matrix(plan: dict[str, Any]) -> dict[str, Any]:
    """The device's measured matrix rates: torch matmul on the GPU, or ``machine.py`` on the CPU."""
    if plan["device"] == "cuda":
        from benchmarks.gpu import gpu_machine

        return gpu_machine.measure(plan["seconds"])
    os.environ.setdefault("OMP_NUM_THREADS", str(plan["threads"]))
    from benchmarks import machine

    measured: dict[str, Any] = machine.measure(plan["threads"], plan["seconds"])
    return measured


def gpu_memory_used() -> list[int] | None:
    """MiB in use on each GPU (nvidia-smi), or None without one."""
    import subprocess

    if not shutil.which("nvidia-smi"):
        return None
    try:
        text = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=20, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    return [int(value) for value in text.split()]


STEPS = {"provider": provider, "ceiling": ceiling, "serve": serve, "naive": naive, "matrix": matrix}


def main() -> int:
    kind, plan_path, result_path = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    plan = json.loads(plan_path.read_text(encoding="utf-8"))
    result = STEPS[kind](plan)
    result_path.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
