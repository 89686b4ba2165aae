"""``clinx bulk``: run a bundle over a note archive on Spark, embedded (``local[*]``) or on a cluster.

The same file is what ``spark-submit`` runs::

    spark-submit --master yarn "$(python -c 'import clinx_bulk.cli as c; print(c.__file__)')" \\
        --bundle /shared/models/clinx --input hdfs:///notes/ --output hdfs:///clinx/notes-entities/

Progress goes to stderr, a JSON summary of the run (counts and seconds, never ids or text) to stdout.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # run as a file (spark-submit): its folder must not shadow top-level modules
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

DESCRIPTION = """Run a model bundle over notes on Apache Spark and write one Parquet row per note:
its id, the entities (start, end, text, label, score; offsets in Unicode code points, end exclusive),
stats (characters, tokens, windows) and error (null, or why the note could not be processed: it is
never dropped). Every input row appears exactly once in the output; `_SUCCESS` is written only when
it does. Needs Java 17 and the `bulk` extra (pip install 'clinx-serve[bulk,serve]')."""

EPILOG = """examples:
  clinx bulk --bundle models/demo --input notes.parquet --output out/entities
  clinx bulk --bundle models/demo --input notes.csv --id-column note_id --text-column note_text --output out/e
  clinx bulk --bundle models/demo --input notes.jsonl --output out/e --resume      # after a crash or with new notes
  spark-submit --master spark://host:7077 .../clinx_bulk/cli.py --bundle ... --input ... --output ...

Progress (notes done/total, notes/s, tokens/s, errors, ETA) goes to stderr beside Spark's UI."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clinx bulk", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    given = parser.add_argument_group("what to run on")
    given.add_argument("--bundle", required=True, help="model bundle directory (clinx export); the driver reads it "
                       "and ships it to executors, or they read it in place (see --ship-bundle)")
    given.add_argument("--input", required=True, help="notes: a Parquet, JSON lines or CSV file or folder, any "
                       "path Spark reads (file:, hdfs:, s3a:, abfss:)")
    given.add_argument("--output", required=True, help="Parquet folder to write (refused if it exists, unless "
                       "--resume or --overwrite); on a cluster a path every executor can write")
    given.add_argument("--format", dest="input_format", default="auto", choices=("auto", "parquet", "json", "csv"),
                       help="input format; auto: from the file names (.parquet, .jsonl/.json/.ndjson, .csv, "
                       "also compressed) (default: auto)")
    given.add_argument("--id-column", default="id", help="input column that identifies a note; written to the "
                       "output under the same name and type (default: id)")
    given.add_argument("--text-column", default="text", help="input column holding the note's text, string or "
                       "UTF-8 binary (default: text)")
    runs = parser.add_argument_group("how the run goes")
    runs.add_argument("--resume", action="store_true", help="keep the output's rows and process only the notes "
                      "whose id it lacks (after a crash, or when notes were added); needs the same bundle")
    runs.add_argument("--overwrite", action="store_true", help="delete an existing output first")
    runs.add_argument("--notes-per-commit", type=int, default=200_000, help="notes per Spark job; each job "
                      "commits atomically, so a crash loses at most the one running (default: 200000)")
    runs.add_argument("--notes-per-task", type=int, default=1000, help="notes per Spark task: the step in which "
                      "progress moves and the size of output files; at least 4 tasks per core are made "
                      "(default: 1000)")
    runs.add_argument("--notes-per-call", type=int, default=64, help="notes a worker hands the engine at once "
                      "(default: 64)")
    runs.add_argument("--max-note-chars", type=int, default=1_000_000, help="longer notes get the error "
                      "note_too_large instead of being truncated (default: 1000000)")
    runs.add_argument("--progress-every", type=float, default=10.0, help="seconds between progress lines on "
                      "stderr; 0: only the last (default: 10)")
    model = parser.add_argument_group("model and Spark")
    model.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where executors run "
                       "the model; auto: CUDA when usable (default: auto)")
    model.add_argument("--variant", default="auto", choices=("auto", "fp32", "fp16", "int8"), help="model "
                       "precision; auto: fp16 on CUDA, int8 on CPU when the bundle has them (default: auto)")
    model.add_argument("--assertion", default="bundle", choices=("bundle", "rules", "model", "off"),
                       help="assertion status of entities of an assertable type (bundles with an assertion stage): "
                       "bundle: its own source (the trained classifier when it has one), rules, model, or off "
                       "(the assertion and historical fields stay null) (default: bundle)")
    model.add_argument("--master", default=None, help="Spark master: local[*] (the default: embedded, every "
                       "core of this machine), local[N], spark://host:port, yarn, k8s://...; under spark-submit "
                       "its --master applies")
    model.add_argument("--task-cpus", type=int, default=None, help="cores per task = ONNX Runtime threads per "
                       "model copy (spark.task.cpus); executors hold cores/this copies (default: Spark's, 1)")
    model.add_argument("--ship-bundle", dest="ship", default="auto", choices=("auto", "yes", "no"),
                       help="yes: copy the bundle to executors (SparkContext.addFile); no: executors read "
                       "--bundle in place (a shared mount); auto: no with a local master, else yes")
    model.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                       help="any Spark setting, repeatable (e.g. spark.driver.memory=4g)")
    return parser


