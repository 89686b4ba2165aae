#!/usr/bin/env bash
# clinx-serve's GPU self-check, run on the air-gapped node in the folder that holds the kit's parts.
#
#   bash check.sh [--out DIR] [--work DIR] [--python PY] [--install-to target|env|none] [node_check options]
#
# 1. checks every part against SHA256SUMS, joins the files (NAME.001 NAME.002 ...), checks them against
#    FILES.sha256 and unpacks them into WORK/kit;
# 2. installs the kit's wheels offline (pip --no-index --no-deps): by default into WORK/site, put first
#    on PYTHONPATH so that onnxruntime-gpu shadows a CPU-only onnxruntime and nothing of the node's
#    Python changes; --install-to env installs into PY's own environment (a virtual environment of
#    yours), removing a CPU-only onnxruntime first; none: use what PY has (the CPU dry run);
# 3. runs benchmarks/gpu/node_check.py: CUDA provider, model-only ceiling, clinx serve at 1 and 32
#    clients, matrix rates, naive transformers pipeline, each step time-boxed (--time-box-s, default
#    360 for all of them; --device cpu for a dry run on a CPU machine; --help lists the rest).
#
# Results, failures included: OUT/results.json, OUT/report.md and OUT/logs/ (OUT: WORK/results).
set -uo pipefail
KIT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=/tmp/clinx-gpu-check
OUT=""
PY=python3
INSTALL=target
PASS=()
while [ $# -gt 0 ]; do
  case $1 in
    --work) WORK=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --python) PY=$2; shift 2 ;;
    --install-to) INSTALL=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) PASS+=("$1"); shift ;;
  esac
done
case $INSTALL in target | env | none) ;; *) echo "check.sh: --install-to target|env|none" >&2; exit 2 ;; esac
OUT=${OUT:-$WORK/results}
mkdir -p "$OUT/logs" "$WORK"
WORK=$(cd "$WORK" && pwd)
OUT=$(cd "$OUT" && pwd)
STEPS=$OUT/logs/shell-steps.tsv
: >"$STEPS"

step() { # name status seconds detail: one line for results.json
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(printf '%s' "$4" | tr '\t\n' '  ' | cut -c1-400)" >>"$STEPS"
  echo "check.sh: $1: $2 ($3 s) $4"
}

fail() { # the check cannot go on: results.json and report.md say why
  step "$1" failed "$2" "$3"
  "$PY" - "$STEPS" "$OUT" <<'PY' || true
import json, sys
from pathlib import Path
keys = ("name", "status", "seconds", "detail")
steps = [dict(zip(keys, line.split("\t"))) for line in Path(sys.argv[1]).read_text().splitlines() if line]
out = Path(sys.argv[2])
(out / "results.json").write_text(json.dumps({"shell_steps": steps, "steps": [], "stopped": steps[-1]}, indent=2))
rows = "\n".join(f"| {s['name']} | {s['status']} | {s['seconds']} | {s.get('detail', '')} |" for s in steps)
(out / "report.md").write_text(f"## GPU self-check: stopped at {steps[-1]['name']}\n\n"
                               f"| step | status | seconds | note |\n|---|---|---|---|\n{rows}\n")
PY
  exit 1
}

# 1. parts -> files -> kit
started=$SECONDS
if ! (cd "$KIT" && sha256sum --check --quiet SHA256SUMS) >"$OUT/logs/verify-parts.log" 2>&1; then
  fail verify-parts $((SECONDS - started)) "$(grep -v ': OK$' "$OUT/logs/verify-parts.log" | head -3)"
fi
step verify-parts ok $((SECONDS - started)) "$(grep -c . "$KIT/SHA256SUMS") parts"
started=$SECONDS
rm -rf "$WORK/files" "$WORK/kit"
mkdir -p "$WORK/files" "$WORK/kit"
while read -r _ name; do
  cat "$KIT/$name".[0-9][0-9][0-9] >"$WORK/files/$name" || fail join $((SECONDS - started)) "$name: parts missing"
