"""The style rules in DEVELOPERS.md hold on every commit: ruff-clean and mypy-strict."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.support import require_tool

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing() -> None:
    command = [require_tool("ruff", "ruff"), "check", "app", "model_export", "clinx_cli", "clinx_bulk", "tests",
               "benchmarks"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes() -> None:
    result = subprocess.run([require_tool("mypy", "mypy")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
