"""Every path a user can run a bundle through gives the same spans: HTTP, in-process, ``clinx evaluate``,
``clinx bulk`` on Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.span_parity import NOTES, compare, read_notes
from tests.support import java_available


@pytest.mark.slow
def test_http_in_process_evaluate_and_spark_give_identical_spans(tiny_bundle: Path, tmp_path: Path,
                                                                request: pytest.FixtureRequest) -> None:
    if not NOTES.is_file():
        pytest.skip(f"MTSamples notes not found at {NOTES} (../shared/data is not beside this checkout)")
    spark: Any = None
    if java_available():
        spark = request.getfixturevalue("spark")
    notes = read_notes(limit=12)
    result = compare(tiny_bundle, notes, tmp_path, variant="fp32", spark=spark, with_spark=spark is not None)
    assert result["spans"]["http"] > 0, "the tagger found nothing in 12 real notes"
    expected = {"http": 0, "in_process": 0, "evaluate": 0, **({"spark": 0} if spark is not None else {})}
    assert result["differences"] == expected
    assert result["identical"]