done <"$KIT/FILES.sha256"
if ! (cd "$WORK/files" && sha256sum --check --quiet "$KIT/FILES.sha256") >"$OUT/logs/join.log" 2>&1; then
  fail join $((SECONDS - started)) "$(grep -v ': OK$' "$OUT/logs/join.log" | head -3)"
fi
while read -r _ name; do
  tar -xf "$WORK/files/$name" -C "$WORK/kit" || fail unpack $((SECONDS - started)) "$name"
  rm -f "$WORK/files/$name"
done <"$KIT/FILES.sha256"
step join ok $((SECONDS - started)) "$(grep -c . "$KIT/FILES.sha256") files joined, checked and unpacked"

# 2. wheels, offline
started=$SECONDS
shopt -s nullglob
WHEELS=("$WORK/kit/wheels/"*.whl)
PIP=("$PY" -m pip install --no-index --no-deps --no-compile --no-cache-dir --disable-pip-version-check --upgrade)
if [ "$INSTALL" = none ] || [ ${#WHEELS[@]} -eq 0 ]; then
  step install skipped 0 "install-to $INSTALL, ${#WHEELS[@]} wheels in the kit"
elif [ "$INSTALL" = target ]; then
  "${PIP[@]}" --target "$WORK/site" "${WHEELS[@]}" >"$OUT/logs/install.log" 2>&1 ||
    fail install $((SECONDS - started)) "$(tail -3 "$OUT/logs/install.log")"
  export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
  step install ok $((SECONDS - started)) "${#WHEELS[@]} wheels into $WORK/site (first on PYTHONPATH)"
  # onnxruntime.preload_dlls() looks for CUDA and cuDNN (the nvidia-* pip packages) next to onnxruntime:
  # link the node's own nvidia/ folder there, unless the kit brought its own.
  FIND_NVIDIA='import os, site; print(*[d for d in (os.path.join(p, "nvidia") for p in site.getsitepackages()) if os.path.isdir(d)][:1])'
  NVIDIA=$("$PY" -c "$FIND_NVIDIA" 2>/dev/null)
  if [ -n "$NVIDIA" ] && [ ! -e "$WORK/site/nvidia" ]; then
    ln -s "$NVIDIA" "$WORK/site/nvidia" && step cuda-libraries ok 0 "linked $NVIDIA into $WORK/site"
  else
    step cuda-libraries skipped 0 "${NVIDIA:-no nvidia-* packages in the site-packages of the node}"
  fi
else
  if ls "$WORK/kit/wheels/" | grep -q '^onnxruntime_gpu-' && "$PY" -m pip show onnxruntime >/dev/null 2>&1; then
    "$PY" -m pip uninstall -y onnxruntime >"$OUT/logs/install.log" 2>&1
  fi
  "${PIP[@]}" "${WHEELS[@]}" >>"$OUT/logs/install.log" 2>&1 || fail install $((SECONDS - started)) \
    "$(tail -3 "$OUT/logs/install.log")"
  step install ok $((SECONDS - started)) "${#WHEELS[@]} wheels into $("$PY" -c 'import sys; print(sys.prefix)')"
fi
started=$SECONDS
if "$PY" -m pip check >"$OUT/logs/pip-check.log" 2>&1; then
  step pip-check ok $((SECONDS - started)) "every installed package's requirements are met"
else
  step pip-check problems $((SECONDS - started)) "$(head -3 "$OUT/logs/pip-check.log")"
fi

# 3. the measurements (node_check.py writes results.json and report.md after every step)
cd "$WORK/kit/source" || fail start 0 "no source/ in the kit"
"$PY" -m benchmarks.gpu.node_check --kit "$WORK/kit" --out "$OUT" --work "$WORK" --shell-steps "$STEPS" "${PASS[@]}"
