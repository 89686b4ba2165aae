"""The output directory through Hadoop's FileSystem (local disk, HDFS, S3A, ABFS alike), and the input's format.

Beside Spark's part files a run keeps ``_CLINX_BULK.json`` (the model that wrote the rows, the offset
unit, the counts, and ``complete``) and writes ``_SUCCESS`` only when every note is in the output.
Names starting with ``_`` are ignored by Spark, Hive and pyarrow readers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pyspark.sql import SparkSession

MARKER = "_CLINX_BULK.json"
SUCCESS = "_SUCCESS"
FORMATS = ("parquet", "json", "csv")
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "json", ".ndjson": "json", ".json": "json",
            ".csv": "csv"}
COMPRESSION = (".gz", ".bz2", ".zst", ".snappy", ".lz4", ".deflate")


class JobError(Exception):
    """A problem with the job's input, output or options: one line for the person who ran it."""


def format_of_name(name: str) -> str | None:
    """``notes.jsonl.gz`` -> json, ``part-0.snappy.parquet`` -> parquet, anything else -> None."""
    lowered = name.lower()
    for suffix in COMPRESSION:
        if lowered.endswith(suffix) and not lowered.endswith(".parquet"):
            lowered = lowered[: -len(suffix)]
    for suffix, fmt in SUFFIXES.items():
        if lowered.endswith(suffix):
            return fmt
    return None


@dataclass
class Storage:
    """Paths of one Hadoop-compatible file system, as the driver sees them."""

    spark: SparkSession

    def _fs(self, path: str) -> tuple[Any, Any]:
        jvm = self.spark.sparkContext._jvm
        assert jvm is not None, "a classic (non-Connect) Spark session is needed"
        hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
        return hadoop_path.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration()), hadoop_path

    def _child(self, path: str, name: str) -> Any:
        jvm = self.spark.sparkContext._jvm
        assert jvm is not None
        return jvm.org.apache.hadoop.fs.Path(path.rstrip("/") + "/" + name)

    def exists(self, path: str, name: str = "") -> bool:
        fs, target = self._fs(path)
        return bool(fs.exists(self._child(path, name) if name else target))

    def names(self, path: str) -> list[str]:
        """Names directly under ``path`` (a file's own name when it is a file)."""
        fs, target = self._fs(path)
        if not fs.exists(target):
            return []
        return [str(status.getPath().getName()) for status in fs.listStatus(target)]

    def has_rows(self, path: str) -> bool:
        """Whether a committed part file exists (anything not hidden by ``_`` or ``.``)."""
        return any(not name.startswith(("_", ".")) for name in self.names(path))

    def delete(self, path: str, name: str = "") -> None:
        fs, target = self._fs(path)
        fs.delete(self._child(path, name) if name else target, True)

    def write_text(self, path: str, name: str, text: str) -> None:
        fs, _ = self._fs(path)
        stream = fs.create(self._child(path, name), True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()

    def read_text(self, path: str, name: str) -> str | None:
        fs, _ = self._fs(path)
        child = self._child(path, name)
        if not fs.exists(child):
            return None
        jvm = self.spark.sparkContext._jvm
        assert jvm is not None
        stream = fs.open(child)
        try:
            return str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
        finally:
            stream.close()

    def read_marker(self, path: str) -> dict[str, Any] | None:
        text = self.read_text(path, MARKER)
        return None if text is None else dict(json.loads(text))

    def write_marker(self, path: str, marker: dict[str, Any]) -> None:
        self.write_text(path, MARKER, json.dumps(marker, indent=2) + "\n")

    def input_format(self, path: str, given: str) -> str:
        """``given`` unless it is ``auto``: then from the path's suffix, or the first data file's in a folder."""
        if given != "auto":
            return given
        found = format_of_name(path.rstrip("/"))
        if found is None:
            found = next((fmt for name in sorted(self.names(path)) if not name.startswith(("_", "."))
                          and (fmt := format_of_name(name)) is not None), None)
        if found is None:
            if not self.exists(path):
                raise JobError(f"input {path} does not exist")
            raise JobError(f"cannot tell the format of {path} from its name or its files: pass --format "
                           f"({' | '.join(FORMATS)})")
        return found
