"""De-identification, measured: PHI recall and precision per category, and /deidentify vs /extract speed.

1. Generates a held-out synthetic set (``generate_deid_corpus`` with a seed the demo never trained on).
2. Starts ``clinx serve`` on the de-identification bundle (``models/demo-deid``; ``make demo`` builds it)
   with a secret and the patterns on.
3. Quality, character level: for each PHI category, the share of its gold characters that were replaced
   (recall) and the share of characters replaced as that category that are PHI (precision), for the
   model alone (``/extract``'s spans) and for model + patterns (``/deidentify``'s items).
4. Throughput: closed-loop clients (``benchmarks/loadgen.py``) on the same notes against ``/extract``,
   ``/deidentify`` with ``tag`` and ``/deidentify`` with ``surrogate`` + ``date_shift``, in the order
   A B C C B A so the machine's drift averages out.
5. Writes ``benchmarks/results/deid.md`` and ``deid.json`` with the machine's description.

    .venv/bin/python benchmarks/deid.py                      # about 6 minutes on 2 cores
    .venv/bin/python benchmarks/deid.py --duration 10 --documents 50   # a quick look
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.deid.categories import CATEGORIES, PhiType  # noqa: E402
from app.text.types import Document  # noqa: E402
from benchmarks.environment import environment  # noqa: E402
from benchmarks.server_process import ServerProcess  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
HELD_OUT_SEED = 1017  # the demo trains on seed 17
SECRET = "benchmark-only-secret-0123456789abcdef"
KEYED = {"DEFAULT": "surrogate", "DATE": "date_shift", "AGE": "date_shift"}
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "extract": ("/extract", {}),
    "deidentify-tag": ("/deidentify", {}),
    "deidentify-surrogate": ("/deidentify", {"operators": KEYED}),
}


def held_out(documents: int) -> list[Document]:
    from model_export.demo_deid_corpus import generate_deid_corpus

    return generate_deid_corpus(documents, seed=HELD_OUT_SEED)


def characters(spans: list[tuple[int, int, str]]) -> dict[str, set[int]]:
    by_category: dict[str, set[int]] = defaultdict(set)
    for start, end, category in spans:
        by_category[category].update(range(start, end))
    return by_category


def scores(gold: list[dict[str, set[int]]], predicted: list[dict[str, set[int]]]) -> dict[str, dict[str, Any]]:
    """Per category and overall: recall of its gold characters, precision of what was predicted as it."""
    table: dict[str, dict[str, Any]] = {}
    for category in [*CATEGORIES, "ALL"]:
        gold_n = hit = predicted_n = correct = 0
        for gold_doc, predicted_doc in zip(gold, predicted, strict=True):
            gold_any = set().union(*gold_doc.values()) if gold_doc else set()
            predicted_any = set().union(*predicted_doc.values()) if predicted_doc else set()
            gold_c = gold_any if category == "ALL" else gold_doc.get(category, set())
            predicted_c = predicted_any if category == "ALL" else predicted_doc.get(category, set())
            gold_n += len(gold_c)
            hit += len(gold_c & predicted_any)
            predicted_n += len(predicted_c)
            correct += len(predicted_c & gold_any)
        table[category] = {"gold_chars": gold_n, "recall": hit / gold_n if gold_n else None,
                           "predicted_chars": predicted_n, "precision": correct / predicted_n if predicted_n else None}
    return table


def quality(url: str, documents: list[Document], model: str, phi_categories: dict[str, str]) -> dict[str, Any]:
    categories = {label: PhiType.parse(value).category for label, value in phi_categories.items()}
    gold, alone, joined, misses = [], [], [], defaultdict(list)
    for start in range(0, len(documents), 16):
        batch = documents[start : start + 16]
        body = {"documents": [{"id": d.id, "text": d.text} for d in batch], "model": model}
        extracted = httpx.post(url + "/extract", json=body, timeout=300).json()["documents"]
        replaced = httpx.post(url + "/deidentify", json=body, timeout=300).json()["documents"]
        for document, found, done in zip(batch, extracted, replaced, strict=True):
            gold_doc = characters([(s.start, s.end, PhiType.parse(s.label).category) for s in document.spans])
            model_doc = characters([(e["start"], e["end"], categories[e["label"]]) for e in found["entities"]])
            joined_doc = characters([(i["start"], i["end"], i["category"]) for i in done["items"]])
            gold.append(gold_doc)
            alone.append(model_doc)
            joined.append(joined_doc)
            covered = set().union(*joined_doc.values()) if joined_doc else set()
            for span in document.spans:
                if not set(range(span.start, span.end)) <= covered and len(misses[span.label]) < 3:
                    misses[span.label].append(document.text[span.start : span.end])  # synthetic values only
    return {"documents": len(documents), "gold_spans": sum(len(d.spans) for d in documents),
            "model_alone": scores(gold, alone), "model_and_patterns": scores(gold, joined),
            "missed_examples": dict(misses)}


def throughput(server: ServerProcess, documents: list[Document], model: str, concurrency: int, duration: float,
               scratch: Path) -> dict[str, Any]:
    notes = [{"id": d.id, "text": d.text} for d in documents]
    runs: dict[str, list[float]] = defaultdict(list)
    order = [*VARIANTS, *reversed(VARIANTS)]
    for round_index, name in enumerate(order):
        path, extra = VARIANTS[name]
        plan = {"url": server.url, "notes": notes, "mode": "closed", "concurrency": concurrency, "warmup_s": 3.0,
                "duration_s": duration, "drain_s": 30.0, "server_pid": server.pid, "seed": round_index,
                "path": path, "extra_body": {"model": model, **extra}}
        plan_path, result_path = scratch / f"plan-{round_index}.json", scratch / f"result-{round_index}.json"
        plan_path.write_text(json.dumps(plan), encoding="utf-8")
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "loadgen.py"), str(plan_path), str(result_path)],
                       check=True, cwd=ROOT)
        result = json.loads(result_path.read_text(encoding="utf-8"))
        begin, end = result["window"]
        done = [r for r in result["records"] if r.get("status") == 200 and begin <= r["end"] <= end]
        failed = [r for r in result["records"] if r.get("status") not in (200, -3)]
        if failed:
            raise SystemExit(f"{name}: {len(failed)} requests failed, e.g. {failed[0]}")
        runs[name].append(len(done) / (end - begin))
        print(f"{name}: {runs[name][-1]:.2f} notes/s", flush=True)
    summary = {name: {"runs_notes_per_s": values, "notes_per_s": sum(values) / len(values)}
               for name, values in runs.items()}
    base = summary["extract"]["notes_per_s"]
    for name in summary:
        summary[name]["vs_extract"] = summary[name]["notes_per_s"] / base
    return {"concurrency": concurrency, "duration_s": duration, "order": order, "variants": summary,
            "mean_characters": sum(len(d.text) for d in documents) / len(documents)}


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def report(record: dict[str, Any]) -> str:
    q, t, env = record["quality"], record["throughput"], record["environment"]
    lines = [
        "# De-identification: PHI recall and precision, /deidentify vs /extract", "",
        f"Command: `{record['command']}` ({env['date']}, commit {record['commit']}).", "",
        f"Machine: {env['cpu']}, {env['cores_available']} cores available, {env['memory']}, load average at the "
        f"start {env['loadavg']}; onnxruntime {env['versions'].get('onnxruntime')}. Bundle: `{record['bundle']}` "
        f"({record['variant']} variant).", "",
        f"## Character-level PHI recall and precision ({q['documents']} held-out synthetic notes, "
        f"{q['gold_spans']} PHI spans, seed {HELD_OUT_SEED})", "",
        "Recall: share of a category's gold PHI characters that were replaced (by any label). Precision: share of "
        "the characters replaced as that category that are PHI.", "",
        "| category | gold chars | recall, model | precision, model | recall, model + patterns | "
        "precision, model + patterns |",
        "|---|---|---|---|---|---|",
    ]
    for category in [*CATEGORIES, "ALL"]:
        a, b = q["model_alone"][category], q["model_and_patterns"][category]
        lines.append(f"| {category} | {a['gold_chars']} | {_pct(a['recall'])} | {_pct(a['precision'])} | "
                     f"{_pct(b['recall'])} | {_pct(b['precision'])} |")
    lines += ["", "Missed values (model + patterns; synthetic, at most 3 per type): "
              + (json.dumps(q["missed_examples"], ensure_ascii=False) if q["missed_examples"] else "none"), ""]
    lines += [f"## Throughput: {t['concurrency']} closed-loop clients, one note per request "
              f"(mean {t['mean_characters']:.0f} characters), {t['duration_s']:.0f} s per run, order "
              f"{' '.join(t['order'])}", "",
              "| endpoint | runs (notes/s) | mean notes/s | vs /extract |", "|---|---|---|---|"]
    for name, row in t["variants"].items():
        runs = ", ".join(f"{value:.2f}" for value in row["runs_notes_per_s"])
        lines.append(f"| {name} | {runs} | {row['notes_per_s']:.2f} | {100 * row['vs_extract']:.1f}% |")
    lines += ["", "`deidentify-surrogate`: `surrogate` for every category, `date_shift` for dates and ages.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo-deid")
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    manifest = json.loads((args.bundle / "manifest.json").read_text(encoding="utf-8"))
    documents = held_out(args.documents)
    with tempfile.TemporaryDirectory(prefix="clinx-deid-bench-") as work:
        scratch = Path(work)
        server = ServerProcess.launch(args.bundle, scratch, log_name="server.log", deid_secret=SECRET,
                                      log_level="warning", max_queue_tokens=16_000_000)
        try:
            server.wait_ready(600)
            variant = httpx.get(server.url + "/info", timeout=30).json()["models"][0]["variant"]
            measured = quality(server.url, documents, manifest["name"], manifest["phi_categories"])
            speed = throughput(server, documents, manifest["name"], args.concurrency, args.duration, scratch)
        finally:
            server.stop()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                            check=False).stdout.strip()
    record = {"command": "python benchmarks/deid.py " + " ".join(sys.argv[1:]), "commit": commit,
              "bundle": str(args.bundle.relative_to(ROOT) if args.bundle.is_relative_to(ROOT) else args.bundle),
              "variant": variant, "environment": environment({}), "quality": measured, "throughput": speed}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "deid.json").write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    (RESULTS / "deid.md").write_text(report(record), encoding="utf-8")
    print(report(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
