"""Test helpers: building the tiny bundle; ``clinx serve`` as a real process (``benchmarks.server_process``)."""

from __future__ import annotations

from pathlib import Path

from benchmarks.server_process import ServerProcess, free_port, rss_bytes
from model_export.demo_corpus import generate_demo_corpus, split_demo_corpus

__all__ = ["TINY_CHUNK", "TINY_CONTEXT", "ServerProcess", "build_tiny_bundle", "free_port", "rss_bytes"]

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
