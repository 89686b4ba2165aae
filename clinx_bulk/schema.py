"""The output table's schema: one row per note, with its contract written into the schema's metadata.

    <id column>  the input's id, same name and type
    entities     array<struct<start int, end int, text string, label string, score double
                              [, assertion string, historical boolean: bundles with an assertion stage]>>
    stats        struct<characters int, tokens int, windows int>   (null when the note has an error)
    error        struct<type string, message string>              (null when the note was processed)

Offsets are Unicode code points into the note's text (Python ``str`` and Spark string indices), end
exclusive: ``text == substring(note, start + 1, end - start)`` in Spark SQL. Stages that add fields
to entities (assertion, issue 16) or columns to notes (de-identified text and items, issue 17)
register them here with :func:`register_stage_columns`; a bundle whose manifest lists the stage
gets them, every other bundle keeps the core schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from app.bundle import ASSERTION_STAGE, Manifest

OFFSETS = "codepoint"
OFFSETS_NOTE = ("start/end: Unicode code point offsets into the note's text, end exclusive "
                "(Python str indices; Spark SQL substring(text, start + 1, end - start))")

ENTITY_FIELDS = [
    StructField("start", IntegerType(), False, {"comment": "first code point of the span (0-based)"}),
    StructField("end", IntegerType(), False, {"comment": "code point after the span's last one"}),
    StructField("text", StringType(), False, {"comment": "the note's text from start to end"}),
    StructField("label", StringType(), False, {"comment": "entity type"}),
    StructField("score", DoubleType(), False, {"comment": "mean probability of the span's tags, 4 digits"}),
]
STATS = StructType([
    StructField("characters", IntegerType(), False, {"comment": "code points in the note"}),
    StructField("tokens", IntegerType(), False, {"comment": "subword tokens of the note"}),
    StructField("windows", IntegerType(), False, {"comment": "model windows the note was cut into"}),
])
ERROR = StructType([
    StructField("type", StringType(), False, {"comment": "missing_text | invalid_utf8 | empty_text | "
                                                         "note_too_large | extraction_failed"}),
    StructField("message", StringType(), False, {"comment": "what is wrong; never quotes the note"}),
])


@dataclass(frozen=True)
class StageColumns:
    """What a stage after decode adds to the output: fields on each entity, columns on each note.

    ``entity_values(entity)`` and ``note_values(document result)`` give the values by field name.
    """

    entity_fields: list[StructField] = field(default_factory=list)
    note_fields: list[StructField] = field(default_factory=list)
    entity_values: Callable[[Any], dict[str, Any]] = lambda entity: {}
    note_values: Callable[[Any], dict[str, Any]] = lambda result: {}


STAGE_COLUMNS: dict[str, StageColumns] = {}


def register_stage_columns(stage: str, columns: StageColumns) -> None:
    """Give bundles whose manifest lists ``stage`` the columns it produces (called by the stage's module)."""
    STAGE_COLUMNS[stage] = columns


def stage_columns(manifest: Manifest) -> list[StageColumns]:
    return [STAGE_COLUMNS[name] for name in manifest.stages if name in STAGE_COLUMNS]


def output_schema(id_field: StructField, manifest: Manifest) -> StructType:
    """The output's schema for this bundle; ``id_field`` is the input's id column as it is."""
    extra = stage_columns(manifest)
    entity = StructType(ENTITY_FIELDS + [f for columns in extra for f in columns.entity_fields])
    model = {"name": manifest.name, "version": manifest.version}
    fields = [
        StructField(id_field.name, id_field.dataType, True, {"comment": "the note's id from the input"}),
        StructField("entities", ArrayType(entity, False), False,
                    {"comment": "concepts found, ordered by start, never overlapping; " + OFFSETS_NOTE,
                     "clinx.offsets": OFFSETS, "clinx.model": model}),
        StructField("stats", STATS, True, {"comment": "sizes of the note as the model saw it"}),
        *(f for columns in extra for f in columns.note_fields),
        StructField("error", ERROR, True, {"comment": "why the note has no entities; null when it was processed"}),
    ]
    return StructType(fields)


def id_field_of(schema: StructType, id_column: str) -> StructField:
    return schema[id_column]


def spark_type_name(data_type: DataType) -> str:
    return str(data_type.simpleString())


# Assertion (issue 16): on entities of an assertable type; null on the others, and null everywhere
# when the run skips the stage (--assertion off).
register_stage_columns(ASSERTION_STAGE, StageColumns(
    entity_fields=[
        StructField("assertion", StringType(), True, {"comment": "present | absent | possible | conditional | "
                                                      "hypothetical | associated_with_someone_else; null on "
                                                      "entities of other types"}),
        StructField("historical", BooleanType(), True, {"comment": "in the patient's past; null where the "
                                                        "source cannot tell"}),
    ],
    entity_values=lambda entity: {"assertion": entity.assertion, "historical": entity.historical},
))
