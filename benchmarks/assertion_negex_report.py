"""Report of ``benchmarks/assertion_negex.sh``: the rules and the trained classifier on NegEx's held-out rows.

Reads the figures the export wrote into the bundle's manifest (``assertion.evaluation``: each source
served by the server's engine over the held-out split's gold spans) and the classifier's training
record, and writes ``OUTPUT.json`` and ``OUTPUT.md`` with the machine's description.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.environment import environment  # noqa: E402

SOURCES = {"rules": "rules (negspacy NegEx + ConText triggers)", "model_fp32": "trained MiniLM, fp32",
           "model_int8": "trained MiniLM, int8 (served on CPUs)"}


def row(name: str, scores: dict[str, Any]) -> str:
    negation, historical = scores["negation"], scores["historical"]
    told = "–" if historical["accuracy"] is None else f"{historical['accuracy']:.3f} ({historical['told']})"
    return (f"| {name} | {scores['spans']} | {negation['precision']:.3f} | {negation['recall']:.3f} | "
            f"**{negation['f1']:.3f}** | {negation['accuracy']:.3f} | {scores['accuracy']:.3f} | {told} |")


def markdown(record: dict[str, Any]) -> str:
    env = record["environment"]
    rows = "\n".join(row(SOURCES[key], record["figures"][key]) for key in SOURCES if key in record["figures"])
    return f"""# Assertion on the NegEx/ConText set: rules and a trained MiniLM classifier

Held-out split of `../shared/data/negex` (rows whose number ends in 0; never used to train or select).
The classifier (all-MiniLM-L6-v2, the sentence with the condition between marker tokens) trained on
the rows ending in 1-4 and 6-9 and chose its epoch on those ending in 5. Every figure is the
server's engine over the gold spans (assertion alone). Reproduce: `benchmarks/assertion_negex.sh`.

| source | spans | negation P | R | F1 | negation accuracy | 3-class accuracy | historical accuracy (spans told) |
|---|---|---|---|---|---|---|---|
{rows}

3-class accuracy: present / absent / someone else's, as the set annotates them. Historical: the
rules say it where a trigger tells ("history of"); the classifier has a historical head only when its
training spans carry it. Training: {record['training']['epochs']} epochs, best epoch
{record['training']['best_epoch']}, dev accuracy {record['training']['dev_accuracy']:.3f},
{record['training']['seconds']} s of wall time.

Machine: {env['cpu']}, {env['cores_available']} cores available, {env['memory']}, load average
{env['loadavg']}; torch {env['versions'].get('torch')}, onnxruntime {env['versions'].get('onnxruntime')}; {env['date']}.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, required=True)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--train-seconds", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True, help="path without suffix")
    args = parser.parse_args(argv)
    manifest = json.loads((args.bundle / "manifest.json").read_text(encoding="utf-8"))
    evaluation = manifest["assertion"]["evaluation"]
    trained = json.loads((args.checkpoint / "clinx_assertion.json").read_text(encoding="utf-8"))
    record = {
        "command": "benchmarks/assertion_negex.sh",
        "corpus": evaluation["corpus"],
        "figures": {key: evaluation[key] for key in SOURCES if key in evaluation},
        "training": {"epochs": trained.get("config", {}).get("epochs"), "best_epoch": trained.get("best_epoch"),
                     "dev_accuracy": trained.get("dev", {}).get("accuracy"), "seconds": args.train_seconds,
                     "classes": trained.get("classes"), "historical": trained.get("historical")},
        "environment": environment({}),
    }
    from benchmarks.results_io import save_results

    print(save_results(args.output, record, markdown))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
