"""Broken deployments fail fast and plainly (issue 9): one error line naming the cause, a non-zero exit,
readiness never true, and no note text in the log even when requests arrive during start-up."""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import onnx
import pytest

from app.bundle import file_entry
from tests.support import ServerProcess
from tests.test_reliability_support import PHI_NOTE, assert_no_phi, error_records

START_UP_LIMIT_S = 30.0  # "seconds": imports and checksums of the tiny bundle on a busy 2-core machine


def edit_manifest(bundle: Path, edit: Any) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest, indent=2))


def fp32_only(bundle: Path) -> None:
    """Keep only the fp32 variant (what a > 2 GB model ships with), so that is the one the server loads."""
    def drop(manifest: dict[str, Any]) -> None:
        for member in manifest["members"]:
            for precision in [p for p in member["variants"] if p != "fp32"]:
                (bundle / member["variants"].pop(precision)["file"]).unlink()

    edit_manifest(bundle, drop)


def with_external_data(bundle: Path) -> Path:
    """Re-save model.onnx with its weights in model.onnx.data and list that file under the variant."""
    fp32_only(bundle)
    model = onnx.load(str(bundle / "model.onnx"))
    onnx.save(model, str(bundle / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="model.onnx.data", size_threshold=0)

    def list_data(manifest: dict[str, Any]) -> None:
        variant = manifest["members"][0]["variants"]["fp32"]
        variant.update(file_entry(bundle, "model.onnx").model_dump())
        variant["external_data"] = [file_entry(bundle, "model.onnx.data").model_dump()]

    edit_manifest(bundle, list_data)
    return bundle / "model.onnx.data"


@dataclass
class StartUp:
    code: int
    seconds: float
    ready_statuses: list[int]
    server: ServerProcess


def start_and_watch(bundle: Path, log_dir: Path, **settings: Any) -> StartUp:
    """Launch, poll /health/ready (and send a PHI note to /extract) until the process exits."""
    server = ServerProcess.launch(bundle, log_dir, log_level="debug", **settings)
    started = time.monotonic()
    statuses: list[int] = []
    try:
        while server.process.poll() is None and time.monotonic() - started < START_UP_LIMIT_S + 30:
            with contextlib.suppress(httpx.TransportError):
                statuses.append(httpx.get(server.url + "/health/ready", timeout=2).status_code)
                httpx.post(server.url + "/extract", json={"text": PHI_NOTE}, timeout=2)
            time.sleep(0.05)
        code = server.wait_exit(timeout=30)
    finally:
        server.stop()
    return StartUp(code, time.monotonic() - started, statuses, server)


def assert_failed_plainly(outcome: StartUp, *expected: str) -> None:
    log = outcome.server.log()
    assert outcome.code != 0, log
    assert outcome.seconds < START_UP_LIMIT_S, outcome.seconds
    assert 200 not in outcome.ready_statuses and set(outcome.ready_statuses) <= {503}, outcome.ready_statuses
    errors = error_records(outcome.server)
    assert len(errors) == 1, log  # exactly one error line ...
    for fragment in expected:  # ... naming the cause, repeated as the process's last words
        assert fragment in str(errors[0]["message"]), errors[0]
        assert fragment in log.splitlines()[-1], log.splitlines()[-1]
    assert "Traceback" not in log
    assert_no_phi(outcome.server)


def test_external_data_bundle_serves(bundle_copy: Path, tmp_path: Path) -> None:
    """The positive control: a variant with its weights in an external data file loads and answers."""
    with_external_data(bundle_copy)
    with ServerProcess.start(bundle_copy, tmp_path) as server:
        response = httpx.post(server.url + "/extract", json={"text": PHI_NOTE}, timeout=30)
        info = httpx.get(server.url + "/info", timeout=10).json()
    assert response.status_code == 200
    assert info["models"][0]["variant"] == "fp32"


def test_missing_external_data_file_fails_naming_it(bundle_copy: Path, tmp_path: Path) -> None:
    with_external_data(bundle_copy).unlink()
    outcome = start_and_watch(bundle_copy, tmp_path)
    assert_failed_plainly(outcome, "model.onnx.data", "missing")


def test_corrupt_external_data_file_fails_naming_it(bundle_copy: Path, tmp_path: Path) -> None:
    data = with_external_data(bundle_copy)
    data.write_bytes(data.read_bytes()[:-4])  # truncated copy
    outcome = start_and_watch(bundle_copy, tmp_path)
    assert_failed_plainly(outcome, "model.onnx.data", "size")


def test_onnx_that_cannot_load_fails_naming_the_file(bundle_copy: Path, tmp_path: Path) -> None:
    """Garbage with a matching checksum passes verification; ONNX Runtime refuses it, and the server says so."""
    target = bundle_copy / "model.int8.onnx"  # what the CPU loads by default
    target.write_bytes(b"\x08\x07garbage, not a protobuf " + os.urandom(4096))

    def rehash(manifest: dict[str, Any]) -> None:
        manifest["members"][0]["variants"]["int8"].update(file_entry(bundle_copy, "model.int8.onnx").model_dump())

    edit_manifest(bundle_copy, rehash)
    outcome = start_and_watch(bundle_copy, tmp_path)
    assert_failed_plainly(outcome, "model.int8.onnx", "ONNX Runtime cannot load")


def test_unusable_device_fails_naming_it(tiny_bundle: Path, tmp_path: Path) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime build has CUDA: CLINX_DEVICE=cuda may well work here")
    outcome = start_and_watch(tiny_bundle, tmp_path, device="cuda")
    assert_failed_plainly(outcome, "CUDA")
