#!/usr/bin/env bash
# Build the offline kit for an air-gapped GPU node (issue 21) on a machine with PyPI access:
# wheels for the node's Python, bundles with fp16, a sample of notes and check.sh, cut into parts.
#
#   benchmarks/gpu/prepare.sh [--output runs/offline-kit/kit] [--python-version 3.12] [--max-part-mb 55]
#                             [--models demo,xlmr-base-4k] [--variants fp32,fp16] [--skip NAME]...
#
# --help lists every option (benchmarks/gpu/offline_kit.py). Then follow OUTPUT/plan.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
exec "$PY" benchmarks/gpu/offline_kit.py "$@"
