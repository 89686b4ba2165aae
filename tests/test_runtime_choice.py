"""Execution provider and variant choice at start-up, on a real server process."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import onnxruntime as ort
import pytest

from app.engine.runtime import CPU, CUDA, choose_variant
from tests.support import ServerProcess


def test_variant_preferences() -> None:
    assert choose_variant("auto", CPU, {"fp32", "int8", "fp16"}) == "int8"
    assert choose_variant("auto", CPU, {"fp32", "fp16"}) == "fp32"
    assert choose_variant("auto", CUDA, {"fp32", "int8", "fp16"}) == "fp16"
    assert choose_variant("auto", CUDA, {"fp32", "int8"}) == "fp32"
    assert choose_variant("fp32", CPU, {"fp32", "int8"}) == "fp32"


def test_cpu_serves_int8_by_default_and_fp32_on_request(tiny_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_bundle, tmp_path, variant="fp32") as server:
        model = httpx.get(server.url + "/info").json()["models"][0]
    assert (model["variant"], model["execution_provider"]) == ("fp32", "CPUExecutionProvider")
    assert model["device_fallback"] is None


def start_failure(bundle: Path, tmp_path: Path, **settings: str) -> str:
    server = ServerProcess.launch(bundle, tmp_path, **settings)
    try:
        assert server.wait_exit(timeout=60) != 0
    finally:
        server.stop()
    return server.log().splitlines()[-1]


@pytest.mark.skipif(CUDA in ort.get_available_providers(), reason="this onnxruntime build has a CUDA provider")
def test_device_cuda_without_a_gpu_fails_start_up(tiny_bundle: Path, tmp_path: Path) -> None:
    line = start_failure(tiny_bundle, tmp_path, device="cuda")
    assert "start-up failed" in line and "CUDA execution provider" in line


def test_a_variant_the_bundle_lacks_fails_start_up(bundle_copy: Path, tmp_path: Path) -> None:
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["members"][0]["variants"].pop("fp16", None)
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    line = start_failure(bundle_copy, tmp_path, variant="fp16")
    assert "variant 'fp16' requested" in line


def test_budget_smaller_than_a_window_fails_start_up(tiny_bundle: Path, tmp_path: Path) -> None:
    line = start_failure(tiny_bundle, tmp_path, max_batch_tokens=10)
    assert "max_batch_tokens 10" in line
