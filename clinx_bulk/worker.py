"""The executor side: Arrow batches of notes in, Arrow batches of rows out, one loaded bundle per Python worker.

Spark reuses Python workers between tasks (``spark.python.worker.reuse``, on by default), so the
Extractor loaded by a worker's first task serves all the tasks that worker runs afterwards. ONNX
Runtime gets as many threads as the task has cores (``spark.task.cpus``): an executor with 8 cores
and ``spark.task.cpus=2`` runs 4 model copies of 2 threads each.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from app.bundle import ASSERTION_STAGE
from app.engine.extractor import EngineOptions, Extractor
from app.engine.stages import DocumentResult
from clinx_bulk.notes import NoteError, check_note, entity_rows
from clinx_bulk.schema import STAGE_COLUMNS


@dataclass(frozen=True)
class WorkerSettings:
    """Everything a task needs, pickled into the closure Spark ships to executors (no note data)."""

    bundle: str  # a path every executor can read, or the name under which the bundle was shipped
    shipped: bool  # True: the bundle was added with SparkContext.addFile; resolve it with SparkFiles
    device: str
    variant: str
    max_note_chars: int
    notes_per_call: int
    stages: tuple[str, ...]
    assertion: bool | str = True  # the API's option: True (the bundle's source), False, "rules", "model"


@dataclass
class Counters:
    """Accumulators the driver reads for progress (merged when each task ends). Counts only, never ids."""

    notes: Any
    tokens: Any
    errors: Any
    loads: Any
    load_seconds: Any

    @classmethod
    def create(cls, context: Any) -> Counters:
        return cls(context.accumulator(0), context.accumulator(0), context.accumulator(0),
                   context.accumulator(0), context.accumulator(0.0))


_EXTRACTORS: dict[tuple[str, str, str, int], Extractor] = {}


def task_cores() -> int:
    """``spark.task.cpus`` of the running task (1 outside a task)."""
    from pyspark import TaskContext

    context = TaskContext.get()
    return max(1, int(context.cpus())) if context is not None else 1


def bundle_path(settings: WorkerSettings) -> str:
    if not settings.shipped:
        return settings.bundle
    from pyspark import SparkFiles

    return SparkFiles.get(settings.bundle)


def worker_extractor(settings: WorkerSettings, counters: Counters) -> Extractor:
    """This worker's Extractor for the bundle, loaded (verified, warmed up) on first use only."""
    threads = task_cores()
    path = bundle_path(settings)
    key = (str(Path(path).resolve()), settings.device, settings.variant, threads)
    if key not in _EXTRACTORS:
        # The tokenizer's own thread pool would compete with ONNX Runtime for the task's cores.
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        started = time.monotonic()
        options = EngineOptions(device=settings.device, variant=settings.variant, intra_op_threads=threads)
        _EXTRACTORS[key] = Extractor.load(path, options=options)
        counters.loads.add(1)
        counters.load_seconds.add(time.monotonic() - started)
    return _EXTRACTORS[key]


def run_notes(extractor: Extractor, texts: list[str], options: dict[str, Any] | None = None
              ) -> list[DocumentResult | NoteError]:
    """Entities for every text; if the engine fails on the group, each note is retried alone so one bad
    note fails by itself (its error names the exception's type, never its text)."""
    if not texts:
        return []
    try:
        return list(extractor.extract(texts, options))
    except Exception:
        pass
    results: list[DocumentResult | NoteError] = []
    for text in texts:
        try:
            results.append(extractor.extract([text], options)[0])
        except Exception as error:
            results.append(NoteError("extraction_failed", f"the engine failed on this note ({type(error).__name__})"))
    return results


def output_arrays(checked: list[str | NoteError], results: list[DocumentResult | NoteError],
                  schema: pa.Schema, stages: tuple[str, ...]) -> list[pa.Array]:
    """The entities, stats, stage and error columns for notes in input order."""
    found = iter(results)
    entities: list[list[dict[str, Any]]] = []
    stats: list[dict[str, int] | None] = []
    errors: list[dict[str, str] | None] = []
    extra: dict[str, list[Any]] = {name: [] for name in schema.names[3:-1]}
    columns = [STAGE_COLUMNS[name] for name in stages if name in STAGE_COLUMNS]
    for note in checked:
        outcome: DocumentResult | NoteError = note if isinstance(note, NoteError) else next(found)
        if isinstance(outcome, NoteError):
            entities.append([])
            stats.append(None)
            errors.append(outcome.as_row())
            for values in extra.values():
                values.append(None)
            continue
        text = note if isinstance(note, str) else ""
        rows = entity_rows(text, outcome.entities)
        for stage in columns:
            for row, entity in zip(rows, outcome.entities, strict=True):
                row.update(stage.entity_values(entity))
            for name, value in stage.note_values(outcome).items():
                extra[name].append(value)
        entities.append(rows)
        stats.append({"characters": outcome.characters, "tokens": outcome.tokens, "windows": outcome.windows})
        errors.append(None)
    arrays = [pa.array(entities, schema.field("entities").type), pa.array(stats, schema.field("stats").type)]
    arrays += [pa.array(values, schema.field(name).type) for name, values in extra.items()]
    arrays.append(pa.array(errors, schema.field("error").type))
    return arrays


def extract_batches(batches: Iterator[pa.RecordBatch], settings: WorkerSettings, schema: pa.Schema,
                    counters: Counters) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function: input batches of (id, text as UTF-8 bytes), output rows in ``schema``."""
    extractor: Extractor | None = None
    for batch in batches:
        ids, raw = batch.column(0), batch.column(1).to_pylist()
        for start in range(0, batch.num_rows, settings.notes_per_call):
            group = raw[start : start + settings.notes_per_call]
            checked = [check_note(value, settings.max_note_chars) for value in group]
            texts = [note for note in checked if isinstance(note, str)]
            if texts and extractor is None:
                extractor = worker_extractor(settings, counters)
            options = {ASSERTION_STAGE: settings.assertion}
            results = run_notes(extractor, texts, options) if extractor is not None else []
            arrays = output_arrays(checked, results, schema, settings.stages)
            counters.notes.add(len(group))
            counters.tokens.add(sum(r.tokens for r in results if isinstance(r, DocumentResult)))
            counters.errors.add(sum(1 for a in (*checked, *results) if isinstance(a, NoteError)))
            yield pa.RecordBatch.from_arrays([ids.slice(start, len(group)), *arrays], schema=schema)
