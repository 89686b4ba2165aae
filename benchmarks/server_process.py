"""A server as a real process on 127.0.0.1: start, wait until ready, read its log and memory, stop.

The one way the tests (``tests/support.py``), the soak (``benchmarks/soak.py``) and the benchmarks
(``benchmarks/run.py``, ``benchmarks/ab_engine.py``) run ``clinx serve`` or the naive baseline, so that
readiness, log capture and shutdown behave the same wherever a number or a verdict comes from.
Imports nothing from ``app``: a checkout of another commit can be served with its own code (``root``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
# The module that runs the `clinx` command. Checkouts from before the command moved out of `app/`
# (issue 14) only have `app.cli`; ``serve_command`` picks by what the served checkout holds.
CLI_MODULE = "clinx_cli"
OLD_CLI_MODULE = "app.cli"
EXTRACT_STATUS = re.compile(r'^clinx_requests_total\{route="/extract",status="(\d+)"\} (\S+)$', re.MULTILINE)


def serve_command(root: Path = ROOT) -> list[str]:
    """``python -m <cli> serve`` for the checkout at ``root``."""
    module = CLI_MODULE if (root / CLI_MODULE.replace(".", "/")).is_dir() else OLD_CLI_MODULE
    return [sys.executable, "-m", module, "serve"]


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes."""
    memory = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            memory[key] = int(value.split()[0]) * 1024
    if "VmRSS" not in memory:
        raise RuntimeError(f"no VmRSS for process {pid}")
    return memory


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS)."""
    return proc_memory(pid)["VmRSS"]


def clinx_env(bundle: Path | str, port: int, settings: Mapping[str, Any]) -> dict[str, str]:
    """This process's environment without its CLINX_* variables, plus the bundle, the port and ``settings``.

    ``settings`` are the server's settings by name (``max_batch_tokens=512`` -> ``CLINX_MAX_BATCH_TOKENS``).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLINX_")}
    env.update({"CLINX_BUNDLE": str(bundle), "CLINX_PORT": str(port), "CLINX_HOST": "127.0.0.1"})
    env.update({f"CLINX_{key.upper()}": str(value) for key, value in settings.items()})
    return env


