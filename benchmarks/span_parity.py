"""Same spans on every path: the HTTP server, the in-process API and ``clinx evaluate --errors``.

One bundle, one precision (fp32 by default), the same notes through the three ways a user can run a
model; the spans (document, start, end, label) must be identical. ``clinx evaluate`` on a corpus
without annotations reports every predicted span as a false positive, which is what is compared.

    .venv/bin/python benchmarks/span_parity.py --bundle models/demo            # all 317 MTSamples notes
    .venv/bin/python benchmarks/span_parity.py --bundle models/demo --limit 20

Writes benchmarks/results/span-parity.{json,md} (only with the full set, unless --output is given).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.server_process import ServerProcess  # noqa: E402
from benchmarks.soak import machine as describe_machine  # noqa: E402

NOTES = ROOT.parent / "shared" / "data" / "mtsamples" / "notes.jsonl"
Spans = set[tuple[str, int, int, str]]


def read_notes(path: Path = NOTES, limit: int | None = None) -> list[dict[str, str]]:
    notes = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = notes if limit is None else notes[:: max(1, len(notes) // limit)][:limit]
    return [{"id": str(note["id"]), "text": note["text"]} for note in chosen]


def through_http(bundle: Path, notes: list[dict[str, str]], work: Path, variant: str) -> Spans:
    spans: Spans = set()
    with ServerProcess.start(bundle, work, variant=variant, device="cpu", max_documents=8) as server, \
            httpx.Client(base_url=server.url, timeout=600) as client:
        for start in range(0, len(notes), 8):
            response = client.post("/extract", json={"documents": notes[start : start + 8]})
            response.raise_for_status()
            for document in response.json()["documents"]:
                spans |= {(document["id"], e["start"], e["end"], e["label"]) for e in document["entities"]}
    return spans


def in_process(bundle: Path, notes: list[dict[str, str]], variant: str) -> Spans:
    from app.engine.extractor import EngineOptions, Extractor

    with Extractor.load(bundle, options=EngineOptions(device="cpu", variant=variant)) as extractor:
        results = extractor.extract([note["text"] for note in notes])
    return {(note["id"], e.start, e.end, e.label) for note, result in zip(notes, results, strict=True)
            for e in result.entities}


def through_evaluate(bundle: Path, notes: list[dict[str, str]], work: Path, variant: str) -> Spans:
    corpus, errors = work / "notes.jsonl", work / "errors.json"
    corpus.write_text("".join(json.dumps(note) + "\n" for note in notes), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "clinx_cli", "evaluate", str(bundle), "--corpus", str(corpus),
                    "--format", "jsonl", "--variant", variant, "--errors", str(errors)],
                   check=True, cwd=ROOT, capture_output=True)
    report: dict[str, Any] = json.loads(errors.read_text(encoding="utf-8"))
    return {(doc, s["start"], s["end"], s["label"]) for doc, found in report.items() for s in found["false_positives"]}


def compare(bundle: Path, notes: list[dict[str, str]], work: Path, variant: str = "fp32") -> dict[str, Any]:
    timings: dict[str, float] = {}
    paths: dict[str, Spans] = {}
    for name, run in (("http", lambda: through_http(bundle, notes, work, variant)),
                      ("in_process", lambda: in_process(bundle, notes, variant)),
                      ("evaluate", lambda: through_evaluate(bundle, notes, work, variant))):
        started = time.monotonic()
        paths[name] = run()
        timings[name] = round(time.monotonic() - started, 1)
    reference = paths["http"]
    return {
        "notes": len(notes), "variant": variant, "spans": {name: len(spans) for name, spans in paths.items()},
        "identical": all(spans == reference for spans in paths.values()),
        "differences": {name: len(spans ^ reference) for name, spans in paths.items()},
        "seconds": timings, "_paths": paths,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "models" / "demo")
    parser.add_argument("--variant", default="fp32")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if not NOTES.is_file():
        sys.exit(f"MTSamples notes not found at {NOTES}")
    notes = read_notes(limit=args.limit)
    with tempfile.TemporaryDirectory() as scratch:
        result = compare(args.bundle, notes, Path(scratch), args.variant)
    result.pop("_paths")
    result["bundle"] = args.bundle.name
    result["machine"] = describe_machine()
    print(json.dumps({key: value for key, value in result.items() if key != "machine"}, indent=2))
    output = args.output or (ROOT / "benchmarks" / "results" / "span-parity" if args.limit is None else None)
    if output is not None:
        output.with_suffix(".json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        lines = ["# Same spans on every path", "", f"Bundle `{result['bundle']}`, variant {result['variant']}, "
                 f"{result['notes']} MTSamples notes; machine: {result['machine'].get('cpu_model', '?')}.", "",
                 "| path | spans | differing from HTTP | seconds |", "|---|---|---|---|"]
        lines += [f"| {name} | {result['spans'][name]} | {result['differences'][name]} | {result['seconds'][name]} |"
                  for name in result["spans"]]
        lines += ["", f"Identical: **{result['identical']}**. Reproduce: "
                  "`.venv/bin/python benchmarks/span_parity.py --bundle models/demo`."]
        output.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
