"""Every path a user can run a bundle through gives the same spans: HTTP, in-process, ``clinx evaluate``."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.span_parity import NOTES, compare, read_notes


@pytest.mark.slow
def test_http_in_process_and_evaluate_give_identical_spans(tiny_bundle: Path, tmp_path: Path) -> None:
    if not NOTES.is_file():
        pytest.skip(f"MTSamples notes not found at {NOTES} (../shared/data is not beside this checkout)")
    notes = read_notes(limit=12)
    result = compare(tiny_bundle, notes, tmp_path, variant="fp32")
    assert result["spans"]["http"] > 0, "the tagger found nothing in 12 real notes"
    assert result["differences"] == {"http": 0, "in_process": 0, "evaluate": 0}
    assert result["identical"]
