"""The benchmark's models, each a checkpoint plus a bundle exported through the project's own path.

- ``demo``: all-MiniLM-L6-v2 fine-tuned on the synthetic demo corpus exactly as ``clinx demo`` does,
  but with the checkpoint kept (the naive PyTorch baseline needs it).
- ``xlmr-base``: XLM-RoBERTa-base shape (12 layers, hidden 768), random weights.
- ``clinx-large``: the CLIN-X shape, XLM-RoBERTa-large (24 layers, hidden 1024), random weights.
- ``xlmr-base-4k``: the XLM-R-base shape with an embedding of its tokenizer's 4,000 rows: the same
  compute per token as ``xlmr-base`` in a file small enough to carry to an air-gapped GPU node.

The XLM-R shapes get a Unigram tokenizer trained on the MTSamples notes (4,000 pieces: about 1.5
subwords per word, like MiniLM's WordPiece and XLM-R's own tokenizer on English notes) and an
embedding matrix grown to XLM-R's 250,002 rows, so file sizes and memory are the real model's.
Random weights compute exactly as fast as trained ones. Checkpoints are written as
``model_export.train.save_checkpoint`` writes them (HF directory + ``clinx_training.json``), then
``model_export.export.export_bundle`` exports, fuses, quantises and verifies them.

    .venv/bin/python benchmarks/bundles.py demo,xlmr-base,clinx-large [--root runs/bench-bundles] [--fp16]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_CACHE = ROOT / "runs" / "bench-bundles"
NOTES = ROOT.parent / "shared" / "data" / "mtsamples" / "notes.jsonl"
XLMR_VOCAB = 250_002
TOKENIZER_PIECES = 4000
ENTITY_TYPES = ["problem", "test", "treatment"]
CHUNK_SUBWORDS = 300
CONTEXT_SUBWORDS = 100
MODELS = {
    "demo": "all-MiniLM-L6-v2 (6 layers, hidden 384) fine-tuned on the synthetic demo corpus (as `clinx demo`)",
    "xlmr-base": "XLM-RoBERTa-base shape (12 layers, hidden 768, vocab 250,002), random weights",
    "clinx-large": "CLIN-X shape = XLM-RoBERTa-large (24 layers, hidden 1024, vocab 250,002), random weights",
    "xlmr-base-4k": "XLM-RoBERTa-base shape (12 layers, hidden 768) with the embedding sized to its 4,000-piece "
                    "tokenizer (not 250,002 rows: same compute per token, a file small enough to carry), "
                    "random weights",
}
SHAPES = {"xlmr-base": "base", "clinx-large": "large", "xlmr-base-4k": "base"}
EMBEDDING_ROWS = {"xlmr-base": XLMR_VOCAB, "clinx-large": XLMR_VOCAB, "xlmr-base-4k": TOKENIZER_PIECES}

log = logging.getLogger("bench.bundles")


@dataclasses.dataclass(frozen=True)
class BenchModel:
    name: str
    checkpoint: Path
    bundle: Path
    description: str


def paths(name: str, root: Path = DEFAULT_CACHE) -> BenchModel:
    if name not in MODELS:
        raise SystemExit(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    return BenchModel(name, root / name / "checkpoint", root / name / "bundle", MODELS[name])


def read_notes(path: Path | None = None) -> list[dict[str, str]]:
    text = (path or NOTES).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def ensure(name: str, root: Path = DEFAULT_CACHE, *, fp16: bool = False) -> BenchModel:
    """The model's checkpoint and bundle, built once and reused while both exist."""
    model = paths(name, root)
    if (model.bundle / "manifest.json").is_file() and (model.checkpoint / "config.json").is_file():
        return model
    started = time.monotonic()
    if not (model.checkpoint / "config.json").is_file():
        shutil.rmtree(model.checkpoint, ignore_errors=True)
        if name == "demo":
            _train_demo(model.checkpoint)
        else:
            _random_checkpoint(model.checkpoint, SHAPES[name], EMBEDDING_ROWS[name])
        log.info("%s: checkpoint ready after %.0f s", name, time.monotonic() - started)
    _export(model, fp16=fp16)
    log.info("%s: bundle ready after %.0f s", name, time.monotonic() - started)
    return model


def _train_demo(checkpoint: Path) -> None:
    """What ``model_export.demo.build_demo_bundle`` trains, with the checkpoint kept."""
    from model_export.demo import train_demo_model

    train_demo_model(checkpoint)


def _random_checkpoint(checkpoint: Path, shape: str, rows: int) -> None:
    """Base encoder from ``synthetic.build_random_xlmr``, then a 13-tag BIOES head, saved like a trained one.

    ``rows``: embedding rows; XLM-R's 250,002 for real file sizes and memory, or the tokenizer's own.
    """
    from transformers import XLMRobertaModel

    from app.text.labels import bioes_tags
    from app.text.windows import WindowGeometry
    from model_export.synthetic import build_random_tagger, build_random_xlmr

    base = checkpoint.parent / "base"
    shutil.rmtree(base, ignore_errors=True)
    texts = [note["text"] for note in read_notes()]
    build_random_xlmr(base, texts, shape=shape, vocab_size=TOKENIZER_PIECES, seed=0)
    if rows != TOKENIZER_PIECES:
        encoder = XLMRobertaModel.from_pretrained(base)
        # the real vocabulary's rows: real file size and memory
        encoder.resize_token_embeddings(rows, mean_resizing=False)
        encoder.save_pretrained(base)
        del encoder
    # the geometry a hospital's model gets from `clinx train --pack-sentences` (the demo's too)
    build_random_tagger(base, checkpoint, bioes_tags(ENTITY_TYPES),
                        WindowGeometry(CHUNK_SUBWORDS, CONTEXT_SUBWORDS, pack_sentences=True), seed=0)
    shutil.rmtree(base)


def _export(model: BenchModel, *, fp16: bool) -> None:
    from model_export.export import ExportConfig, export_bundle

    wanted: dict[str, Any] = {
        "checkpoint": model.checkpoint,
        "output_dir": model.bundle,
        "name": f"bench-{model.name}",
        "version": "0",
        "task": "concepts (i2b2 2010 types: problem, test, treatment)",
        "description": f"Benchmark model: {model.description}. NOT FOR CLINICAL USE.",
        "demo": model.name == "demo",
        "int8": True,
        "fp16": fp16,
        "optimize": True,
    }
    known = {f.name for f in dataclasses.fields(ExportConfig)}  # the export API is growing: pass what it has
    export_bundle(ExportConfig(**{key: value for key, value in wanted.items() if key in known}))


def main() -> int:
    global NOTES
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", help="comma-separated: " + ", ".join(MODELS))
    parser.add_argument("--root", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--fp16", action="store_true", help="also write the fp16 variant (GPU)")
    parser.add_argument("--notes", type=Path, default=NOTES, help="MTSamples notes.jsonl (the XLM-R tokenizers' text)")
    args = parser.parse_args()
    NOTES = args.notes
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in args.models.split(","):
        model = ensure(name.strip(), args.root, fp16=args.fp16)
        print(model.bundle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
