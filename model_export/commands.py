"""The offline subcommands of ``clinx``: train, export, evaluate, demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def demo(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="clinx demo", description="Build the demo bundle if it is missing.")
    parser.add_argument("--output", type=Path, default=Path("models/demo"))
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if the bundle exists")
    args = parser.parse_args(argv)
    _setup_logging()
    from model_export.demo import ensure_demo_bundle

    ensure_demo_bundle(args.output, rebuild=args.rebuild)
    return 0


def export(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="clinx export", description="Export a checkpoint to a verified bundle.")
    parser.add_argument("checkpoint", type=Path, help="directory written by `clinx train`")
    parser.add_argument("--output", type=Path, required=True, help="bundle directory to write")
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", default="1")
    parser.add_argument("--task", default="concepts")
    parser.add_argument("--description", default="")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 CPU variant")
    args = parser.parse_args(argv)
    _setup_logging()
    from model_export.export import ExportConfig, ExportError, export_bundle

    try:
        export_bundle(ExportConfig(checkpoint=args.checkpoint, output_dir=args.output, name=args.name,
                                   version=args.version, task=args.task, description=args.description,
                                   int8=not args.no_int8))
    except ExportError as error:
        print(f"clinx export: {error}", file=sys.stderr)
        return 1
    return 0


def train(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="clinx train", description="Fine-tune a tagger with the CLIN-X recipe.")
    parser.add_argument("--base-model", required=True, help="Hugging Face encoder directory (CLIN-X, XLM-R, BERT)")
    parser.add_argument("--train", type=Path, required=True, help="training corpus (JSONL: id, text, spans)")
    parser.add_argument("--dev", type=Path, required=True, help="development corpus for model selection")
    parser.add_argument("--output", type=Path, required=True, help="checkpoint directory to write")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    _setup_logging()
    from model_export.corpora import read_corpus
    from model_export.train import TrainConfig
    from model_export.train import train as run_training

    train_docs = read_corpus("jsonl", args.train, on_error="fail").documents
    dev_docs = read_corpus("jsonl", args.dev, on_error="fail").documents
    config = TrainConfig(base_model=args.base_model, output_dir=args.output, epochs=args.epochs,
                         learning_rate=args.learning_rate, batch_size=args.batch_size, seed=args.seed,
                         device=args.device, corpus={"train": str(args.train.name), "dev": str(args.dev.name)})
    result = run_training(config, train_docs, dev_docs)
    print(f"best epoch {result.best_epoch}: dev strict F1 {result.dev['strict']['f1']:.4f}")
    return 0


def evaluate(argv: Sequence[str]) -> int:
    print("clinx evaluate: not implemented yet (issue 3)", file=sys.stderr)
    return 2
