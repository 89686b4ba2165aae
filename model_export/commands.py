"""The offline subcommands of ``clinx``: train, export, evaluate (``evaluate_commands``), demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from app.text.decode import DECODE_RULES
from app.text.types import Document
from app.text.windows import PARAGRAPH_BREAKS
from model_export.corpus_options import (
    CorpusOptions,
    add_corpus_arguments,
    corpus_options,
    load_documents,
    parse_label_map,
)


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _set_torch_threads(threads: int) -> None:
    """Fewer threads than cores: on a busy machine PyTorch's threads otherwise wait on each other."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def demo(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="clinx demo", description="Build the demo bundles if they are missing: "
                                     "concepts (models/demo) and de-identification (models/demo-deid).")
    parser.add_argument("--output", type=Path, default=Path("models/demo"), help="the concept demo bundle")
    parser.add_argument("--deid-output", type=Path, default=Path("models/demo-deid"),
                        help="the de-identification demo bundle")
    parser.add_argument("--only", choices=("concepts", "deid"), help="build one of the two")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even if the bundle exists")
    parser.add_argument("--thorough", action="store_true",
                        help="the concept demo past the 5-minute budget, to judge it on real notes: 1,600 notes, "
                             "3 epochs, every layer (about 22 minutes on 2 cores; replaces a demo built otherwise)")
    args = parser.parse_args(argv)
    _setup_logging()
    from model_export.demo import CONCEPTS, DEID, THOROUGH, ensure_demo_bundles

    concepts = THOROUGH if args.thorough else CONCEPTS
    jobs = [(path, recipe) for name, path, recipe in (("concepts", args.output, concepts),
                                                      ("deid", args.deid_output, DEID))
            if args.only in (None, name)]
    ensure_demo_bundles(jobs, rebuild=args.rebuild)
    return 0


