"""The scheduler: which windows go next. Pure functions, property-tested."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.scheduler import choose_anchor, length_sorted_batches, plan_batch


@given(st.lists(st.integers(1, 64), min_size=1, max_size=60), st.integers(64, 1024))
@settings(max_examples=300, deadline=None)
def test_plan_respects_budget_and_takes_the_oldest(lengths: list[int], budget: int) -> None:
    chosen = plan_batch(lengths, budget)
    assert 0 in chosen
    assert len(set(chosen)) == len(chosen)
    assert max(lengths[i] for i in chosen) * len(chosen) <= budget


def test_plan_groups_similar_lengths() -> None:
    lengths = [40, 10, 41, 11, 39, 12, 42]  # the oldest is 40 tokens long
    chosen = plan_batch(lengths, budget=4 * 42)
    assert sorted(lengths[i] for i in chosen) == [39, 40, 41, 42]


def test_plan_takes_an_oversized_oldest_alone() -> None:
    assert plan_batch([500, 5, 5], budget=100) == [0]


def test_plan_fills_the_budget() -> None:
    assert len(plan_batch([10] * 50, budget=100)) == 10


def test_anchor_is_the_request_with_least_work_left_and_waiting_halves_the_work() -> None:
    remaining = [900, 900, 40, 40, 900, 10]
    assert choose_anchor([0.2] * 6, remaining, half_life_s=1.0) == 5
    # 900 tokens waiting 7 s count 7 tokens: it goes before a 10-token note that just arrived
    assert choose_anchor([7.0, 7.0, 0.5, 0.5, 0.1, 0.0], remaining, half_life_s=1.0) == 0
    assert choose_anchor([5.0, 5.0, 0.5, 0.5, 0.1, 0.0], remaining, half_life_s=1.0) == 5  # 28 > 10: not yet
    assert choose_anchor([0.0, 0.0, 0.0], [50, 10, 10], half_life_s=0.0) == 0  # 0: first come, first served
    assert choose_anchor([], [], half_life_s=1.0) == 0


@given(st.integers(1, 100_000), st.lists(st.integers(1, 100_000), min_size=1, max_size=30), st.floats(0.05, 5))
@settings(max_examples=300, deadline=None)
def test_nobody_waits_for_a_k_times_smaller_note_longer_than_log2_k_half_lives(
        waiting_work: int, fresh_work: list[int], half_life_s: float) -> None:
    """The starvation bound: a request that has waited log2(its work / the smallest newcomer's) half-lives
    (and a little more) goes before any number of newly arrived requests."""
    waited = half_life_s * (max(0.0, math.log2(waiting_work / min(fresh_work))) + 0.01)
    ages = [waited] + [0.0] * len(fresh_work)
    assert choose_anchor(ages, [waiting_work, *fresh_work], half_life_s) == 0


@given(st.lists(st.integers(1, 64), min_size=1, max_size=60), st.integers(64, 1024), st.data())
@settings(max_examples=300, deadline=None)
def test_plan_around_any_anchor_respects_the_budget(lengths: list[int], budget: int, data: st.DataObject) -> None:
    anchor = data.draw(st.integers(0, len(lengths) - 1))
    chosen = plan_batch(lengths, budget, anchor=anchor)
    assert chosen[0] == anchor and len(set(chosen)) == len(chosen)
    assert max(lengths[i] for i in chosen) * len(chosen) <= budget or chosen == [anchor]


@given(st.lists(st.integers(1, 600), max_size=80), st.integers(1, 4096))
@settings(max_examples=300, deadline=None)
def test_offline_batches_cover_every_window_once_within_the_budget(lengths: list[int], budget: int) -> None:
    batches = length_sorted_batches(lengths, budget)
    assert sorted(index for batch in batches for index in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or max(lengths[i] for i in batch) * len(batch) <= budget
