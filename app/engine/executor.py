"""Running windows through a model: pad rows into a batch, run it, hand back the centres' raw logits.

The one place where rows become a padded batch (the server's batcher, warm-up, offline prediction,
export verification and the benchmarks all pad here), so every path feeds the model the same arrays.
No softmax, no decoding: those belong to the decode stage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

RunModel = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], list[npt.NDArray[Any]]]
CentreLogits = npt.NDArray[np.float32]  # [members, centre tokens, tags] (a sequence classifier: [members, classes])


@dataclass(frozen=True)
class WindowRow:
    """One window's subword ids and where its centre (the labelled tokens) lies in them."""

    input_ids: Sequence[int]
    centre: tuple[int, int]


def pad_rows(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``input_ids`` and ``attention_mask`` ``[len(rows), longest]``: rows left-aligned, the rest padding."""
    longest = max((len(row) for row in rows), default=0)
    input_ids = np.full((len(rows), longest), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(rows), longest), dtype=np.int64)
    for index, row in enumerate(rows):
        input_ids[index, : len(row)] = row
        attention_mask[index, : len(row)] = 1
    return input_ids, attention_mask


OutputSelector = Callable[[npt.NDArray[Any], int, WindowRow], npt.NDArray[Any]]
"""Which part of one member's batch output belongs to a row: ``(output, row index, row) -> array``."""


def centre_of(output: npt.NDArray[Any], row: int, window: WindowRow) -> npt.NDArray[Any]:
    """A tagger's row: the logits of its centre tokens (``output`` is ``[batch, sequence, tags]``)."""
    begin, end = window.centre
    centre: npt.NDArray[Any] = output[row, begin:end]
    return centre


def whole_row(output: npt.NDArray[Any], row: int, window: WindowRow) -> npt.NDArray[Any]:
    """A sequence classifier's row: its one vector of logits (``output`` is ``[batch, classes]``)."""
    vector: npt.NDArray[Any] = output[row]
    return vector


@dataclass(frozen=True)
class BatchOutcome:
    """Per window, its centre's logits of every member; and the batch's shape, for metrics."""

    logits: list[CentreLogits]
    padded_tokens: int
    real_tokens: int


class Executor:
    """A model function (ONNX Runtime sessions, or PyTorch offline) applied to batches of windows."""

    def __init__(self, run_model: RunModel, pad_id: int, select: OutputSelector = centre_of) -> None:
        self._run_model = run_model
        self.pad_id = pad_id
        self._select = select

    def run(self, windows: Sequence[WindowRow]) -> BatchOutcome:
        input_ids, mask = pad_rows([window.input_ids for window in windows], self.pad_id)
        member_logits = self._run_model(input_ids, mask)
        centres = [
            np.stack([self._select(logits, row, window) for logits in member_logits]).astype(np.float32, copy=False)
            for row, window in enumerate(windows)
        ]
        return BatchOutcome(centres, int(mask.size), int(mask.sum()))
