"""Bulk progress lines: counts, rates and ETA a person can read, computed from the job's counters only."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from clinx_bulk.progress import ProgressPrinter, Snapshot, duration, progress_line


def test_a_line_gives_done_of_total_rates_errors_and_eta() -> None:
    line = progress_line(Snapshot(done=1200, total=3000, tokens=60_000, errors=3, elapsed_s=30.0))
    assert line == ("clinx bulk: 1,200/3,000 notes (40.0%) | 40.0 notes/s | 2,000 tokens/s | 3 errors | ETA 45s")


def test_before_the_first_task_ends_the_eta_is_unknown_and_at_the_end_it_says_done() -> None:
    assert "ETA unknown" in progress_line(Snapshot(0, 10, 0, 0, 5.0))
    assert progress_line(Snapshot(10, 10, 500, 0, 5.0)).endswith("| done")
    assert "(100.0%)" in progress_line(Snapshot(0, 0, 0, 0, 0.0))


def test_durations_are_short() -> None:
    assert [duration(s) for s in (0, 12.4, 245, 3725)] == ["0s", "12s", "4m05s", "1h02m"]


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.floats(0.001, 10**6))
def test_the_line_never_fails_and_never_claims_more_than_done(done: int, extra: int, elapsed: float) -> None:
    line = progress_line(Snapshot(done, done + extra, done * 10, 0, elapsed))
    assert line.startswith(f"clinx bulk: {done:,}/{done + extra:,} notes")


def test_the_printer_prints_a_last_line_when_it_stops() -> None:
    stream = io.StringIO()
    counts = [(0, 0, 0)]
    with ProgressPrinter(lambda: counts[-1], total=4, interval_s=0, stream=stream):
        counts.append((4, 40, 1))
    assert stream.getvalue().splitlines()[-1].startswith("clinx bulk: 4/4 notes (100.0%)")
