"""The library call: a DataFrame of notes in, a DataFrame of one row per note out (lazy, like any transformation).

    from clinx_bulk import extract

    notes = spark.read.parquet("s3a://warehouse/notes/")            # columns note_id, note_text, ...
    rows = extract(notes, "/dbfs/models/clinx-i2b2-2010", id_column="note_id", text_column="note_text")
    rows.where("error is null").selectExpr("note_id", "explode(entities) as e").groupBy("e.label").count().show()

Runs through ``mapInArrow``: Arrow batches of (id, text) go to each Python worker, which runs them
through its Extractor (loaded once per worker, ONNX Runtime threads = the task's cores) and returns
Arrow batches of rows. ``mapInArrow`` rather than ``mapInPandas``: the id column passes through
untouched in its own type (a nullable integer id stays an integer), and no pandas frames are built.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from app.bundle import Manifest, read_manifest
from clinx_bulk.schema import output_schema
from clinx_bulk.worker import Counters, WorkerSettings, extract_batches

SHIP_CHOICES = ("auto", "yes", "no")


@dataclass(frozen=True)
class BundleRef:
    """Where executors find the bundle: a path they can all read, or a name shipped with SparkContext.addFile."""

    location: str
    shipped: bool


def ship_bundle(spark: SparkSession, bundle: Path | str, ship: str = "auto") -> BundleRef:
    """``auto``: ship on a cluster, read in place with a local master (same machine, no copy)."""
    if ship not in SHIP_CHOICES:
        raise ValueError(f"ship must be one of {SHIP_CHOICES}, got {ship!r}")
    context = spark.sparkContext
    if ship == "no" or (ship == "auto" and str(context.master).startswith("local")):
        return BundleRef(str(Path(bundle).resolve()), shipped=False)
    path = Path(bundle).resolve()
    context.addFile(str(path), recursive=True)
    return BundleRef(path.name, shipped=True)


def check_assertion(manifest: Manifest, assertion: bool | str) -> bool | str:
    """``"model"`` needs a bundle with a trained classifier (ValueError before any task runs)."""
    if assertion not in (True, False, "rules", "model"):
        raise ValueError(f"assertion must be true, false, 'rules' or 'model', got {assertion!r}")
    if assertion == "model" and manifest.assertion.model is None:
        raise ValueError(f"bundle {manifest.name!r} has no trained assertion classifier (use rules or off)")
    return assertion


def extract_frame(notes: DataFrame, bundle: BundleRef, manifest: Manifest, id_column: str, text_column: str,
                  counters: Counters, *, device: str = "auto", variant: str = "auto",
                  max_note_chars: int = 1_000_000, notes_per_call: int = 64, assertion: bool | str = True
                  ) -> DataFrame:
    """``notes`` (with ``id_column`` and ``text_column``) as output rows; ``counters`` count the work done."""
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = output_schema(notes.schema[id_column], manifest)
    settings = WorkerSettings(bundle.location, bundle.shipped, device, variant, max_note_chars, notes_per_call,
                              tuple(manifest.stages), check_assertion(manifest, assertion))
    arrow_schema = to_arrow_schema(schema)
    pairs = notes.select(F.col(id_column), F.col(text_column).cast("binary").alias("__clinx_text"))
    function = partial(extract_batches, settings=settings, schema=arrow_schema, counters=counters)
    return pairs.mapInArrow(function, schema)


def extract(notes: DataFrame, bundle: Path | str, *, id_column: str = "id", text_column: str = "text",
            device: str = "auto", variant: str = "auto", ship: str = "auto", max_note_chars: int = 1_000_000,
            notes_per_call: int = 64, assertion: bool | str = True) -> DataFrame:
    """One row per note of ``notes``: its id, ``entities``, ``stats`` and ``error`` (see clinx_bulk.schema).

    ``bundle`` is a bundle directory the driver can read; ``ship`` says how executors get it (``auto``:
    shipped with SparkContext.addFile on a cluster, read in place with a local master; ``no``: a path
    every executor can read, e.g. a shared mount). Raises BundleError for a bad manifest; the files'
    checksums are verified by each worker as it loads the bundle. ``assertion``: as the API's option
    (True: the bundle's own source, False: skip the stage, "rules", "model").
    """
    spark = notes.sparkSession
    manifest = read_manifest(Path(bundle))
    counters = Counters.create(spark.sparkContext)
    return extract_frame(notes, ship_bundle(spark, bundle, ship), manifest, id_column, text_column, counters,
                         device=device, variant=variant, max_note_chars=max_note_chars, notes_per_call=notes_per_call,
                         assertion=assertion)
