"""The offline GPU kit's dry run (issue 21): a kit built with small parts, then check.sh end to end on the CPU.

The kit carries one bundle (the suite's tiny tagger, standing in for the demo: the real demo takes a
minute to train) and clinx-serve's own wheel; the other wheels are left out since this venv has them.
check.sh joins and checks the parts, installs the wheel offline into its own target folder, and runs
every step of the node check with CLINX_DEVICE=cpu and the CPU onnxruntime: real processes, real
servers on 127.0.0.1, real files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gpu.kit_parts import FILES_LIST, MB, PARTS_LIST, parse_sums

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT.parent / "shared" / "data" / "mtsamples" / "notes.jsonl"
PART_MB = 0.2


@pytest.fixture(scope="module")
def kit(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not NOTES.is_file():
        pytest.skip(f"MTSamples notes not found at {NOTES} (../shared/data is absent on this machine)")
    output = tmp_path_factory.mktemp("kit") / "kit"
    subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu" / "prepare.sh"), "--output", str(output),
                    "--bundle", f"demo={tiny_bundle}:{tiny_bundle.parent / 'checkpoint'}", "--variants", "fp32",
                    "--wheels", "clinx", "--max-part-mb", str(PART_MB), "--sample", "6", "--notes", str(NOTES)],
                   check=True, env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"}, capture_output=True,
                   timeout=600)
    return output


def run_check(kit: Path, work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = ["bash", str(kit / "check.sh"), "--work", str(work), "--python", sys.executable, "--device", "cpu",
               "--threads", "1", "--level-s", "1", "--warmup-s", "0.5", "--drain-s", "3", "--ceiling-s", "1",
               "--matrix-s", "0.2", "--concurrency", "1,4", "--time-box-s", "400", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_every_part_is_under_the_limit_and_listed(kit: Path) -> None:
    parts = dict(parse_sums((kit / PARTS_LIST).read_text()))
    files = [name for name, _ in parse_sums((kit / FILES_LIST).read_text())]
    assert {"check.tar", "bundle-demo.tar", "wheels.tar"} == set(files)
    assert {path.name for path in kit.iterdir()} == {*parts, PARTS_LIST, "sends.json"}
    assert all((kit / name).stat().st_size <= PART_MB * MB for name in parts)
    assert sum(name.startswith("bundle-demo.tar.") for name in parts) > 1  # the fp32 model really was cut
    plan = (kit / "plan.txt").read_text()
    assert all(name in plan for name in parts) and "bash check.sh" in plan


def test_check_runs_end_to_end_on_the_cpu(kit: Path, tmp_path: Path) -> None:
    done = run_check(kit, tmp_path / "work")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = tmp_path / "work" / "results"
    results = json.loads((out / "results.json").read_text())
    shell = {step["name"]: step["status"] for step in results["shell_steps"]}
    # no nvidia-* packages here: the link for preload_dlls is skipped; pip check's verdict is the venv's own
    assert shell == {"verify-parts": "ok", "join": "ok", "install": "ok", "cuda-libraries": "skipped",
                     "pip-check": shell["pip-check"]}
    steps = {step["name"]: step for step in results["steps"]}
    assert {name: step["status"] for name, step in steps.items()} == {
        name: "ok" for name in ("provider", "ceiling:demo-fp32", "serve:demo-fp32", "matrix", "naive:demo")}
    provider = results["provider"]
    assert provider["session_providers"][0] == "CPUExecutionProvider" and provider["logits_finite"]
    # the server and the steps ran clinx-serve from the wheel that check.sh installed offline
    assert provider["app_file"].startswith(str(tmp_path / "work" / "site"))
    model = results["models"]["demo"]
    assert model["ceiling"]["fp32"]["real_tokens_per_s"] > 0
    for level in ("c1", "c4"):
        served = model["clinx"]["fp32"][level]
        assert set(served["statuses"]) == {"200"} and served["latency_n"] > 0
    assert model["server"]["fp32"]["info"]["models"][0]["execution_provider"] == "CPUExecutionProvider"
    assert set(model["baseline"]["c1"]["statuses"]) == {"200"}
    assert model["machine_limit_model_tokens_per_s"]["fp32"] > 0
    report = (out / "report.md").read_text()
    assert "| serve:demo-fp32 | ok |" in report and "## GPU self-check" in report


def test_a_damaged_part_stops_the_check_and_is_named(kit: Path, tmp_path: Path) -> None:
    copy = tmp_path / "kit"
    subprocess.run(["cp", "-r", str(kit), str(copy)], check=True)
    damaged = sorted(copy.glob("bundle-demo.tar.0*"))[1]
    data = bytearray(damaged.read_bytes())
    data[100] ^= 0xFF
    damaged.write_bytes(bytes(data))
    done = run_check(copy, tmp_path / "work")
    assert done.returncode == 1
    results = json.loads((tmp_path / "work" / "results" / "results.json").read_text())
    assert results["stopped"]["name"] == "verify-parts" and damaged.name in results["stopped"]["detail"]
