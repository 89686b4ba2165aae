"""The batching plan and padding: pure functions, and the Batcher with a real model function."""

from __future__ import annotations

import asyncio
import math
import time

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.batcher import (
    Batcher,
    DeadlineExceeded,
    QueueFull,
    WindowJob,
    choose_anchor,
    pad_batch,
    plan_batch,
)


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


def test_pad_batch() -> None:
    loop = asyncio.new_event_loop()
    try:
        jobs = [WindowJob([0, 5, 2], (1, 2), 1e18, loop.create_future()), WindowJob([0, 2], (1, 1), 1e18,
                                                                                   loop.create_future())]
        ids, mask = pad_batch(jobs, pad_id=1)
    finally:
        loop.close()
    assert ids.tolist() == [[0, 5, 2], [0, 2, 1]]
    assert mask.tolist() == [[1, 1, 1], [1, 1, 0]]


def echo_model(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
    """Logits that encode each input id, so results can be traced back to their window."""
    logits = np.zeros((*ids.shape, 3), dtype=np.float32)
    logits[..., 0] = ids
    return [logits]


def make_job(loop: asyncio.AbstractEventLoop, length: int, deadline: float = 1e18) -> WindowJob:
    return WindowJob([0, *range(10, 10 + length - 2), 2], (1, length - 1), deadline, loop.create_future())


def test_batcher_returns_each_window_its_own_result() -> None:
    async def scenario() -> None:
        batcher = Batcher(echo_model, pad_id=1, max_batch_tokens=64, max_delay_s=0.01, max_queue_tokens=10_000)
        batcher.start()
        loop = asyncio.get_running_loop()
        jobs = [make_job(loop, length) for length in (5, 9, 3, 7, 12, 4)]
        batcher.submit(jobs)
        results = await asyncio.gather(*(job.future for job in jobs))
        await batcher.stop()
        for job, result in zip(jobs, results, strict=True):
            assert result.shape == (1, job.centre[1] - job.centre[0], 3)

    asyncio.run(scenario())


def test_batcher_admission_and_deadline() -> None:
    async def scenario() -> None:
        batcher = Batcher(echo_model, pad_id=1, max_batch_tokens=10_000, max_delay_s=5.0, max_queue_tokens=20)
        batcher.start()
        loop = asyncio.get_running_loop()
        waiting = make_job(loop, 10, deadline=time.monotonic() + 0.1)
        batcher.submit([waiting])
        try:
            batcher.submit([make_job(loop, 15)])
            raise AssertionError("admission should refuse work beyond the bound")
        except QueueFull as error:
            assert error.retry_after_s >= 1
        try:
            await asyncio.wait_for(waiting.future, 2.0)
            raise AssertionError("the deadline should have expired the window")
        except DeadlineExceeded:
            pass
        assert batcher.queued_tokens == 0
        await batcher.stop()

    asyncio.run(scenario())


def test_cancelled_windows_are_dropped_unrun() -> None:
    calls: list[int] = []

    def counting_model(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        calls.append(ids.shape[0])
        return echo_model(ids, mask)

    async def scenario() -> None:
        batcher = Batcher(counting_model, pad_id=1, max_batch_tokens=10_000, max_delay_s=0.3, max_queue_tokens=1000)
        batcher.start()
        loop = asyncio.get_running_loop()
        jobs = [make_job(loop, 6) for _ in range(3)]
        batcher.submit(jobs)
        for job in jobs:
            job.future.cancel()
        batcher.wake()
        await asyncio.sleep(0.05)
        assert batcher.queued_tokens == 0
        await asyncio.sleep(0.4)
        await batcher.stop()

    asyncio.run(scenario())
    assert calls == []


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


def test_a_short_request_overtakes_a_long_one_queued_before_it() -> None:
    """One worker, budget of one window: a 1-window request submitted after a 6-window one is not
    served last (shortest remaining work first); the long one still finishes (no starvation)."""
    order: list[int] = []

    def tracing_model(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        order.extend(int(row[1]) for row in ids)
        time.sleep(0.02)
        return echo_model(ids, mask)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        batcher = Batcher(tracing_model, pad_id=1, max_batch_tokens=8, max_delay_s=0.0, max_queue_tokens=10_000,
                          workers=1)
        batcher.start()
        long_jobs = [WindowJob([0, 100 + i, 7, 2], (1, 3), 1e18, loop.create_future()) for i in range(6)]
        short = WindowJob([0, 999, 7, 2], (1, 3), 1e18, loop.create_future())
        batcher.submit(long_jobs)
        await asyncio.sleep(0.005)  # the first long window is running
        batcher.submit([short])
        await asyncio.gather(short.future, *(job.future for job in long_jobs))
        await batcher.stop()

    asyncio.run(scenario())
    assert sorted(order) == [*range(100, 106), 999]
    assert order.index(999) < 4  # in the batch right after the one running when it arrived (2 windows each)
