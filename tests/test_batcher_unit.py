"""The batcher: admission, deadlines, cancellation and scheduling order, with a real model function."""

from __future__ import annotations

import asyncio
import itertools
import time

import numpy as np

from app.engine.batcher import Batcher, DeadlineExceeded, QueueFull, WindowJob
from app.engine.executor import Executor, WindowRow
from app.engine.lanes import Lanes


def echo_model(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
    """Logits that encode each input id, so results can be traced back to their window."""
    logits = np.zeros((*ids.shape, 3), dtype=np.float32)
    logits[..., 0] = ids
    return [logits]


def make_job(loop: asyncio.AbstractEventLoop, length: int, deadline: float = 1e18) -> WindowJob:
    return WindowJob(WindowRow([0, *range(10, 10 + length - 2), 2], (1, length - 1)), deadline, loop.create_future())


def test_batcher_returns_each_window_its_own_result() -> None:
    async def scenario() -> None:
        batcher = Batcher(Executor(echo_model, pad_id=1),
                          max_batch_tokens=64, max_delay_s=0.01, max_queue_tokens=10_000)
        batcher.start()
        loop = asyncio.get_running_loop()
        jobs = [make_job(loop, length) for length in (5, 9, 3, 7, 12, 4)]
        batcher.submit(jobs)
        results = await asyncio.gather(*(job.future for job in jobs))
        await batcher.stop()
        for job, result in zip(jobs, results, strict=True):
            begin, end = job.window.centre
            assert result.shape == (1, end - begin, 3)
            # raw logits (no softmax): the echo model's first logit is the window's own input id
            assert result[0, :, 0].tolist() == list(job.window.input_ids[begin:end])

    asyncio.run(scenario())


def test_batcher_admission_and_deadline() -> None:
    async def scenario() -> None:
        batcher = Batcher(Executor(echo_model, pad_id=1),
                          max_batch_tokens=10_000, max_delay_s=5.0, max_queue_tokens=20)
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
        batcher = Batcher(Executor(counting_model, pad_id=1),
                          max_batch_tokens=10_000, max_delay_s=0.3, max_queue_tokens=1000)
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
        batcher = Batcher(Executor(tracing_model, pad_id=1),
                          max_batch_tokens=8, max_delay_s=0.0, max_queue_tokens=10_000,
                          workers=1)
        batcher.start()
        long_jobs = [WindowJob(WindowRow([0, 100 + i, 7, 2], (1, 3)), 1e18, loop.create_future()) for i in range(6)]
        short = WindowJob(WindowRow([0, 999, 7, 2], (1, 3)), 1e18, loop.create_future())
        batcher.submit(long_jobs)
        await asyncio.sleep(0.005)  # the first long window is running
        batcher.submit([short])
        await asyncio.gather(short.future, *(job.future for job in long_jobs))
        await batcher.stop()

    asyncio.run(scenario())
    assert sorted(order) == [*range(100, 106), 999]
    assert order.index(999) < 4  # in the batch right after the one running when it arrived (2 windows each)


def test_clients_take_turns_and_a_flood_fills_only_its_own_share() -> None:
    """One worker, one window per batch: client B's notes, sent after A's flood, are run in turns with A's
    (not after all of them); A's share of the bound is full, B's is not."""
    order: list[int] = []

    def tracing_model(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        order.extend(int(row[1]) for row in ids)
        time.sleep(0.01)
        return echo_model(ids, mask)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        batcher = Batcher(Executor(tracing_model, pad_id=1), max_batch_tokens=4, max_delay_s=0.0,
                          max_queue_tokens=40, workers=1)
        batcher.start()

        def request(first_id: int, windows: int) -> list[WindowJob]:
            return [WindowJob(WindowRow([0, first_id + i, 7, 2], (1, 3)), 1e18, loop.create_future())
                    for i in range(windows)]

        flood = [request(100 + 10 * i, 4) for i in range(2)]  # 2 x 4 windows x 4 tokens = 32 tokens
        for jobs in flood:
            batcher.submit(jobs, client="a")
        try:
            batcher.submit(request(300, 4), client="a")
            raise AssertionError("A's flood should be over its share")
        except QueueFull as error:
            assert error.reason == "client_share"
        notes = [request(900 + i, 1) for i in range(3)]
        for jobs in notes:
            batcher.submit(jobs, client="b")  # A holds more than the half share now; B is still admitted
        await asyncio.gather(*(job.future for jobs in flood + notes for job in jobs))
        await batcher.stop()

    asyncio.run(scenario())
    b_positions = [order.index(900 + i) for i in range(3)]
    assert sorted(order) == sorted([*range(100, 104), *range(110, 114), 900, 901, 902])
    # B's first note right after the batch running when it arrived; then every other batch.
    assert b_positions[0] <= 2 and all(later - earlier == 2 for earlier, later in itertools.pairwise(b_positions))


def test_a_request_that_would_miss_its_deadline_is_refused_once_the_rate_is_known() -> None:
    def slow_model(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        time.sleep(0.02 * ids.shape[0])  # 50 windows/s: 200 tokens/s for 4-token windows
        return echo_model(ids, mask)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        batcher = Batcher(Executor(slow_model, pad_id=1), max_batch_tokens=4, max_delay_s=0.0,
                          max_queue_tokens=1_000_000, workers=1)
        batcher.start()
        first = make_job(loop, 4)
        batcher.submit([first], client="a")
        await first.future
        assert batcher.tokens_per_second > 0
        backlog = [make_job(loop, 4) for _ in range(100)]  # 2 s of work
        batcher.submit(backlog, client="a")
        try:
            batcher.submit([make_job(loop, 4, deadline=time.monotonic() + 0.5)], client="a")
            raise AssertionError("2 s of queued work cannot finish within 0.5 s")
        except QueueFull as error:
            assert error.reason == "deadline" and error.retry_after_s >= 1
            assert error.estimated_wait_s is not None and error.estimated_wait_s > 0.5
        # a deadline no plausible estimate exceeds, even with the rate measured on a heavily loaded machine
        patient = make_job(loop, 4, deadline=time.monotonic() + 3600)
        batcher.submit([patient], client="a")
        for job in backlog:
            job.future.cancel()
        batcher.wake()
        await patient.future
        await batcher.stop()

    asyncio.run(scenario())


def test_with_lanes_another_clients_window_runs_beside_a_running_batch_not_behind_it() -> None:
    """Client A's batch holds one lane; B's note starts in the other at once; A's next waits for A's first."""
    started: dict[int, float] = {}
    finished: dict[int, float] = {}

    def marked_model(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
        mark = int(ids[0, 1])
        started[mark] = time.monotonic()
        time.sleep(0.3 if mark < 500 else 0.01)  # A's windows are slow, B's quick
        finished[mark] = time.monotonic()
        return echo_model(ids, mask)

    def marked_job(loop: asyncio.AbstractEventLoop, mark: int) -> WindowJob:
        return WindowJob(WindowRow([0, mark, 2], (1, 2)), 1e18, loop.create_future())

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        lanes = Lanes()
        batcher = Batcher(Executor(marked_model, pad_id=1), max_batch_tokens=3, max_delay_s=0.0,
                          max_queue_tokens=1_000_000, lanes=lanes)
        assert batcher.workers == 2
        batcher.start()
        first_a, second_a = marked_job(loop, 100), marked_job(loop, 101)
        batcher.submit([first_a], client="a")
        batcher.submit([second_a], client="a")
        await asyncio.sleep(0.05)  # A's first batch is running
        b = marked_job(loop, 900)
        batcher.submit([b], client="b")
        await b.future
        assert started[100] < started[900]
        assert finished.get(100, float("inf")) > finished[900]  # B did not wait for A's running batch
        await asyncio.gather(first_a.future, second_a.future)
        assert started[101] >= finished[100]  # one batch per client: A's second after its first
        assert lanes.busy_clients() == frozenset()
        await batcher.stop()

    asyncio.run(scenario())


def test_lanes_are_shared_by_the_batchers_of_a_model() -> None:
    """A's rows in a second batcher (the assertion classifier's) wait while A's window runs in the first,
    then go before A's next window (a later stage first)."""
    log: list[tuple[str, float, float]] = []

    def timed(name: str, seconds: float):  # type: ignore[no-untyped-def]
        def model(ids: np.ndarray, mask: np.ndarray) -> list[np.ndarray]:
            begin = time.monotonic()
            time.sleep(seconds)
            log.append((name, begin, time.monotonic()))
            return echo_model(ids, mask)
        return model

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        lanes = Lanes()
        tagger = Batcher(Executor(timed("tagger", 0.3), pad_id=1), max_batch_tokens=4, max_delay_s=0.0,
                         max_queue_tokens=1_000_000, lanes=lanes)
        classifier = Batcher(Executor(timed("classifier", 0.05), pad_id=1), max_batch_tokens=4, max_delay_s=0.0,
                             max_queue_tokens=1_000_000, lanes=lanes, stage_rank=1)
        tagger.start()
        classifier.start()
        window = make_job(loop, 4)
        tagger.submit([window], client="a")
        await asyncio.sleep(0.05)
        rows = make_job(loop, 4)
        classifier.submit([rows], client="a")
        next_window = make_job(loop, 4)
        tagger.submit([next_window], client="a")
        await asyncio.gather(window.future, rows.future, next_window.future)
        assert [name for name, _, _ in log] == ["tagger", "classifier", "tagger"]  # rows first, then A's next
        (_, _, tagger_end), (_, classifier_begin, classifier_end), (_, next_begin, _) = log
        assert classifier_begin >= tagger_end and next_begin >= classifier_end
        await tagger.stop()
        await classifier.stop()

    asyncio.run(scenario())
