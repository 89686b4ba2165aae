"""A bulk job: notes in (Parquet, JSON lines, CSV), one Parquet row per note out, exactly once, resumable.

The notes still to do are split by a hash of their id into commits of about ``notes_per_commit``;
each commit is one Spark job appending to the output through Spark's file committer (algorithm 1:
task files become visible only when the job commits), so a crash leaves whole commits behind and
never half of one. ``resume`` skips every id the output already holds (null-safe), the job writes
``_SUCCESS`` only once the output holds every input row, and before that it checks the count.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType, StringType

from app.bundle import BundleError, Manifest, bundle_digest, verify_bundle
from clinx_bulk.frame import extract_frame, ship_bundle
from clinx_bulk.progress import ProgressPrinter
from clinx_bulk.schema import OFFSETS
from clinx_bulk.storage import MARKER, SUCCESS, JobError, Storage
from clinx_bulk.worker import Counters


@dataclass(frozen=True)
class JobConfig:
    bundle: str
    input: str
    output: str
    input_format: str = "auto"
    id_column: str = "id"
    text_column: str = "text"
    resume: bool = False
    overwrite: bool = False
    device: str = "auto"
    variant: str = "auto"
    assertion: bool | str = True  # True: the bundle's source; False: skipped; "rules" / "model"
    ship: str = "auto"  # auto | yes | no
    notes_per_task: int = 1000
    notes_per_commit: int = 200_000
    notes_per_call: int = 64
    max_note_chars: int = 1_000_000
    progress_every_s: float = 10.0


@dataclass
class JobSummary:
    """Counts and timings of one run (no ids, no text); also written to ``_CLINX_BULK.json``."""

    input_rows: int = 0  # rows already in the output + rows to do
    already_done: int = 0
    processed: int = 0
    errors: int = 0
    tokens: int = 0
    commits: int = 0
    output_rows: int = 0
    model_loads: int = 0
    model_load_s: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)


def read_notes(spark: SparkSession, storage: Storage, config: JobConfig) -> DataFrame:
    """The input as a DataFrame with the id and text columns checked (names only in messages, never values)."""
    fmt = storage.input_format(config.input, config.input_format)
    reader = spark.read
    if fmt == "csv":  # notes span lines: quoted fields may hold newlines
        reader = reader.option("header", True).option("multiLine", True).option("escape", '"')
    frame: DataFrame = reader.format(fmt).load(config.input)
    for role, name in (("id", config.id_column), ("text", config.text_column)):
        if name not in frame.columns:
            raise JobError(f"input {config.input} ({fmt}) has no {role} column {name!r}; its columns: "
                           f"{', '.join(frame.columns)} (choose with --{role}-column)")
    text_type = frame.schema[config.text_column].dataType
    if not isinstance(text_type, StringType | BinaryType):
        raise JobError(f"text column {config.text_column!r} is {text_type.simpleString()}, not a string")
    return frame


def check_output(storage: Storage, config: JobConfig, sha256: str) -> None:
    """Refuse to mix runs: an existing output needs --resume (same model) or --overwrite."""
    if config.output.rstrip("/") == config.input.rstrip("/"):
        raise JobError("--output is the --input: write the rows somewhere else")
    if not storage.exists(config.output):
        return
    if config.overwrite:
        storage.delete(config.output)
        return
    if not config.resume:
        raise JobError(f"output {config.output} exists: pass --resume to add the notes it lacks, or --overwrite")
    marker = storage.read_marker(config.output)
    if marker is None:
        if storage.has_rows(config.output):
            raise JobError(f"output {config.output} holds files but no {MARKER}: not written by clinx bulk")
        return
    if marker.get("model", {}).get("sha256") != sha256:
        raise JobError(f"output {config.output} was written by another model ({marker.get('model', {}).get('name')} "
                       f"{marker.get('model', {}).get('version')}); resume with that bundle or write elsewhere")
    if marker.get("id_column") != config.id_column:
        raise JobError(f"output {config.output} was written with --id-column {marker.get('id_column')!r}")


def notes_to_do(spark: SparkSession, storage: Storage, notes: DataFrame, config: JobConfig) -> tuple[DataFrame, int]:
    """The notes whose id the output lacks (all of them without --resume), and how many rows it has."""
    if not (config.resume and storage.has_rows(config.output)):
        return notes, 0
    done = spark.read.parquet(config.output).select(F.col(config.id_column).alias("_done_id"))
    missing = notes.join(done.distinct(), notes[config.id_column].eqNullSafe(done["_done_id"]), "left_anti")
    return missing, done.count()


def committer_settings(spark: SparkSession) -> None:
    """Spark's committer with algorithm 1 (nothing visible before job commit); our own _SUCCESS at the end."""
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    hadoop.set("mapreduce.fileoutputcommitter.algorithm.version", "1")
    hadoop.set("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")


