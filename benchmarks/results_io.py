"""How every benchmark leaves its result: the record as JSON and its report as Markdown, side by side."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def save_results(output: Path, record: Any, render: Callable[[Any], str]) -> str:
    """Write OUTPUT.json (the record, machine description included by the caller) and OUTPUT.md (its
    report); return the report, for the terminal."""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    report = render(record)
    output.with_suffix(".md").write_text(report, encoding="utf-8")
    return report
