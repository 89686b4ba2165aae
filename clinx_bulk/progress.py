"""Progress a person can follow beside Spark's UI: notes done of the total, notes/s, tokens/s, errors, ETA.

The driver polls the job's accumulators (Spark merges them as each task ends, so the figures move
task by task) and prints one line to stderr every few seconds. Counts only: never a note's text or id.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class Snapshot:
    done: int
    total: int
    tokens: int
    errors: int
    elapsed_s: float


def duration(seconds: float) -> str:
    """``1h02m``, ``4m05s``, ``12s``: short enough for a progress line."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def progress_line(snapshot: Snapshot) -> str:
    """One line: ``1,200/3,170 notes (37.9%) | 41.3 notes/s | 18,230 tokens/s | 0 errors | ETA 48s``."""
    done, total, elapsed = snapshot.done, snapshot.total, snapshot.elapsed_s
    share = 100.0 * done / total if total else 100.0
    rate = done / elapsed if elapsed > 0 else 0.0
    tokens = snapshot.tokens / elapsed if elapsed > 0 else 0.0
    if done >= total:
        eta = "done"
    elif rate > 0:
        eta = "ETA " + duration((total - done) / rate)
    else:
        eta = "ETA unknown (waiting for the first tasks)"
    return (f"clinx bulk: {done:,}/{total:,} notes ({share:.1f}%) | {rate:,.1f} notes/s | {tokens:,.0f} tokens/s | "
            f"{snapshot.errors:,} errors | {eta}")


class ProgressPrinter:
    """A daemon thread printing ``progress_line`` every ``interval_s`` until stopped, then once more."""

    def __init__(self, read: Callable[[], tuple[int, int, int]], total: int, interval_s: float,
                 stream: TextIO | None = None) -> None:
        self.read = read  # () -> (notes done, tokens done, errors)
        self.total = total
        self.interval_s = interval_s
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="clinx-bulk-progress", daemon=True)

    def snapshot(self) -> Snapshot:
        done, tokens, errors = self.read()
        return Snapshot(done, self.total, tokens, errors, time.monotonic() - self.started)

    def print(self) -> None:
        print(progress_line(self.snapshot()), file=self.stream, flush=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.print()

    def __enter__(self) -> ProgressPrinter:
        self.started = time.monotonic()
        if self.interval_s > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.print()
