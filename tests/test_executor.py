"""The executor: the one padding helper, and raw centre logits per window (no softmax)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.executor import Executor, WindowRow, pad_rows


def test_pad_rows() -> None:
    ids, mask = pad_rows([[0, 5, 2], [0, 2]], pad_id=1)
    assert ids.tolist() == [[0, 5, 2], [0, 2, 1]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert ids.dtype == mask.dtype == np.int64


@given(st.lists(st.lists(st.integers(0, 50_000), min_size=1, max_size=40), min_size=1, max_size=12))
@settings(max_examples=200, deadline=None)
def test_padding_keeps_every_row_and_masks_only_real_tokens(rows: list[list[int]]) -> None:
    ids, mask = pad_rows(rows, pad_id=1)
    assert ids.shape == (len(rows), max(len(row) for row in rows))
    for index, row in enumerate(rows):
        assert ids[index, : len(row)].tolist() == row
        assert int(mask[index].sum()) == len(row) and mask[index, : len(row)].all()


def test_executor_returns_each_windows_centre_logits_of_every_member() -> None:
    def two_members(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        first = np.stack([ids, mask, ids * 0], axis=-1).astype(np.float32)
        return [first, -first]

    windows = [WindowRow([0, 7, 8, 9, 2], (1, 4)), WindowRow([0, 5, 2], (1, 2))]
    outcome = Executor(two_members, pad_id=1).run(windows)
    assert outcome.padded_tokens == 10 and outcome.real_tokens == 8
    assert [logits.shape for logits in outcome.logits] == [(2, 3, 3), (2, 1, 3)]
    assert outcome.logits[0][0, :, 0].tolist() == [7, 8, 9]
    assert outcome.logits[1][1, :, 0].tolist() == [-5]
