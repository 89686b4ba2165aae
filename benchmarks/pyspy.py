"""py-spy on the server while a load level runs: raw stacks, and a summary of where the event loop spends time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

# The event loop thread's leaf frame while it waits: in selectors (asyncio) or inside uvloop's native loop.
EVENT_LOOP_IDLE = ("select (selectors.py", "Runner.run (asyncio/runners.py", "run_until_complete (asyncio/")


def start_py_spy(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Sample the server's Python stacks (all threads, idle ones too) while a level runs."""
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--duration",
               str(int(seconds)), "--rate", "50", "--format", "raw", "--threads", "--idle", "--nonblocking",
               "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise_py_spy(path: Path, top: int = 12) -> dict[str, Any]:
    """Share of samples per thread and, for the event loop thread, its busiest leaf frames."""
    if not path.is_file():
        return {}
    threads: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[1] if len(frames) > 1 and frames[1].startswith("thread") else frames[0]
        threads[thread] = threads.get(thread, 0) + count
        total += count
        if "MainThread" in thread and not any(idle in frames[-1] for idle in EVENT_LOOP_IDLE):
            leaf = frames[-1]
            leaves[leaf] = leaves.get(leaf, 0) + count
    main_total = sum(c for t, c in threads.items() if "MainThread" in t)
    return {
        "samples": total,
        "threads": dict(sorted(threads.items(), key=lambda item: -item[1])),
        "main_thread_busy_share": sum(leaves.values()) / main_total if main_total else None,
        "main_thread_top_leaves": sorted(leaves.items(), key=lambda item: -item[1])[:top],
    }
