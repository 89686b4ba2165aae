"""Test helpers: building the tiny bundle, and running ``clinx serve`` as a real process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from model_export.demo_corpus import generate_demo_corpus, split_demo_corpus

TINY_CHUNK = 24
TINY_CONTEXT = 8


def build_tiny_bundle(work: Path, *, name: str = "tiny-xlmr", seed: int = 0, pack_sentences: bool = True) -> Path:
    """Config-initialised XLM-R + Unigram tokenizer, trained a few steps, exported: the real path.

    Sentences are packed into centres as in the demo and benchmark bundles; tests that need CLIN-X's
    one-sentence windows rewrite the manifest field (the model does not change, only the windows).
    """
    from model_export.export import ExportConfig, export_bundle
    from model_export.synthetic import build_random_xlmr
    from model_export.train import TrainConfig, train

    corpus = generate_demo_corpus(120, seed=seed + 1)
    train_docs, dev_docs = split_demo_corpus(corpus)
    base = build_random_xlmr(work / "base", (d.text for d in corpus), shape="tiny", vocab_size=600, seed=seed)
    config = TrainConfig(base_model=str(base), output_dir=work / "checkpoint", epochs=2, learning_rate=3e-3,
                         batch_size=16, chunk_subwords=TINY_CHUNK, context_subwords=TINY_CONTEXT,
                         pack_sentences=pack_sentences, seed=seed,
                         device="cpu", corpus={"name": "demo", "documents": len(corpus)})
    train(config, train_docs, dev_docs[:10])
    bundle = work / "bundle"
    export_bundle(ExportConfig(checkpoint=work / "checkpoint", output_dir=bundle, name=name, version="0.0.1",
                               task="concepts"))
    return bundle


def build_slow_bundle(work: Path, *, name: str = "slow-xlmr") -> Path:
    """An untrained XLM-R of the ``small`` shape, exported (fp32 only): the model is the server's bottleneck,
    as CLIN-X's is on a CPU, so tests of the queue's policies see queueing, not HTTP or text handling."""
    from app.text.labels import bioes_tags
    from app.text.windows import WindowGeometry
    from model_export.export import ExportConfig, export_bundle
    from model_export.synthetic import build_random_tagger, build_random_xlmr

    corpus = generate_demo_corpus(60, seed=3)
    base = build_random_xlmr(work / "base", (d.text for d in corpus), shape="small", vocab_size=600)
    build_random_tagger(base, work / "checkpoint", bioes_tags(["problem", "test", "treatment"]),
                        WindowGeometry(64, 16, pack_sentences=True))
    bundle = work / "bundle"
    export_bundle(ExportConfig(checkpoint=work / "checkpoint", output_dir=bundle, name=name, version="0.0.1",
                               int8=False, fp16=False))
    return bundle


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """``clinx serve`` in a subprocess on 127.0.0.1, with its log captured to a file."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        scheme = "https" if self.env.get("CLINX_TLS_CERT_FILE") else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """For httpx: a context trusting ``CLINX_TLS_CA_FOR_TESTS`` (the test's own CA) under TLS."""
        ca = self.env.get("CLINX_TLS_CA_FOR_TESTS")
        return ssl.create_default_context(cafile=ca) if ca else True

    @classmethod
    @contextlib.contextmanager
    def start(cls, bundle: Path | str, log_dir: Path, wait_ready: bool = True, **settings: Any
              ) -> Iterator[ServerProcess]:
        server = cls.launch(bundle, log_dir, **settings)
        try:
            if wait_ready:
                server.wait_ready()
            yield server
        finally:
            server.stop()

    @classmethod
    def launch(cls, bundle: Path | str, log_dir: Path, **settings: Any) -> ServerProcess:
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("CLINX_")}
        env.update({"CLINX_BUNDLE": str(bundle), "CLINX_PORT": str(port), "CLINX_HOST": "127.0.0.1"})
        env.update({f"CLINX_{key.upper()}": str(value) for key, value in settings.items()})
        log_path = log_dir / f"server-{port}.log"
        handle = log_path.open("wb")
        process = subprocess.Popen([sys.executable, "-m", "clinx_cli", "serve"], env=env, stdout=handle,
                                   stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1])
        return cls(process, port, log_path, env)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/health/ready", timeout=2, verify=self.verify).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"server not ready after {timeout} s:\n{self.log()}")

    def wait_exit(self, timeout: float = 60.0) -> int:
        return self.process.wait(timeout=timeout)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                records.append(json.loads(line))
        return records
