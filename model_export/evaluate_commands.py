"""``clinx evaluate``: span figures of a model on an annotated corpus, with intervals, and the assertion
rules alone (``clinx evaluate rules``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.text.decode import DECODE_RULES
from app.text.types import Document
from model_export.commands import _set_torch_threads, _setup_logging
from model_export.corpus_options import add_corpus_arguments, corpus_options, load_documents


def evaluate(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="clinx evaluate",
        description="Strict and lenient span P/R/F1 (micro and per type) of a model on an annotated corpus.")
    parser.add_argument("model", type=Path, help="bundle directory (ONNX Runtime, all members voted), checkpoint "
                        "directory or ensemble checkpoint directory (PyTorch, all members voted); `rules`: the "
                        "assertion rules alone, over the corpus's gold spans")
    parser.add_argument("--corpus", type=Path, required=True, help="annotated corpus (file or directory, see --format)")
    add_corpus_arguments(parser)
    parser.add_argument("--variant", default="fp32", choices=("fp32", "fp16", "int8"), help="bundle variant to run")
    parser.add_argument("--decode", choices=DECODE_RULES, default=None,
                        help="decode by this rule instead of the model's own (word, word-viterbi or subword), "
                             "to compare them on one model")
    parser.add_argument("--device", default="cpu", help="cpu, auto or cuda (cuda:N for checkpoints)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: all cores)")
    parser.add_argument("--output", type=Path, help="write the scores as JSON here")
    parser.add_argument("--errors", type=Path, help="write strict false positives/negatives per document here")
    parser.add_argument("--errors-with-text", action="store_true",
                        help="include each error span's text in --errors (for your own analysis; never logged)")
    parser.add_argument("--split", choices=("all", "train", "dev", "heldout"), default=None,
                        help="negex format: rows to read (heldout: row numbers ending in 0, dev: in 5)")
    parser.add_argument("--assertion-source", choices=("rules", "model"), default=None,
                        help="assertion source to score (default: the bundle's own)")
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                        help="95%% intervals of strict and lenient F1 from N resamples of the documents "
                             "(default 1000; 0: none)")
    args = parser.parse_args(argv)
    _setup_logging()
    if args.bootstrap < 0:
        parser.error("--bootstrap must be 0 or more")
    if str(args.model) == "rules":
        return _evaluate_rules(args)
    import json
    import time

    from model_export.corpora import CorpusError
    from model_export.evaluate import EvaluationError, error_report, evaluate_documents, load_predictor
    from model_export.hf import CheckpointError

    _set_torch_threads(args.threads)
    options = corpus_options(args)
    started = time.monotonic()
    try:
        documents = load_documents(args.corpus, options, role="corpus", **_reader_options(args))
        predictor = load_predictor(args.model, variant=args.variant, device=args.device, threads=args.threads,
                                   decode=args.decode)
    except (CorpusError, CheckpointError, EvaluationError, ValueError) as error:
        print(f"clinx evaluate: {error}", file=sys.stderr)
        return 1
    unknown = sorted({span.label for d in documents for span in d.spans} - set(predictor.entity_types))
    if unknown:
        print(f"clinx evaluate: warning: corpus types the model does not predict: {unknown} "
              "(see --label-map / --collapse-labels)", file=sys.stderr)
    evaluation = evaluate_documents(predictor, documents)
    assertion = _assertion_figures(predictor, documents, args.assertion_source)
    elapsed = time.monotonic() - started
    print(f"{predictor.kind} {args.model} ({predictor.members} member(s), {predictor.details['decode']} decoding) "
          f"on {args.corpus}: {len(documents)} documents, {elapsed:.1f} s")
    print(evaluation.scores.table())
    intervals = evaluation.f1_intervals(args.bootstrap)
    if intervals:
        print(f"95% interval of F1 (documents resampled {args.bootstrap} times): "
              + ", ".join(f"{kind} {i.low:.4f} to {i.high:.4f}" for kind, i in intervals.items()))
    if assertion:
        from model_export.assertion_eval import table

        print(table(assertion["gold_spans"]))
        end = assertion["end_to_end"]
        print(f"assertion end to end (strict span + class): P {end['precision']:.4f} R {end['recall']:.4f} "
              f"F1 {end['f1']:.4f}")
    if args.output:
        result = {"model": {"path": str(args.model), "kind": predictor.kind, "members": predictor.members,
                            **predictor.details},
                  "corpus": {"path": str(args.corpus), "documents": len(documents),
                             "spans": sum(len(d.spans) for d in documents), **options.describe()},
                  "scores": evaluation.scores.to_dict(), "wall_s": round(elapsed, 1)}
        if intervals:
            result["intervals"] = {"confidence": 0.95, "rounds": args.bootstrap, "resampled": "documents",
                                   **{kind: [i.low, i.high] for kind, i in intervals.items()}}
        if assertion:
            result["assertion"] = assertion
        args.output.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.errors:
        report = error_report(evaluation, documents, with_text=args.errors_with_text)
        args.errors.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def _evaluate_rules(args: argparse.Namespace) -> int:
    """``clinx evaluate rules --corpus C``: the assertion rules alone over the corpus's gold spans."""
    import json
    import time

    from app.assertion.rules import ContextRules
    from model_export.assertion_eval import asserted_documents, gold_span_scores, table
    from model_export.corpora import CorpusError

    options = corpus_options(args)
    try:
        documents = asserted_documents(load_documents(args.corpus, options, role="corpus", **_reader_options(args)))
    except (CorpusError, ValueError) as error:
        print(f"clinx evaluate: {error}", file=sys.stderr)
        return 1
    started = time.monotonic()
    rules = ContextRules()
    predicted = [[(found.assertion, found.historical) for found in rules.assess(d.text, [(s.start, s.end) for s in
                                                                                         d.spans])]
                 for d in documents]
    scores = gold_span_scores(documents, predicted)
    print(f"rules on {args.corpus}: {len(documents)} documents, {time.monotonic() - started:.1f} s")
    print(table(scores))
    if args.output:
        args.output.write_text(json.dumps({"model": "rules", "corpus": {"path": args.corpus.name, "split": args.split,
                                                                          **options.describe()},
                                           "assertion": {"gold_spans": scores}}, indent=2), encoding="utf-8")
    return 0


def _reader_options(args: argparse.Namespace) -> dict[str, object]:
    return {"split": args.split} if getattr(args, "split", None) else {}


def _assertion_figures(predictor: Any, documents: Sequence[Document], source: str | None) -> dict[str, Any]:
    """Over gold spans and end to end, when the corpus carries assertions and the bundle asserts."""
    from model_export.assertion_eval import asserted_documents, end_to_end_scores, gold_span_scores

    assess = getattr(predictor, "assess", None)
    asserted = asserted_documents(documents)
    if assess is None or not any(d.spans for d in asserted):
        return {}
    predicted = assess([d.text for d in asserted], [[(s.start, s.end) for s in d.spans] for d in asserted], source)
    entities = dict(zip([d.id for d in documents], predictor.predict([d.text for d in documents]),
                        strict=True))
    return {"source": source or "default", "gold_spans": gold_span_scores(asserted, predicted),
            "end_to_end": end_to_end_scores(asserted, entities)}