def export(argv: Sequence[str]) -> int:
    """``clinx export CHECKPOINT --output BUNDLE ...``, or ``clinx export verify BUNDLE``."""
    if argv and argv[0] == "verify":
        return verify(argv[1:])
    if _task(argv) == "assertion":
        from model_export.assertion_commands import export_assertion_command

        return export_assertion_command(argv)
    from model_export.int8_choice import CANDIDATES

    parser = argparse.ArgumentParser(prog="clinx export", description="Export a checkpoint (or an ensemble "
                                     "directory) to a verified bundle: fp32, fp16 for GPUs, int8 for CPUs.",
                                     epilog="`clinx export verify BUNDLE` re-checks a written bundle.")
    parser.add_argument("checkpoint", type=Path, help="directory written by `clinx train` (single or --ensemble)")
    parser.add_argument("--output", type=Path, required=True, help="bundle directory to write")
    parser.add_argument("--name", required=True)
    parser.add_argument("--version", default="1")
    parser.add_argument("--task", default="concepts", help="free text describing the task (shown by /info)")
    parser.add_argument("--task-type", choices=("concepts", "deid"), default="concepts",
                        help="deid: a PHI tagger, served by POST /deidentify (default: concepts)")
    parser.add_argument("--phi-category", action="append", default=[], metavar="LABEL=CATEGORY[/SUBTYPE]",
                        help="deid: the PHI category of a label that is not an i2b2 2006/2014 label "
                             "(e.g. SURNAME=NAME/PATIENT); repeatable")
    parser.add_argument("--description", default="")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 CPU variant")
    parser.add_argument("--no-fp16", action="store_true", help="skip the fp16 GPU variant")
    parser.add_argument("--no-optimize", action="store_true", help="skip ONNX Runtime's transformer fusions")
    parser.add_argument("--eval-corpus", type=Path, help="annotated corpus to verify on (default: built-in "
                        "sample notes, spans only); int8/fp16 are then also held to --max-f1-drop")
    parser.add_argument("--eval-format", help="format of --eval-corpus (default: the training corpus's)")
    parser.add_argument("--eval-label-map", type=parse_label_map, default=None,
                        help="relabel --eval-corpus types (default: the training run's --label-map)")
    parser.add_argument("--eval-collapse-labels", metavar="NAME", default=None,
                        help="one type for every --eval-corpus span (default: the training run's)")
    parser.add_argument("--max-f1-drop", type=float, default=0.5,
                        help="most strict-F1 points int8/fp16 may lose against fp32 as served, on --eval-corpus "
                        "(default 0.5)")
    parser.add_argument("--int8-candidate", choices=[candidate.name for candidate in CANDIDATES], default=None,
                        help="try this int8 candidate alone (default: every one, fastest first, keeping the first "
                        "within --max-f1-drop; without --eval-corpus the fastest is kept unmeasured)")
    parser.add_argument("--require-int8", action="store_true",
                        help="refuse the bundle when no int8 candidate is within --max-f1-drop (default: write it "
                        "without an int8 variant; the server then runs fp32 on the CPU and says why)")
    parser.add_argument("--logit-tolerance", type=float, default=1e-4,
                        help="largest |logit difference| fp32 ONNX vs PyTorch (default 1e-4)")
    parser.add_argument("--int8-per-channel", action=argparse.BooleanOptionalAction, default=True,
                        help="per-channel weight scales for int8 (default on)")
    parser.add_argument("--int8-reduce-range", action="store_true",
                        help="7-bit weights, for CPUs without VNNI that saturate (default off)")
    parser.add_argument("--external-data", action="store_true",
                        help="always keep weights in <file>.data (automatic above 1.8 GB)")
    args = parser.parse_args(argv)
    _setup_logging()
    from model_export.corpora import CorpusError
    from model_export.export import ExportConfig, ExportError, export_bundle, read_checkpoints

    try:
        documents, described = None, {}
        if args.eval_corpus is not None:
            recorded = read_checkpoints(args.checkpoint)[0].record.get("corpus", {})
            options = CorpusOptions(
                format=args.eval_format or recorded.get("format") or "jsonl",
                label_map=(recorded.get("label_map") or {}) if args.eval_label_map is None else args.eval_label_map,
                collapse_labels=args.eval_collapse_labels or recorded.get("collapse_labels"),
            )
            documents = load_documents(args.eval_corpus, options, role="eval")
            described = {"name": args.eval_corpus.name, **options.describe()}
        manifest = export_bundle(ExportConfig(
            checkpoint=args.checkpoint, output_dir=args.output, name=args.name, version=args.version,
            task=args.task, task_type=args.task_type, phi_categories=_pairs(args.phi_category),
            description=args.description, int8=not args.no_int8, fp16=not args.no_fp16,
            optimize=not args.no_optimize, eval_documents=documents, eval_corpus=described,
            logit_tolerance=args.logit_tolerance, max_f1_drop=args.max_f1_drop,
            int8_per_channel=args.int8_per_channel, int8_reduce_range=args.int8_reduce_range,
            require_int8=args.require_int8, external_data=True if args.external_data else None,
            int8_candidate=args.int8_candidate,
        ))
        omitted = manifest.parity.get("int8", {}).get("omitted")
        if omitted:  # the one line the user needs: the bundle has no int8 variant, and why
            print(f"clinx export: written without an int8 variant: {omitted}", file=sys.stderr)
    except (ExportError, CorpusError, ValueError) as error:
        print(f"clinx export: {error}", file=sys.stderr)
        return 1
    return 0