def spark_session(args: argparse.Namespace) -> Any:
    import os

    from pyspark.sql import SparkSession

    # Embedded, the Python workers run this interpreter (its venv has the engine); under spark-submit
    # (which started the JVM and set PYSPARK_GATEWAY_PORT) or on a cluster, Spark's settings decide.
    if "PYSPARK_GATEWAY_PORT" not in os.environ and (args.master is None or args.master.startswith("local")):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("clinx bulk").config("spark.ui.showConsoleProgress", "false")
    if args.master:
        builder = builder.master(args.master)
    if args.task_cpus:
        builder = builder.config("spark.task.cpus", str(args.task_cpus))
    for item in args.conf:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"clinx bulk: --conf {item!r} is not KEY=VALUE")
        builder = builder.config(key.strip(), value.strip())
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    return session


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in ("notes_per_commit", "notes_per_task", "notes_per_call", "max_note_chars"):
        if getattr(args, name) < 1:
            print(f"clinx bulk: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    if args.resume and args.overwrite:
        print("clinx bulk: --resume and --overwrite exclude each other", file=sys.stderr)
        return 2
    from app.bundle import BundleError, read_manifest
    from clinx_bulk.job import JobConfig, run
    from clinx_bulk.storage import JobError

    try:
        manifest = read_manifest(Path(args.bundle))  # a bad bundle fails in a second, before the JVM starts
    except BundleError as error:
        print(f"clinx bulk: {error}", file=sys.stderr)
        return 2
    if args.assertion == "model" and manifest.assertion.model is None:
        print(f"clinx bulk: bundle {manifest.name!r} has no trained assertion classifier; --assertion rules or off",
              file=sys.stderr)
        return 2
    config = JobConfig(bundle=args.bundle, input=args.input, output=args.output, input_format=args.input_format,
                       id_column=args.id_column, text_column=args.text_column, resume=args.resume,
                       overwrite=args.overwrite, device=args.device, variant=args.variant, ship=args.ship,
                       assertion={"bundle": True, "off": False}.get(args.assertion, args.assertion),
                       notes_per_task=args.notes_per_task, notes_per_commit=args.notes_per_commit,
                       notes_per_call=args.notes_per_call, max_note_chars=args.max_note_chars,
                       progress_every_s=args.progress_every)
    started = time.monotonic()
    spark = spark_session(args)
    session_s = time.monotonic() - started
    print(f"clinx bulk: Spark {spark.version} on {spark.sparkContext.master} ready in {session_s:.1f} s; "
          f"UI: {spark.sparkContext.uiWebUrl or 'off'}", file=sys.stderr)
    try:
        summary = run(spark, config)
    except (JobError, BundleError) as error:
        print(f"clinx bulk: {error}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    summary.seconds["spark_session"] = round(session_s, 2)
    print(json.dumps({"output": config.output, **summary.__dict__}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