@dataclass
class ServerProcess:
    """A server in a subprocess on 127.0.0.1, stdout and stderr captured to ``log_path``."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    _log_handle: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    # --- starting -----------------------------------------------------------------------------------------

    @classmethod
    def spawn(cls, command: list[str], env: dict[str, str], port: int, log_path: Path, *, cwd: Path = ROOT,
              new_session: bool = False) -> ServerProcess:
        """Any server command that listens on ``port`` and answers ``/health/ready`` (clinx, the naive one, or
        a container runner); ``new_session`` puts it in its own process group (see ``kill_session``)."""
        handle = log_path.open("wb")
        try:
            process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd,
                                       start_new_session=new_session)
        except BaseException:
            handle.close()
            raise
        return cls(process, port, log_path, env, handle)

    @classmethod
    def launch(cls, bundle: Path | str, log_dir: Path, *, log_name: str | None = None, root: Path = ROOT,
               extra_env: Mapping[str, str] | None = None, **settings: Any) -> ServerProcess:
        """``clinx serve`` on ``bundle`` with ``settings``; the log is ``log_dir/log_name`` (default per port).

        ``root``: the checkout whose code serves (its ``app`` is imported: the working directory).
        """
        port = free_port()
        env = clinx_env(bundle, port, settings)
        env.update(extra_env or {})
        log_path = log_dir / (log_name or f"server-{port}.log")
        return cls.spawn(serve_command(root), env, port, log_path, cwd=root)

    @classmethod
    @contextlib.contextmanager
    def start(cls, bundle: Path | str, log_dir: Path, wait_ready: bool = True, *, ready_timeout_s: float = 120.0,
              log_name: str | None = None, root: Path = ROOT, extra_env: Mapping[str, str] | None = None,
              **settings: Any) -> Iterator[ServerProcess]:
        """``launch``, wait until ready, and stop (SIGTERM) on the way out, whatever happened."""
        server = cls.launch(bundle, log_dir, log_name=log_name, root=root, extra_env=extra_env, **settings)
        with server.running(wait_ready, ready_timeout_s):
            yield server

    @contextlib.contextmanager
    def running(self, wait_ready: bool = True, ready_timeout_s: float = 120.0) -> Iterator[ServerProcess]:
        """This process until the block ends, then stopped."""
        try:
            if wait_ready:
                self.wait_ready(ready_timeout_s)
            yield self
        finally:
            self.stop()

    # --- while it runs ------------------------------------------------------------------------------------

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Until ``/health/ready`` answers 200 (the seconds it took); fails with the log's end if the process
        exits first."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()[-5000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health/ready", timeout=5).status_code == 200:
                    return time.monotonic() - started
            time.sleep(0.1)
        raise TimeoutError(f"server not ready after {timeout} s:\n{self.log()[-5000:]}")

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM of the server process, in bytes."""
        return proc_memory(self.pid)

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def statuses(self) -> dict[str, int]:
        """What the server answered on /extract, by status (from its /metrics)."""
        text = httpx.get(self.url + "/metrics", timeout=10).text
        return {status: int(float(value)) for status, value in EXTRACT_STATUS.findall(text)}

    # --- stopping -----------------------------------------------------------------------------------------

    def terminate(self) -> None:
        """SIGTERM (a graceful drain), without waiting."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_exit(self, timeout: float = 60.0) -> int:
        return self.process.wait(timeout=timeout)

    def kill_session(self) -> None:
        """Last resort for a server spawned with ``new_session``: SIGKILL its whole process group."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then SIGKILL if it has not exited after ``timeout``; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None
        return self.process.returncode

    # --- the log ------------------------------------------------------------------------------------------

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The log's JSON lines (the server logs JSON; other lines are skipped)."""
        records = []
        for line in self.log().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                record = json.loads(line)
                if isinstance(record, dict):
                    records.append(record)
        return records

    def error_lines(self) -> dict[str, int]:
        """Error-level log lines counted by logger and first line (server messages never quote note text)."""
        counts: dict[str, int] = {}
        for record in self.log_records():
            if record.get("level") in ("error", "critical"):
                first_line = (str(record.get("message", "")).splitlines() or [""])[0]
                key = f"{record.get('logger')}: {first_line[:160]}"
                counts[key] = counts.get(key, 0) + 1
        return counts


# --- the benchmarks' two contenders -----------------------------------------------------------------------

# Settings of every measured clinx-serve: 64 clients x 8 long notes stay admitted (we measure, not shed).
BENCH_SETTINGS: dict[str, Any] = {"max_queue_tokens": 16_000_000, "request_timeout_s": 1800,
                                  "max_request_timeout_s": 1800, "log_level": "warning"}
BENCH_READY_TIMEOUT_S = 900.0  # the CLIN-X shape loads and warms up in minutes on a busy CPU


def bench_server(bundle: Path, variant: str, threads: int, device: str, log_path: Path, *, root: Path = ROOT
                 ) -> contextlib.AbstractContextManager[ServerProcess]:
    """clinx-serve as the benchmarks measure it: one variant, ``threads`` intra-op threads, shedding off."""
    return ServerProcess.start(bundle, log_path.parent, log_name=log_path.name, root=root,
                               ready_timeout_s=BENCH_READY_TIMEOUT_S, **BENCH_SETTINGS, variant=variant,
                               intra_op_threads=threads, device=device)


def naive_server(checkpoint: Path, threads: int, device: str, stride: int, log_path: Path
                 ) -> contextlib.AbstractContextManager[ServerProcess]:
    """The naive baseline (``benchmarks/naive_server.py``: transformers pipeline behind FastAPI)."""
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "TOKENIZERS_PARALLELISM": "false"}
    command = [sys.executable, str(ROOT / "benchmarks" / "naive_server.py"), str(checkpoint), "--port", str(port),
               "--threads", str(threads), "--stride", str(stride), "--device", device]
    return ServerProcess.spawn(command, env, port, log_path).running(ready_timeout_s=BENCH_READY_TIMEOUT_S)
