"""``clinx train --task assertion`` and ``clinx export --task assertion``: the classifier's commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from model_export.corpus_options import CorpusOptions, add_corpus_arguments, corpus_options, load_documents


def _split_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--split", choices=("all", "train", "dev", "heldout"), default=None,
                        help="negex format: rows to read (heldout: row numbers ending in 0, dev: in 5)")


def _reader(args: argparse.Namespace, split: str | None = None) -> dict[str, object]:
    chosen = split or args.split
    return {"split": chosen} if chosen else {}


def train_assertion_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="clinx train --task assertion", description="Train an assertion "
                                     "classifier (sentence with the span marked) on spans that carry assertions.")
    parser.add_argument("--task", choices=("assertion",), required=True)
    parser.add_argument("--base-model", required=True, help="Hugging Face encoder directory (MiniLM, CLIN-X, ...)")
    parser.add_argument("--train", type=Path, required=True, help="training corpus (see --format)")
    parser.add_argument("--dev", type=Path, required=True, help="development corpus (model selection)")
    parser.add_argument("--dev-split", choices=("all", "train", "dev", "heldout"), default=None,
                        help="negex format: the dev corpus's rows (e.g. heldout when --train reads --split train)")
    parser.add_argument("--output", type=Path, required=True)
    add_corpus_arguments(parser)
    _split_argument(parser)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=64, help="longest marked row, in subwords (default 64)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    from model_export.commands import _set_torch_threads, _setup_logging

    _setup_logging()
    _set_torch_threads(args.threads)
    from model_export.assertion_train import AssertionTrainConfig, train_assertion
    from model_export.corpora import CorpusError
    from model_export.hf import CheckpointError

    options = corpus_options(args)
    try:
        train_docs = load_documents(args.train, options, role="train", **_reader(args))
        dev_docs = load_documents(args.dev, options, role="dev", **_reader(args, args.dev_split))
        record = train_assertion(AssertionTrainConfig(
            base_model=args.base_model, output_dir=args.output, epochs=args.epochs, learning_rate=args.learning_rate,
            batch_size=args.batch_size, max_length=args.max_length, seed=args.seed,
            corpus={"train": args.train.name, "dev": args.dev.name, "split": args.split, **options.describe()}),
            train_docs, dev_docs)
    except (CorpusError, CheckpointError, ValueError) as error:
        print(f"clinx train: {error}", file=sys.stderr)
        return 1
    print(f"best epoch {record['best_epoch']}: dev accuracy {record['dev']['accuracy']:.4f} "
          f"(classes {record['classes']}, historical {record['historical']})")
    return 0


def export_assertion_command(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="clinx export --task assertion", description="Add an assertion "
                                     "classifier checkpoint to a bundle: ONNX fp32 + int8, parity, checksums.")
    parser.add_argument("--task", choices=("assertion",), required=True)
    parser.add_argument("checkpoint", type=Path, help="directory written by `clinx train --task assertion`")
    parser.add_argument("--into", type=Path, required=True, help="the bundle to add it to")
    parser.add_argument("--eval-corpus", type=Path, help="corpus with assertions: served figures in the manifest")
    parser.add_argument("--eval-format", default="jsonl")
    parser.add_argument("--eval-split", choices=("all", "train", "dev", "heldout"), default=None)
    parser.add_argument("--on-error", default="fail", choices=("fail", "skip"))
    parser.add_argument("--source", choices=("rules", "model"), default=None,
                        help="the bundle's default source (default: the model)")
    args = parser.parse_args(argv)
    from model_export.commands import _setup_logging

    _setup_logging()
    from app.bundle import BundleError
    from model_export.assertion_export import export_assertion
    from model_export.corpora import CorpusError
    from model_export.verify import ExportError

    try:
        documents = None
        options = CorpusOptions(format=args.eval_format, on_error=args.on_error)
        if args.eval_corpus is not None:
            documents = load_documents(args.eval_corpus, options, role="eval",
                                       **({"split": args.eval_split} if args.eval_split else {}))
        manifest = export_assertion(args.checkpoint, args.into, eval_documents=documents, source=args.source,
                                    eval_corpus={"name": args.eval_corpus.name if args.eval_corpus else None,
                                                 "split": args.eval_split, "format": args.eval_format})
    except (ExportError, BundleError, CorpusError, ValueError) as error:
        print(f"clinx export: {error}", file=sys.stderr)
        return 1
    model = manifest.assertion.model
    assert model is not None
    print(f"{args.into}: assertion classifier {model.classes} (historical {model.historical}); parity "
          f"{model.parity.get('fp32_vs_pytorch')}")
    return 0
