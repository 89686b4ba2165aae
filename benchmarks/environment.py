"""The machine a run measures on: its description, its measured matrix rates, and waiting for it to be quiet."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.loadgen import loadavg
from benchmarks.workload import machine_limits

log = logging.getLogger("bench")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def environment(machine: dict[str, Any]) -> dict[str, Any]:
    """CPU, memory, versions and load: stored with every result."""
    import importlib.metadata as metadata

    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    versions = {}
    for package in ("onnxruntime", "torch", "transformers", "tokenizers", "numpy", "fastapi", "uvicorn", "httpx"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {
        "cpu": model, "cores_available": len(os.sched_getaffinity(0)), "cpu_count": os.cpu_count(),
        "cpu_flags": sorted(flag for flag in flags if "avx512" in flag or "vnni" in flag or "amx" in flag),
        "memory": memory.split(":", 1)[1].strip(), "python": platform.python_version(), "kernel": platform.release(),
        "versions": versions, "machine": machine, "loadavg": loadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def best_machine(stored: dict[str, Any], machine: dict[str, Any] | None) -> dict[str, Any]:
    """The highest rates measured on this machine over all runs: other jobs only ever lower them."""
    best = dict(stored.get("machine_best") or machine or {})
    for key, value in (machine or {}).items():
        if key.endswith(("_gflops", "_gops")) and value > best.get(key, 0):
            best[key] = value
    stored["machine_best"] = best
    for record in stored.get("models", {}).values():
        if best.get("fp32_gflops"):
            record["machine_limit_model_tokens_per_s"] = machine_limits(
                best, record["flops_per_token"]["clinx_windows"])
    return best


def measure_machine(device: str, threads: int, scratch: Path) -> dict[str, Any]:
    """GEMM rates with ``threads`` (``machine.py``), or the GPU's matmul rates (``gpu/gpu_machine.py``)."""
    return _cpu_machine(threads, scratch) if device == "cpu" else _gpu_machine(scratch)


def _gpu_machine(scratch: Path) -> dict[str, Any]:
    result = scratch / "gpu-machine.json"
    subprocess.run([sys.executable, str(HERE / "gpu" / "gpu_machine.py"), str(result)], check=True, cwd=ROOT)
    machine: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    machine["loadavg"] = loadavg()
    log.info("GPU %s: fp16 %.0f TFLOP/s, fp32 %.0f TFLOP/s (measured matmul)", machine.get("gpu"),
             machine["fp16_gflops"] / 1e3, machine["fp32_gflops"] / 1e3)
    return machine


def _cpu_machine(threads: int, scratch: Path) -> dict[str, Any]:
    result = scratch / "machine.json"
    subprocess.run([sys.executable, str(HERE / "machine.py"), str(threads), str(result)], check=True, cwd=ROOT,
                   env={**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)})
    machine: dict[str, Any] = json.loads(result.read_text(encoding="utf-8"))
    machine["loadavg"] = loadavg()
    log.info("machine: fp32 %.0f GFLOP/s (numpy %.0f, ORT %.0f), int8 %.0f GOP/s with %d threads",
             machine["fp32_gflops"], machine["numpy_fp32_gflops"], machine["ort_fp32_gflops"],
             machine["ort_int8_gops"], threads)
    return machine


def wait_for_quiet(threshold: float, max_wait_s: float) -> float:
    """Until the 1-minute load average is below ``threshold`` (or ``max_wait_s`` passed); the load then."""
    started = time.monotonic()
    while True:
        load = loadavg()[0]
        if load < threshold or time.monotonic() - started >= max_wait_s:
            if load >= threshold:
                log.warning("1-minute load average still %.2f after %.0f min: measuring anyway", load,
                            max_wait_s / 60)
            return load
        log.info("1-minute load average %.2f >= %.2f: waiting", load, threshold)
        time.sleep(60)
