"""``clinx bulk`` throughput on this machine: local[1] and local[2] against the server at saturation and the
model-only ceiling, in note tokens/s, with start-up (JVM, Python workers, model load) reported apart.

The MTSamples notes are repeated (``--repeat``, unique ids) into one Parquet file. The contenders run
one after the other in one sitting, alternated (ceiling 2 threads, bulk local[2], server, ceiling 1
thread, bulk local[1], ceiling 2 threads again), each in its own process, so drift on a shared
machine shows instead of favouring one of them; the load average is recorded at each step.

- ceiling: ``benchmarks/ceiling.py`` (ONNX Runtime alone on pre-built windows), 1 and 2 threads
- bulk: a Spark session is started (timed), a warm-up job of a few notes loads the bundle in every
  Python worker (timed: start-up), then the timed job runs ``clinx_bulk.job.run`` on all notes
  (counting the input, extracting, writing Parquet through the committer, checking the count)
- server: ``clinx serve`` with 2 threads, 32 closed-loop clients posting single notes

    .venv/bin/python benchmarks/bulk.py --bundle models/demo --variant int8 --repeat 6

Writes benchmarks/results/bulk.{json,md}; also the figures on paper for a cluster (notes/hour per
executor core for the demo and the CLIN-X shape, cores for 10 million notes overnight).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.levels import child  # noqa: E402
from benchmarks.loadgen import loadavg  # noqa: E402
from benchmarks.server_process import BENCH_SETTINGS, bench_server  # noqa: E402
from benchmarks.soak import machine as describe_machine  # noqa: E402
from benchmarks.span_parity import NOTES, read_notes  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
OVERNIGHT_H = 10.0  # 20:00 to 06:00
ARCHIVE = 10_000_000


def note_tokens(bundle: Path, texts: list[str]) -> list[int]:
    """Each note's subword count as the engine counts it (DocumentResult.tokens)."""
    from app.bundle import read_manifest
    from app.text.encode import DocumentEncoder

    manifest = read_manifest(bundle)
    encoder = DocumentEncoder.from_file(bundle / manifest.tokenizer.file, manifest.special, manifest.geometry)
    return [document.token_count for document in encoder.encode_many(texts)]


