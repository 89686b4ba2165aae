"""``clinx bulk`` jobs on a real embedded Spark (local[2]) with the tiny bundle: every row exactly once,
errors kept as rows, resume, formats, the library call, and one bundle load per Python worker."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from app.engine.extractor import EngineOptions, Extractor
from clinx_bulk.job import JobConfig, run
from clinx_bulk.storage import JobError
from tests.bulk_support import demo_notes, read_output, rows_by_id, write_jsonl, write_parquet

pytestmark = pytest.mark.slow


def config(bundle: Path, input_path: Path, output: Path, **overrides: Any) -> JobConfig:
    base: dict[str, Any] = {"variant": "fp32", "device": "cpu", "progress_every_s": 0, "notes_per_task": 8}
    return JobConfig(bundle=str(bundle), input=str(input_path), output=str(output), **{**base, **overrides})


Span = tuple[int, int, str, str | None, bool | None]  # start, end, label, assertion, historical


def in_process(bundle: Path, texts: list[str]) -> list[list[Span]]:
    with Extractor.load(bundle, options=EngineOptions(device="cpu", variant="fp32")) as extractor:
        return [[(e.start, e.end, e.label, e.assertion, e.historical) for e in result.entities]
                for result in extractor.extract(texts)]


def spans(row: dict[str, Any]) -> list[Span]:
    return [(e["start"], e["end"], e["label"], e["assertion"], e["historical"]) for e in row["entities"]]


def test_every_row_once_bad_notes_as_error_rows_spans_as_in_process(spark: Any, tiny_bundle: Path,
                                                                     tmp_path: Path) -> None:
    notes = demo_notes(36)
    notes[5]["text"] = "Née à Zürich 🙂 — " + notes[5]["text"]  # code points beyond the BMP before the spans
    ids: list[Any] = [note["id"] for note in notes] + [None, 101, 102, 103, 104]
    texts = [note["text"].encode() for note in notes] + [notes[0]["text"].encode(), None, b"", b" \n ",
                                                           b"chest pain \xff\xfe"]
    source = write_parquet(tmp_path / "notes.parquet", ids, texts)
    output = tmp_path / "out"
    summary = run(spark, config(tiny_bundle, source, output, notes_per_commit=15))

    assert summary.commits == 3 and summary.input_rows == summary.output_rows == len(ids)
    table = read_output(output)
    assert table.schema.field("id").type == pa.int64(), "the id keeps its type"
    rows = table.to_pylist()
    assert sorted(map(str, (row["id"] for row in rows))) == sorted(map(str, ids))
    by_id = {row["id"]: row for row in rows}
    assert {i: by_id[i]["error"]["type"] for i in (101, 102, 103, 104)} == {
        101: "missing_text", 102: "empty_text", 103: "empty_text", 104: "invalid_utf8"}
    assert all(by_id[i]["entities"] == [] and by_id[i]["stats"] is None for i in (101, 102, 103, 104))
    assert by_id[None]["error"] is None and spans(by_id[None]) == spans(by_id[notes[0]["id"]])
    expected = in_process(tiny_bundle, [note["text"] for note in notes])
    assert [spans(by_id[note["id"]]) for note in notes] == expected
    assert sum(map(len, expected)) > 0
    asserted = [span for document in expected for span in document if span[2] == "problem"]
    assert asserted and all(span[3] is not None for span in asserted), "problems carry their assertion"
    assert all(span[3] is None for document in expected for span in document if span[2] != "problem")
    for note in notes:
        row = by_id[note["id"]]
        assert row["error"] is None and row["stats"]["characters"] == len(note["text"])
        assert all(e["text"] == note["text"][e["start"]:e["end"]] for e in row["entities"])
    assert summary.errors == 4 and summary.processed == len(ids)
    assert (output / "_SUCCESS").exists()
    marker = json.loads((output / "_CLINX_BULK.json").read_text())
    assert marker["complete"] and marker["offsets"] == "codepoint" and marker["model"]["name"] == "tiny-xlmr"
    spark_schema = json.loads(table.schema.metadata[b"org.apache.spark.sql.parquet.row.metadata"])
    entities = next(f for f in spark_schema["fields"] if f["name"] == "entities")
    assert entities["metadata"]["clinx.offsets"] == "codepoint"
    assert not any(path.name.startswith("_temporary") for path in output.iterdir())


def test_resume_adds_only_the_missing_ids_and_an_existing_output_is_refused_without_it(
        spark: Any, tiny_bundle: Path, tmp_path: Path) -> None:
    notes = demo_notes(30, seed=3)
    output = tmp_path / "out"
    first = write_jsonl(tmp_path / "first.jsonl", notes[:18])
    run(spark, config(tiny_bundle, first, output))
    before = rows_by_id(output)
    whole = write_jsonl(tmp_path / "whole.jsonl", notes)
    with pytest.raises(JobError, match="--resume"):
        run(spark, config(tiny_bundle, whole, output))
    summary = run(spark, config(tiny_bundle, whole, output, resume=True, notes_per_commit=5))
    assert (summary.already_done, summary.processed, summary.output_rows) == (18, 12, 30)
    after = rows_by_id(output)
    assert sorted(after) == [note["id"] for note in notes]
    assert all(after[i] == before[i] for i in before), "rows written before were kept as they were"
    again = run(spark, config(tiny_bundle, whole, output, resume=True))
    assert (again.already_done, again.processed, again.commits) == (30, 0, 0)
    assert len(read_output(output)) == 30


def test_resume_with_another_model_is_refused(spark: Any, tiny_bundle: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-bundle"
    shutil.copytree(tiny_bundle, other)
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps({**manifest, "version": "0.0.2"}))
    source = write_jsonl(tmp_path / "notes.jsonl", demo_notes(4))
    run(spark, config(tiny_bundle, source, tmp_path / "out"))
    with pytest.raises(JobError, match="another model"):
        run(spark, config(other, source, tmp_path / "out", resume=True))


def test_csv_and_json_lines_with_named_columns_give_the_same_rows_as_parquet(
        spark: Any, tiny_bundle: Path, tmp_path: Path) -> None:
    import csv

    notes = demo_notes(6, seed=11)
    notes[2]["text"] = 'He said "no pain",\nthen: chest pain, "severe".\n' + notes[2]["text"]
    with (tmp_path / "notes.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["note_id", "body", "other"])
        writer.writerows([[f"n{note['id']}", note["text"], "x"] for note in notes])
    write_jsonl(tmp_path / "notes.jsonl", [{"note_id": f"n{n['id']}", "body": n["text"]} for n in notes])
    outputs = {}
    for name in ("notes.csv", "notes.jsonl"):
        out = tmp_path / f"out-{name}"
        run(spark, config(tiny_bundle, tmp_path / name, out, id_column="note_id", text_column="body"))
        outputs[name] = {key: spans(row) for key, row in rows_by_id(out, "note_id").items()}
    expected = in_process(tiny_bundle, [note["text"] for note in notes])
    assert outputs["notes.csv"] == outputs["notes.jsonl"] == {f"n{n['id']}": s for n, s in zip(notes, expected,
                                                                                                 strict=True)}
    with pytest.raises(JobError, match=r"no text column 'text'.*body, note_id"):
        run(spark, config(tiny_bundle, tmp_path / "notes.jsonl", tmp_path / "never", id_column="note_id"))


def test_the_library_call_ships_the_bundle_and_loads_it_once_per_python_worker(
        spark: Any, tiny_bundle: Path, tmp_path: Path) -> None:
    from clinx_bulk import extract

    shipped = tmp_path / "shipped-bundle"  # a path of its own: no worker has it loaded yet
    shutil.copytree(tiny_bundle, shipped)
    notes = demo_notes(40, seed=5)
    frame = spark.createDataFrame([(n["id"], n["text"]) for n in notes], "id long, text string").repartition(10)
    rows = extract(frame, shipped, ship="yes", variant="fp32", device="cpu").collect()
    assert sorted(row["id"] for row in rows) == [n["id"] for n in notes]
    expected = dict(zip((n["id"] for n in notes), in_process(tiny_bundle, [n["text"] for n in notes]), strict=True))
    assert {row["id"]: spans(row.asDict(recursive=True)) for row in rows} == expected

    fresh = tmp_path / "fresh-bundle"
    shutil.copytree(tiny_bundle, fresh)
    source = write_jsonl(tmp_path / "notes.jsonl", notes)
    summary = run(spark, config(fresh, source, tmp_path / "out", notes_per_task=4))
    assert 1 <= summary.model_loads <= 2, "10 tasks on local[2]: one load per Python worker"