def _pairs(values: Sequence[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        label, separator, category = value.partition("=")
        if not separator or not label or not category:
            raise SystemExit(f"clinx export: --phi-category wants LABEL=CATEGORY[/SUBTYPE], got {value!r}")
        pairs[label] = category
    return pairs


def verify(argv: Sequence[str]) -> int:
    """``clinx export verify BUNDLE``: checksums, opsets, and a window through every variant."""
    parser = argparse.ArgumentParser(prog="clinx export verify", description="Re-check a written bundle: "
                                     "checksums, ONNX opsets, I/O contract, and a window through every variant.")
    parser.add_argument("bundle", type=Path)
    args = parser.parse_args(argv)
    from app.bundle import BundleError
    from model_export.verify import verify_bundle_files

    try:
        manifest, checks = verify_bundle_files(args.bundle)
    except BundleError as error:
        print(f"clinx export verify: {error}", file=sys.stderr)
        return 1
    print(f"{manifest.name} {manifest.version}: {len(manifest.members)} member(s), vote rule {manifest.vote_rule}, "
          f"{manifest.decode} decoding, "
          f"{len(manifest.tags)} tags, variants {sorted(manifest.precisions())}")
    for check in checks:
        print("  " + check.line())
    print(f"OK: {args.bundle} verified ({len(checks)} graphs loaded and run)")
    return 0


def _task(argv: Sequence[str]) -> str:
    """The value of ``--task`` (``concepts`` when absent): assertion has a parser of its own."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--task", choices=("concepts", "assertion"), default="concepts")
    return str(parser.parse_known_args(argv)[0].task)


def train(argv: Sequence[str]) -> int:
    if _task(argv) == "assertion":
        from model_export.assertion_commands import train_assertion_command

        return train_assertion_command(argv)
    parser = argparse.ArgumentParser(prog="clinx train", description="Fine-tune a tagger with the CLIN-X recipe "
                                     "(--task assertion: an assertion classifier; `clinx train --task assertion -h`).")
    parser.add_argument("--task", choices=("concepts",), default="concepts", help="concepts (this) or assertion")
    parser.add_argument("--base-model", required=True, help="Hugging Face encoder directory (CLIN-X, XLM-R, BERT)")
    parser.add_argument("--train", type=Path, required=True, nargs="+", metavar="CORPUS",
                        help="training corpus (file or directory, see --format); several are joined, e.g. "
                             "train and dev for an ensemble, as CLIN-X does")
    parser.add_argument("--dev", type=Path, help="development corpus for model selection (required without "
                        "--ensemble; with it, the voted ensemble is scored on it)")
    parser.add_argument("--output", type=Path, required=True, help="checkpoint directory to write")
    add_corpus_arguments(parser)
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training corpus (default: 20)")
    parser.add_argument("--learning-rate", type=float, default=2e-5, help="peak rate (CLIN-X: 2e-5 for XLM-R-large)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="windows per optimisation step (default: 16; 4 with --pack-sentences, whose windows "
                             "each hold several sentences)")
    parser.add_argument("--warmup-ratio", type=float, default=0.1, help="share of steps spent warming up")
    parser.add_argument("--chunk-subwords", type=int, default=300, help="longest centre (sentence chunk)")
    parser.add_argument("--context-subwords", type=int, default=100, help="context subwords on each side")
    parser.add_argument("--pack-sentences", action=argparse.BooleanOptionalAction, default=False,
                        help="pack consecutive sentences into centres of up to --chunk-subwords (about 5x less "
                             "compute when serving; CLIN-X uses one sentence per window)")
    parser.add_argument("--paragraph-breaks", choices=PARAGRAPH_BREAKS, default="none",
                        help="blank lines (paragraphs, pasted notes) bound packed centres ('centres') or whole "
                             "windows, context too ('windows'); 'none' ignores them (default)")
    parser.add_argument("--context-dropout", type=float, default=0.5, help="share of windows trained without context")
    parser.add_argument("--decode", choices=DECODE_RULES, default="word-viterbi",
                        help="how tags become spans, for dev selection and in the exported bundle: word-viterbi "
                             "(the most probable valid BIOES sequence, decoded per word: spans hold whole words; "
                             "default), word (a word takes its first subword's tag, then BIOES repair) or subword")
    parser.add_argument("--freeze-layers", type=int, default=0, metavar="N",
                        help="keep the embeddings and the lowest N encoder layers as pre-trained (faster steps "
                             "on a CPU; default 0 trains everything, as CLIN-X does)")
    parser.add_argument("--head-learning-rate", type=float, default=None, metavar="LR",
                        help="peak rate of the freshly initialised tagging head (default: --learning-rate for "
                             "everything, as CLIN-X; a higher one fits the head in fewer steps)")
    parser.add_argument("--dropout", type=float, default=None, metavar="P",
                        help="every dropout of the model at P (default: the base model's, as CLIN-X; 0 makes a "
                             "CPU step about 1.4x faster, for short schedules)")
    parser.add_argument("--ensemble", type=int, default=0, metavar="K",
                        help="train K members on document-level splits of --train (member k selects on split k)")
    parser.add_argument("--seed", type=int, default=42, help="initialisation, batch order and ensemble splits")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, default=0,
                        help="CPU threads for PyTorch (default: all cores; 1 is faster on a busy shared machine)")
    parser.add_argument("--resume", action="store_true", help="continue after the last finished epoch in OUTPUT")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.ensemble == 1 or args.ensemble < 0:
        parser.error("--ensemble needs at least 2 members")
    if not args.ensemble and args.dev is None:
        parser.error("--dev is required (model selection) unless --ensemble is given")
    _setup_logging()
    from model_export.checkpoints import ResumeError
    from model_export.corpora import CorpusError
    from model_export.hf import CheckpointError
    from model_export.train import TrainConfig
    from model_export.train import train as run_training

    _set_torch_threads(args.threads)
    options = corpus_options(args)
    try:
        train_docs = _joined([load_documents(path, options, role="train") for path in args.train])
        dev_docs = load_documents(args.dev, options, role="dev") if args.dev else []
        config = TrainConfig(
            base_model=args.base_model, output_dir=args.output, epochs=args.epochs, learning_rate=args.learning_rate,
            batch_size=args.batch_size or (4 if args.pack_sentences else 16), warmup_ratio=args.warmup_ratio,
            chunk_subwords=args.chunk_subwords,
            context_subwords=args.context_subwords,
            pack_sentences=args.pack_sentences, paragraph_breaks=args.paragraph_breaks,
            context_dropout=args.context_dropout, decode=args.decode,
            freeze_layers=args.freeze_layers, head_learning_rate=args.head_learning_rate, dropout=args.dropout,
            seed=args.seed,
            device=args.device, resume=args.resume, progress=not args.no_progress,
            corpus={"train": "+".join(path.name for path in args.train), "dev": args.dev.name if args.dev else None,
                    **options.describe()},
        )
        if args.ensemble:
            from model_export.ensemble import train_ensemble

            ensemble = train_ensemble(config, train_docs, args.ensemble, dev_docs=dev_docs)
            for name, member in zip(ensemble.members, ensemble.results, strict=True):
                print(f"{name}: best epoch {member.best_epoch}, held-out strict F1 {member.dev['strict']['f1']:.4f}")
            if ensemble.dev is not None:
                print(f"ensemble ({args.ensemble} members, voted): dev strict F1 {ensemble.dev['strict']['f1']:.4f}")
            return 0
        result = run_training(config, train_docs, dev_docs)
    except (CorpusError, CheckpointError, ResumeError, ValueError) as error:
        print(f"clinx train: {error}", file=sys.stderr)
        return 1
    print(f"best epoch {result.best_epoch}: dev strict F1 {result.dev['strict']['f1']:.4f}")
    return 0


def _joined(corpora: Sequence[Sequence[Document]]) -> list[Document]:
    """Several training corpora as one; a document id in two of them is an error, not a silent twin."""
    joined: list[Document] = []
    seen: set[str] = set()
    for corpus in corpora:
        for document in corpus:
            if document.id in seen:
                raise ValueError(f"document id {document.id!r} appears in more than one --train corpus")
            seen.add(document.id)
            joined.append(document)
    return joined


def evaluate(argv: Sequence[str]) -> int:
    from model_export.evaluate_commands import evaluate as evaluate_command

    return evaluate_command(argv)
