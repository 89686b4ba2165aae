"""Bulk extraction on Apache Spark: the same bundles and spans as the server, over a whole note archive.

Needs the ``bulk`` extra (pyspark, pyarrow, pandas) and Java 17. ``clinx bulk`` (``clinx_bulk.cli``) is
the command; :func:`extract` is the library call for notebooks and pipelines::

    from clinx_bulk import extract

    rows = extract(spark.read.parquet("notes/"), "models/demo", id_column="note_id", text_column="note_text")
    rows.write.parquet("entities/")

The server (``app/``) never imports this package.
"""

from __future__ import annotations

from typing import Any

__all__ = ["extract"]


def __getattr__(name: str) -> Any:
    """``clinx_bulk.extract`` is :func:`clinx_bulk.frame.extract`, imported on first use (pyspark loads only then)."""
    if name == "extract":
        from clinx_bulk.frame import extract

        return extract
    raise AttributeError(f"module 'clinx_bulk' has no attribute {name!r}")