def write_input(notes: list[dict[str, str]], repeat: int, path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ids = [f"{note['id']}-{copy}" for copy in range(repeat) for note in notes]
    texts = [note["text"] for _ in range(repeat) for note in notes]
    pq.write_table(pa.table({"id": ids, "text": texts}), path)
    return len(ids)


def ceiling(bundle: Path, variant: str, texts: list[str], threads: int, seconds: float, work: Path, tag: str
            ) -> dict[str, Any]:
    plan = {"bundle": str(bundle), "variant": variant, "texts": texts, "max_batch_tokens": 512, "threads": threads,
            "duration_s": seconds}
    result = child("ceiling.py", plan, work, tag)
    ratio = result["doc_tokens_per_note"] / result["model_tokens_per_note"]
    return {"threads": threads, "note_tokens_per_s": result["real_tokens_per_s"] * ratio,
            "model_tokens_per_s": result["real_tokens_per_s"], "cpu_cores": result["cpu_cores"],
            "model_tokens_per_note": result["model_tokens_per_note"],
            "doc_tokens_per_note": result["doc_tokens_per_note"], "loadavg": loadavg()}


def bulk_child(plan: dict[str, Any]) -> dict[str, Any]:
    """One Spark session: start-up (session, then a warm-up job that loads every worker's model), then the job."""
    from pyspark.sql import SparkSession

    from clinx_bulk.job import JobConfig, run

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    started = time.monotonic()
    spark = (SparkSession.builder.master(plan["master"]).appName("clinx bulk bench")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    session_s = time.monotonic() - started
    common = {"bundle": plan["bundle"], "variant": plan["variant"], "device": "cpu", "overwrite": True,
              "assertion": plan["assertion"]}
    warm = run(spark, JobConfig(input=plan["warm_input"], output=plan["warm_output"], notes_per_task=1,
                                progress_every_s=0, **common))
    warm_s = time.monotonic() - started - session_s
    timed = run(spark, JobConfig(input=plan["input"], output=plan["output"], progress_every_s=30,
                                 notes_per_task=plan["notes_per_task"], **common))
    spark.stop()
    return {"master": plan["master"], "startup": {"spark_session_s": session_s, "warm_up_job_s": warm_s,
                                                  "model_loads": warm.model_loads, "model_load_s": warm.model_load_s},
            "job": timed.__dict__}


def bulk(bundle: Path, variant: str, master: str, source: Path, warm: Path, work: Path, tag: str,
         notes_per_task: int, assertion: bool | str) -> dict[str, Any]:
    plan = {"master": master, "bundle": str(bundle), "variant": variant, "input": str(source),
            "output": str(work / f"{tag}-out"), "warm_input": str(warm), "warm_output": str(work / f"{tag}-warm"),
            "notes_per_task": notes_per_task, "assertion": assertion}
    result = child("bulk.py", plan, work, tag, timeout=7200)
    job = result["job"]
    seconds = job["seconds"]["total"]
    result.update({"note_tokens_per_s": job["tokens"] / seconds, "notes_per_s": job["processed"] / seconds,
                   "extract_note_tokens_per_s": job["tokens"] / job["seconds"]["extract"], "loadavg": loadavg()})
    return result


def server(bundle: Path, variant: str, notes: list[dict[str, str]], tokens: dict[str, int], seconds: float,
           work: Path, assertion: bool | str) -> dict[str, Any]:
    with bench_server(bundle, variant, 2, "cpu", work / "server.log") as running:
        url, pid = running.url, running.pid
        plan = {"url": url, "notes": notes, "mode": "closed", "concurrency": 32, "docs_per_request": 1,
                "warmup_s": 5, "duration_s": seconds, "drain_s": 10, "server_pid": pid, "clinx_metrics": True,
                "extra_body": {"assertion": assertion}}
        result = child("loadgen.py", plan, work, "server", env={"OMP_NUM_THREADS": "1"})
    t0, t1 = result["window"]
    done = [r for r in result["records"] if r["status"] == 200 and t0 <= r["end"] <= t1]
    ids = [notes[i]["id"] for r in done for i in r["notes"]]
    return {"concurrency": 32, "notes_per_s": len(ids) / (t1 - t0),
            "note_tokens_per_s": sum(tokens[i] for i in ids) / (t1 - t0), "loadavg": loadavg(),
            "settings": {k: v for k, v in BENCH_SETTINGS.items() if k != "log_level"}}


def on_paper(local2: dict[str, Any], ceiling2: float, tokens_per_note: float) -> dict[str, Any]:
    """Notes per hour per executor core, from this machine's figures, and the cores for the archive overnight."""
    stored = json.loads((RESULTS / "results.json").read_text(encoding="utf-8"))["models"]["clinx-large"]
    large = stored["ceiling"]["int8"]
    efficiency = local2["note_tokens_per_s"] / ceiling2
    large_note_tokens_per_core = large["real_tokens_per_s"] * large["doc_tokens_per_note"] / \
        large["model_tokens_per_note"] / 2
    per_core = {
        "demo": local2["notes_per_s"] / 2 * 3600,
        # the CLIN-X shape's per-note overhead is the demo's while its model costs ~15x more: the demo's
        # efficiency is a floor for it
        "clinx-large": large_note_tokens_per_core * efficiency / tokens_per_note * 3600,
    }
    cores = {name: math.ceil(ARCHIVE / (rate * OVERNIGHT_H)) for name, rate in per_core.items()}
    return {"notes_per_hour_per_core": per_core, "bulk_efficiency_vs_ceiling": efficiency,
            "clinx_large_ceiling_source": "benchmarks/results/results.json (clinx-large, int8, 2 threads)",
            "archive_notes": ARCHIVE, "overnight_hours": OVERNIGHT_H, "cores_needed": cores,
            "executors_of_16_cores": {name: math.ceil(n / 16) for name, n in cores.items()},
            "note_tokens_per_note": tokens_per_note}


def markdown(report: dict[str, Any]) -> str:
    c2, c1 = report["ceiling_2"], report["ceiling_1"]
    b2, b1, srv = report["bulk_local2"], report["bulk_local1"], report["server"]
    paper = report["on_paper"]
    rows = [("model-only ceiling, 2 threads (mean of before/after)", c2, None),
            ("clinx bulk local[2]", b2, c2), ("clinx serve, 2 threads, 32 clients", srv, c2),
            ("model-only ceiling, 1 thread", c1, None), ("clinx bulk local[1]", b1, c1)]
    lines = ["# clinx bulk on Spark: throughput", "",
             f"Bundle `{report['bundle']}` ({report['variant']}), {report['notes']} notes (the 317 MTSamples notes x "
             f"{report['repeat']}); machine: {report['machine'].get('cpu_model', '?')}, "
             f"{report['machine'].get('usable_cpus', '?')} usable CPUs, shared with other jobs (load average at each "
             "step below). "
             f"Run {report['started_at']} UTC, contenders alternated in one sitting. Assertion: "
             f"`{report['assertion']}` for bulk and server (the ceiling runs the tagger alone).", "",
             "| contender | note tokens/s | notes/s | vs its ceiling | load average (1 min) after |",
             "|---|---|---|---|---|"]
    for name, figures, base in rows:
        share = f"{100 * figures['note_tokens_per_s'] / base['note_tokens_per_s']:.0f}%" if base else ""
        notes_per_s = figures.get("notes_per_s")
        lines.append(f"| {name} | {figures['note_tokens_per_s']:,.0f} | "
                     f"{'' if notes_per_s is None else f'{notes_per_s:.2f}'} | {share} | {figures['loadavg'][0]:.1f} |")
    lines += ["", "Start-up, apart from the job (bulk):", "", "| master | Spark session (JVM) s | warm-up job s "
              "(Python workers + model load) | model loads | job s (count, extract, write, check) |",
              "|---|---|---|---|---|"]
    for figures in (b2, b1):
        start, job = figures["startup"], figures["job"]
        lines.append(f"| {figures['master']} | {start['spark_session_s']:.1f} | {start['warm_up_job_s']:.1f} | "
                     f"{start['model_loads']} | {job['seconds']['total']:.1f} |")
    per_core = paper["notes_per_hour_per_core"]
    lines += ["", "On paper, for a cluster (from these figures; notes of MTSamples length, "
              f"{paper['note_tokens_per_note']:.0f} subwords each):", "",
              "| model | notes/hour per executor core | cores for 10 million notes in 10 h | executors of 16 cores |",
              "|---|---|---|---|",
              f"| demo (MiniLM-L6, {report['variant']}) | {per_core['demo']:,.0f} | "
              f"{paper['cores_needed']['demo']:,} | {paper['executors_of_16_cores']['demo']:,} |",
              f"| CLIN-X shape (XLM-R-large, int8) | {per_core['clinx-large']:,.0f} | "
              f"{paper['cores_needed']['clinx-large']:,} | {paper['executors_of_16_cores']['clinx-large']:,} |", "",
              "The CLIN-X row is its model-only ceiling per core (benchmarks/results/results.json) times the "
              f"efficiency bulk local[2] reached here ({100 * paper['bulk_efficiency_vs_ceiling']:.0f}% of its "
              "ceiling); its per-note overhead is the demo's for a model ~15x costlier, so that is a floor.",
              "", "Reproduce: `.venv/bin/python benchmarks/bulk.py --bundle models/demo --variant "
              f"{report['variant']} --repeat {report['repeat']} --assertion {report['assertion']}`."]
    return "\n".join(lines) + "\n"


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1].endswith(".json"):  # child mode: plan.json result.json
        plan = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
        Path(sys.argv[2]).write_text(json.dumps(bulk_child(plan)), encoding="utf-8")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--variant", default="int8")
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--notes-per-task", type=int, default=1000)
    parser.add_argument("--ceiling-s", type=float, default=40)
    parser.add_argument("--server-s", type=float, default=60)
    parser.add_argument("--output", type=Path, default=RESULTS / "bulk")
    parser.add_argument("--assertion", default="bundle", choices=("bundle", "rules", "model", "off"),
                        help="assertion source for bulk and server alike (the ceiling runs the tagger alone)")
    args = parser.parse_args()
    if not NOTES.is_file():
        sys.exit(f"MTSamples notes not found at {NOTES}")
    notes = read_notes()
    texts = [note["text"] for note in notes]
    tokens = dict(zip((note["id"] for note in notes), note_tokens(args.bundle, texts), strict=True))
    assertion: bool | str = {"bundle": True, "off": False}.get(args.assertion, args.assertion)
    report: dict[str, Any] = {"bundle": args.bundle.name, "variant": args.variant, "repeat": args.repeat,
                              "assertion": args.assertion,
                              "started_at": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                              "machine": describe_machine()}
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        source = work / "notes.parquet"
        report["notes"] = write_input(notes, args.repeat, source)
        warm = work / "warm.parquet"
        write_input(notes[:8], 1, warm)
        steps = [("ceiling_2a", lambda: ceiling(args.bundle, args.variant, texts, 2, args.ceiling_s, work, "c2a")),
                 ("bulk_local2", lambda: bulk(args.bundle, args.variant, "local[2]", source, warm, work, "b2",
                                              args.notes_per_task, assertion)),
                 ("server", lambda: server(args.bundle, args.variant, notes, tokens, args.server_s, work, assertion)),
                 ("ceiling_1", lambda: ceiling(args.bundle, args.variant, texts, 1, args.ceiling_s, work, "c1")),
                 ("bulk_local1", lambda: bulk(args.bundle, args.variant, "local[1]", source, warm, work, "b1",
                                              args.notes_per_task, assertion)),
                 ("ceiling_2b", lambda: ceiling(args.bundle, args.variant, texts, 2, args.ceiling_s, work, "c2b"))]
        for name, step in steps:
            print(f"{time.strftime('%H:%M:%S')} {name} (load {loadavg()[0]:.1f})", file=sys.stderr, flush=True)
            report[name] = step()
    before, after = report.pop("ceiling_2a"), report.pop("ceiling_2b")
    mean = (before["note_tokens_per_s"] + after["note_tokens_per_s"]) / 2
    report["ceiling_2"] = {**before, "note_tokens_per_s": mean, "before": before, "after": after}
    report["on_paper"] = on_paper(report["bulk_local2"], report["ceiling_2"]["note_tokens_per_s"],
                                  sum(tokens.values()) / len(tokens))
    from benchmarks.results_io import save_results

    print(save_results(args.output, report, markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
