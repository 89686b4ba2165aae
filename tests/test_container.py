"""The CPU serving image, built and run for real with ``../shared/tools/container-build.sh`` (buildah with
chroot isolation on a local Debian bookworm base; no Docker engine, no registry).

The script has no ``--build-arg`` passthrough, so the CPU flavour is selected by building a copy of the
Dockerfile whose ``ARG FLAVOUR=gpu`` line reads ``ARG FLAVOUR=cpu`` (written to a temporary directory, the
build context stays the repository root). Then, inside the image: the build-time check, no torch /
transformers / compilers, a non-root user, and a real ``clinx serve`` on the host network: ready, a valid
``POST /extract``, SIGTERM, drain and exit 0.

Needs root and buildah, podman and mmdebstrap (installed with apt-get when missing; the test is skipped
with the reason when that is impossible). Cold (base image made by mmdebstrap) about 1-2 minutes, warm
(base cached by buildah) well under a minute plus the server start.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ServerProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
SCRIPT = ROOT.parent / "shared" / "tools" / "container-build.sh"
DEMO_BUNDLE = ROOT / "models" / "demo"
TAG = "localhost/clinx:cpu-test"
IMAGE_UID = 10001
TOOLS = ("buildah", "podman", "mmdebstrap")
GPU_DEFAULT = "ARG FLAVOUR=gpu"
BUILD_TIMEOUT_S = 480
READY_TIMEOUT_S = 180

pytestmark = [pytest.mark.slow, pytest.mark.container, pytest.mark.timeout(600)]


# ------------------------------------------------------------------------------------------ helpers


def cpu_dockerfile(source: Path, target_dir: Path) -> Path:
    """The Dockerfile with the FLAVOUR default switched to cpu (nothing else changes), in ``target_dir``."""
    lines = source.read_text().splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.strip() == GPU_DEFAULT]
    assert len(hits) == 1, f"expected exactly one '{GPU_DEFAULT}' line in {source.name}, found {len(hits)}"
    lines[hits[0]] = lines[hits[0]].replace("FLAVOUR=gpu", "FLAVOUR=cpu")
    target = target_dir / "Dockerfile.cpu"
    target.write_text("".join(lines))
    return target


def script(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """Run container-build.sh from the repository root (the build context is the working directory)."""
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, check=False)


def run_in_image(*command: str, volumes: tuple[str, ...] = (), timeout: float = 120
                 ) -> subprocess.CompletedProcess[str]:
    """``container-build.sh run TAG [-v ...] -- command...`` (the image's ENV, USER and WORKDIR apply)."""
    mounts = [arg for volume in volumes for arg in ("-v", volume)]
    return script("run", TAG, *mounts, "--", *command, timeout=timeout)


def readable_copy(bundle: Path, target: Path) -> Path:
    """A copy of the bundle the image's uid 10001 can read (exported bundles may be 0700 directories)."""
    shutil.copytree(bundle, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def children(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cmdline(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return [part for part in Path(f"/proc/{pid}/cmdline").read_text().split("\0") if part]
    return []


def container_main_process(script_pid: int) -> int | None:
    """The command ``buildah run`` started in the container: the child of ``buildah-chroot-exec``.

    That is where a container runtime delivers its stop signal. The script's own SIGTERM handling does not
    reach it cleanly: buildah (1.28, chroot isolation) ends the command with SIGKILL instead of forwarding.
    """
    queue = [script_pid]
    while queue:
        pid = queue.pop(0)
        kids = children(pid)
        args = cmdline(pid)
        if args and os.path.basename(args[0]) == "buildah-chroot-exec" and kids:
            return kids[0]
        queue += kids
    return None


@contextlib.contextmanager
def container_server(bundle: Path, log_dir: Path) -> Iterator[ServerProcess]:
    """``clinx serve`` inside the image, run by ``container-build.sh run`` in its own session.

    Ended with SIGKILL to the whole session (buildah, the chroot runtime, the server) if still running.
    """
    port = free_port()
    # The image sets CLINX_HOST=0.0.0.0 and CLINX_PORT=8000; `run` has no -e, so env(1) picks a free port.
    command = ["bash", str(SCRIPT), "run", TAG, "-v", f"{bundle}:/models/clinx:ro", "--",
               "env", f"CLINX_PORT={port}", "clinx", "serve"]
    server = ServerProcess.spawn(command, dict(os.environ), port, log_dir / f"container-{port}.log", cwd=ROOT,
                                 new_session=True)
    try:
        yield server
    finally:
        server.kill_session()
        server.stop()


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def container_tools() -> None:
    """Root, the build script, and buildah/podman/mmdebstrap (apt-get installed here when missing)."""
    if os.geteuid() != 0:
        pytest.skip("container tests need root (buildah with chroot isolation, mmdebstrap)")
    if not SCRIPT.is_file():
        pytest.skip(f"{SCRIPT} not found (the shared tools folder is absent on this machine)")
    if all(shutil.which(name) for name in TOOLS):
        return
    if shutil.which("apt-get") is None:
        pytest.skip(f"{', '.join(TOOLS)} missing and no apt-get to install them")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *TOOLS]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, check=False)
        if result.returncode != 0:
            pytest.skip(f"cannot install {', '.join(TOOLS)}: `{' '.join(command)}` failed:\n{result.stderr[-2000:]}")
    missing = [name for name in TOOLS if shutil.which(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} still missing after apt-get install")


@pytest.fixture(scope="module")
def cpu_image(container_tools: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build the CPU flavour once per module; the previous test image is removed first (no dangling copies)."""
    subprocess.run(["buildah", "rmi", "--force", TAG], capture_output=True, timeout=120, check=False)
    dockerfile = cpu_dockerfile(DOCKERFILE, tmp_path_factory.mktemp("dockerfile"))
    start = time.monotonic()
    result = script("build", str(dockerfile), TAG, timeout=BUILD_TIMEOUT_S)
    elapsed = time.monotonic() - start
    assert result.returncode == 0, (
        f"image build failed after {elapsed:.0f} s (rc {result.returncode}):\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    )
    assert f"built {TAG}" in result.stdout
    print(f"\nbuilt {TAG} in {elapsed:.0f} s")
    return TAG


@pytest.fixture(scope="module")
def served_bundle(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo bundle when it has been built (``make demo``), else the tiny test bundle; as a readable copy."""
    source = DEMO_BUNDLE if (DEMO_BUNDLE / "manifest.json").is_file() else request.getfixturevalue("tiny_bundle")
    return readable_copy(source, tmp_path_factory.mktemp("served") / "bundle")


# ------------------------------------------------------------------------------------------ tests


def test_cpu_dockerfile_differs_only_in_the_flavour_default(tmp_path: Path) -> None:
    generated = cpu_dockerfile(DOCKERFILE, tmp_path).read_text().splitlines()
    original = DOCKERFILE.read_text().splitlines()
    changed = [(a, b) for a, b in zip(original, generated, strict=True) if a != b]
    assert changed == [(GPU_DEFAULT, "ARG FLAVOUR=cpu")]
    hadolint = shutil.which("hadolint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if hadolint is not None:
        result = subprocess.run([hadolint, "--config", str(ROOT / ".hadolint.yaml"), "--no-color",
                                 str(tmp_path / "Dockerfile.cpu")], capture_output=True, text=True, timeout=120,
                                check=False)
        assert result.returncode == 0 and not result.stdout.strip(), f"hadolint:\n{result.stdout}{result.stderr}"


def test_image_config(cpu_image: str) -> None:
    result = subprocess.run(["buildah", "inspect", "--type", "image", cpu_image], capture_output=True, text=True,
                            timeout=60, check=True)
    config = json.loads(result.stdout)["OCIv1"]["config"]
    assert config["User"].split(":")[0] == str(IMAGE_UID)
    assert config["Cmd"] == ["clinx", "serve"]
    assert config.get("WorkingDir") == "/home/clinx"
    assert "8000/tcp" in config.get("ExposedPorts", {})
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["CLINX_HOST"] == "0.0.0.0" and env["CLINX_PORT"] == "8000"
    assert env["CLINX_BUNDLE"] == "/models/clinx"
    assert env["PATH"].startswith("/opt/venv/bin:")
    inspect = subprocess.run(["podman", "image", "inspect", cpu_image], capture_output=True, text=True, timeout=60,
                             check=True)
    size = json.loads(inspect.stdout)[0]["Size"]
    print(f"\n{cpu_image}: {size / 1e6:.0f} MB")
    assert size < 1_000_000_000, f"CPU image is {size / 1e6:.0f} MB; expected well under 1 GB"


PROBE = """
import importlib.util, json, os, shutil, subprocess, sys
check = subprocess.run([sys.executable, "-I", "/opt/clinx-check/check_image.py", "cpu"], capture_output=True, text=True)
print(json.dumps({
    "uid": os.getuid(), "gid": os.getgid(), "home_writable": os.access(os.path.expanduser("~"), os.W_OK),
    "modules": {m: importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "onnxruntime", "app")},
    "compilers": {c: shutil.which(c) for c in ("gcc", "cc", "c++", "g++", "clang", "tcc", "x86_64-linux-gnu-gcc")},
    "clinx": shutil.which("clinx"), "python": sys.executable, "version": list(sys.version_info[:2]),
    "check": [check.returncode, check.stdout + check.stderr],
    "bundle_dir": sorted(os.listdir("/models/clinx")),
}))
"""


def test_image_contents(cpu_image: str) -> None:
    result = run_in_image("python3", "-c", PROBE, volumes=(f"{ROOT / 'deploy' / 'docker'}:/opt/clinx-check:ro",))
    assert result.returncode == 0, result.stdout + result.stderr
    facts: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["uid"] == IMAGE_UID and facts["gid"] == IMAGE_UID, "the image must run as the unprivileged user"
    assert facts["home_writable"]
    assert facts["modules"] == {"torch": False, "transformers": False, "onnxruntime": True, "app": True}
    assert all(path is None for path in facts["compilers"].values()), f"compilers in the image: {facts['compilers']}"
    assert facts["clinx"] == "/opt/venv/bin/clinx" and facts["python"].startswith("/opt/venv/")
    assert facts["version"] >= [3, 11]
    assert facts["check"][0] == 0, facts["check"][1]
    assert "cpu environment OK" in facts["check"][1]
    assert facts["bundle_dir"] == [".keep"], "no bundle is baked in by default"


def test_serves_extract_and_drains_on_sigterm(cpu_image: str, served_bundle: Path, tmp_path: Path) -> None:
    manifest = json.loads((served_bundle / "manifest.json").read_text())
    text = "Patient denies chest pain. Started metformin 500 mg for type 2 diabetes; CBC and chest X-ray ordered."
    with container_server(served_bundle, tmp_path) as server:
        ready_after = server.wait_ready(READY_TIMEOUT_S)
        print(f"\nready after {ready_after:.1f} s")
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert client.get("/health/live").status_code == 200
            response = client.post("/extract", json={"text": text})
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["model"]["name"] == manifest["name"]
            [document] = body["documents"]
            assert document["stats"]["characters"] == len(text)
            labels = set(manifest["entity_types"])
            for entity in document["entities"]:
                assert text[entity["start"] : entity["end"]] == entity["text"] and entity["text"]
                assert entity["label"] in labels and 0.0 <= entity["score"] <= 1.0
            if manifest["name"] == "clinx-demo":
                assert document["entities"], "the demo model found nothing in an obvious note"
            info = client.get("/info").json()
            assert info["models"][0]["execution_provider"] == "CPUExecutionProvider"

        main = container_main_process(server.process.pid)
        assert main is not None, f"no process found under buildah-chroot-exec:\n{server.log()}"
        assert "serve" in cmdline(main), cmdline(main)
        os.kill(main, signal.SIGTERM)
        code = server.process.wait(timeout=90)
        log = server.log()
        assert code == 0, f"container exited with {code} after SIGTERM:\n{log}"
        assert "draining" in log and "Application shutdown complete" in log, log