def marker_for(manifest: Manifest, sha256: str, config: JobConfig, summary: JobSummary, complete: bool
               ) -> dict[str, Any]:
    return {
        "written_by": "clinx bulk",
        "model": {"name": manifest.name, "version": manifest.version, "sha256": sha256, "demo": manifest.demo},
        "offsets": OFFSETS, "id_column": config.id_column, "complete": complete,
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"), "last_run": asdict(summary),
    }


def run(spark: SparkSession, config: JobConfig) -> JobSummary:
    """Run the job on ``spark``; raises JobError (input, output, options) or BundleError (the bundle)."""
    started = time.monotonic()
    summary = JobSummary()
    bundle = Path(config.bundle)
    manifest = verify_bundle(bundle, None if config.variant == "auto" else {config.variant})
    sha256 = bundle_digest(bundle / "manifest.json")
    storage = Storage(spark)
    notes = read_notes(spark, storage, config)
    check_output(storage, config, sha256)
    committer_settings(spark)
    # _SUCCESS comes back only when this run completes. A crashed run's _temporary holds task files that were
    # never committed: they are not part of the output and must not join the next commit.
    for leftover in (SUCCESS, "_temporary"):
        if storage.exists(config.output, leftover):
            storage.delete(config.output, leftover)
    storage.write_marker(config.output, marker_for(manifest, sha256, config, summary, complete=False))
    todo, summary.already_done = notes_to_do(spark, storage, notes, config)
    total = todo.count()
    summary.seconds["plan"] = round(time.monotonic() - started, 2)
    counters = Counters.create(spark.sparkContext)
    ref = ship_bundle(spark, bundle, config.ship)
    summary.commits = max(1, math.ceil(total / config.notes_per_commit)) if total else 0
    parallelism = spark.sparkContext.defaultParallelism

    def read_counters() -> tuple[int, int, int]:
        return int(counters.notes.value), int(counters.tokens.value), int(counters.errors.value)

    with ProgressPrinter(read_counters, total, config.progress_every_s):
        for commit in range(summary.commits):
            part = todo if summary.commits == 1 else todo.where(
                F.pmod(F.xxhash64(config.id_column), F.lit(summary.commits)) == commit)
            tasks = max(math.ceil(total / summary.commits / config.notes_per_task), 4 * parallelism)
            rows = extract_frame(part.repartition(tasks, config.id_column), ref, manifest, config.id_column,
                                 config.text_column, counters, device=config.device, variant=config.variant,
                                 max_note_chars=config.max_note_chars, notes_per_call=config.notes_per_call,
                                 assertion=config.assertion)
            rows.write.mode("append").parquet(config.output)
    summary.seconds["extract"] = round(time.monotonic() - started - summary.seconds["plan"], 2)
    summary.processed, summary.tokens, summary.errors = read_counters()
    summary.model_loads, summary.model_load_s = int(counters.loads.value), round(float(counters.load_seconds.value), 2)
    summary.input_rows = summary.already_done + total
    summary.output_rows = spark.read.parquet(config.output).count() if storage.has_rows(config.output) else 0
    if summary.output_rows != summary.input_rows:
        raise JobError(f"the output holds {summary.output_rows} rows where {summary.already_done} earlier and "
                       f"{total} new were expected: not marked complete")
    summary.seconds["total"] = round(time.monotonic() - started, 2)
    storage.write_marker(config.output, marker_for(manifest, sha256, config, summary, complete=True))
    storage.write_text(config.output, SUCCESS, "")
    return summary


__all__ = ["BundleError", "JobConfig", "JobError", "JobSummary", "run"]
