"""Assertion training's pure parts: the majority class cut down without touching the others."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model_export.assertion_train import Row, capped_majority


def rows_of(labels: list[int]) -> list[Row]:
    return [Row([index], label, 0) for index, label in enumerate(labels)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=60), st.floats(0.05, 0.95), st.integers(0, 10))
def test_the_majority_is_cut_to_its_share_and_nothing_else_changes(labels: list[int], share: float,
                                                                  seed: int) -> None:
    rows = rows_of(labels)
    kept = capped_majority(rows, share, random.Random(seed))
    counts = {label: labels.count(label) for label in set(labels)}
    majority = max(counts, key=lambda label: (counts[label], -label))
    others = len(labels) - counts[majority]
    # order kept, nothing doubled, every row of the other classes kept
    positions = [row.ids[0] for row in kept]
    assert positions == sorted(set(positions))
    assert [row for row in kept if row.label != majority] == [row for row in rows if row.label != majority]
    kept_majority = sum(row.label == majority for row in kept)
    assert kept_majority == min(counts[majority], max(1, int(others * share / (1 - share))))
    assert kept == capped_majority(rows, share, random.Random(seed))  # the seed decides which


def test_no_share_keeps_every_row_and_a_share_outside_0_1_is_refused() -> None:
    rows = rows_of([0, 0, 0, 1])
    assert capped_majority(rows, None, random.Random(0)) == rows
    with pytest.raises(ValueError, match="between 0 and 1"):
        capped_majority(rows, 1.0, random.Random(0))


def test_half_leaves_as_many_majority_rows_as_all_others() -> None:
    kept = capped_majority(rows_of([0] * 16 + [1] * 3 + [2] * 2), 0.5, random.Random(3))
    assert sum(row.label == 0 for row in kept) == 5 and len(kept) == 10
