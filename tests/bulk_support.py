"""Bulk test helpers: note files written with pyarrow, outputs read back with pyarrow (not through Spark)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from model_export.demo_corpus import generate_demo_corpus


def demo_notes(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """Synthetic notes the tiny bundle tags, with integer ids 1..count."""
    return [{"id": index + 1, "text": document.text}
            for index, document in enumerate(generate_demo_corpus(count, seed=seed))]


def write_parquet(path: Path, ids: list[Any], texts: list[bytes | None], id_type: pa.DataType = pa.int64()) -> Path:
    """Text as binary without the UTF-8 annotation, as some warehouse writers store strings."""
    table = pa.table({"id": pa.array(ids, id_type), "text": pa.array(texts, pa.binary())})
    pq.write_table(table, path)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def read_output(path: Path) -> pa.Table:
    """Every committed part file (pyarrow skips ``_``-prefixed names, as Spark does)."""
    return pq.read_table(path)


def rows_by_id(path: Path, id_column: str = "id") -> dict[Any, dict[str, Any]]:
    rows = read_output(path).to_pylist()
    ids = [row[id_column] for row in rows]
    assert len(ids) == len(set(ids)), "an id appears twice in the output"
    return {row[id_column]: row for row in rows}
