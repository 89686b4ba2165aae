"""README's in-process API example runs as written (on the tiny bundle instead of the demo)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_in_process_example_runs(tiny_bundle: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## In-process API (Python)"):]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None, "README's in-process API section has no python example"
    script = code.group(1).replace('"models/demo"', repr(str(tiny_bundle)))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines()]
    assert lines, "the example printed no entity"
    for start, end, label, score in lines:
        assert 0 <= int(start) < int(end) and label and 0 < float(score) <= 1
