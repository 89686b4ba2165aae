"""Admission: each client's share of the queue, and the estimated wait against the deadline. Pure policy."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.admission import (
    RATE_MARGIN,
    QueueView,
    ServiceRate,
    admit,
    client_limit,
    estimated_wait_s,
)

BOUND = 10_000
QUEUES = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.integers(1, 30_000), max_size=4)


def view(client_tokens: dict[str, int], rate: float = 0.0, running: int = 0, batch: int = 512) -> QueueView:
    return QueueView(client_tokens, running, rate, batch)


@given(QUEUES, st.integers(1, 50_000), st.floats(0, 1), st.floats(0.1, 300))
@settings(max_examples=300, deadline=None)
def test_a_client_with_nothing_queued_passes_the_share_rule(queues: dict[str, int], tokens: int, share: float,
                                                            time_left: float) -> None:
    """Whatever the others hold (a flood filling the whole bound included), before any rate is measured."""
    queues.pop("b", None)
    assert admit("b", tokens, time_left, BOUND, share, view(queues)) is None


def test_the_bound_is_split_evenly_among_clients_with_work_queued() -> None:
    assert client_limit("a", BOUND, 0.0, {}) == BOUND
    assert client_limit("a", BOUND, 0.0, {"a": 5}) == BOUND
    assert client_limit("a", BOUND, 0.0, {"b": 5}) == BOUND / 2
    assert client_limit("a", BOUND, 0.0, {"a": 1, "b": 5, "c": 9}) == BOUND / 3
    assert client_limit("a", BOUND, 0.25, {"a": 1, "b": 5, "c": 9}) == BOUND / 4


def test_a_flooding_client_is_refused_its_excess_and_told_when_to_retry() -> None:
    alone = admit("a", 2000, 60, BOUND, 0.0, view({"a": 9000}))
    assert alone is not None and alone.reason == "client_share" and alone.retry_after_s >= 1
    assert admit("a", 1000, 60, BOUND, 0.0, view({"a": 9000})) is None  # within the whole bound while alone
    shared = admit("a", 1000, 60, BOUND, 0.0, view({"a": 9000, "b": 10}, rate=1000.0))
    assert shared is not None and shared.reason == "client_share"
    # 5,000 tokens over the half share, the model shared by two: about 10 s at 1,000 tokens/s
    assert shared.retry_after_s == 10
    assert admit("b", 1000, 60, BOUND, 0.0, view({"a": 9000, "b": 10}, rate=1000.0)) is None


def test_before_any_rate_is_measured_the_deadline_rule_admits() -> None:
    assert estimated_wait_s("a", 100, view({"a": 9000})) is None
    assert admit("a", 100, 0.01, 1_000_000, 0.0, view({"a": 900_000})) is None


def test_a_request_that_would_miss_its_deadline_is_refused_with_the_estimate() -> None:
    # 1,000 tokens/s after the margin; batches of 500 tokens
    queue = view({"a": 4000}, rate=1000 / RATE_MARGIN, running=500, batch=500)
    refusal = admit("a", 500, 3.0, 1_000_000, 0.0, queue)
    assert refusal is not None and refusal.reason == "deadline"
    # 500 running + 4,000 queued + its own 500 + a batch its last window may share with others
    assert refusal.estimated_wait_s == pytest.approx(5.5)
    assert refusal.retry_after_s == 3  # once 2.5 s of the work ahead has run, it fits its 3 s
    assert admit("a", 500, 5.6, 1_000_000, 0.0, queue) is None


def test_the_time_in_the_stages_after_the_queue_counts_against_the_deadline() -> None:
    """A request the tagger would finish in time, but whose assertion rows would then wait too long."""
    queue = view({"a": 4000}, rate=1000 / RATE_MARGIN, running=500, batch=500)
    assert admit("a", 500, 5.6, 1_000_000, 0.0, queue) is None
    refusal = admit("a", 500, 5.6, 1_000_000, 0.0, queue, after_s=2.0)
    assert refusal is not None and refusal.reason == "deadline"
    assert refusal.estimated_wait_s == pytest.approx(7.5)


def test_another_clients_flood_counts_only_as_many_batches_as_the_request_needs() -> None:
    queue = view({"a": 100_000}, rate=1000 / RATE_MARGIN, batch=512)
    ahead, own = estimated_wait_s("b", 100, queue) or (0.0, 0.0)
    assert ahead == pytest.approx(0.512) and own == pytest.approx(0.612)  # one batch of A's flood, then B's note
    assert admit("b", 100, 2.0, 1_000_000, 0.0, queue) is None
    refusal = admit("a", 100, 2.0, 1_000_000, 0.0, queue)
    assert refusal is not None and refusal.reason == "deadline"


def test_a_request_longer_than_its_deadline_waits_for_an_empty_queue() -> None:
    rate = 1000 / RATE_MARGIN
    assert admit("a", 10_000, 2.0, 1_000_000, 0.0, view({}, rate=rate)) is None  # nothing ahead: admitted
    refusal = admit("a", 10_000, 2.0, 1_000_000, 0.0, view({"b": 3000}, rate=rate))
    assert refusal is not None and refusal.retry_after_s == 3  # when B's 3,000 tokens have run


@given(QUEUES, st.sampled_from(["a", "b", "e"]), st.integers(1, 20_000), st.floats(0.1, 120),
       st.floats(100, 50_000), st.integers(0, 4096), st.integers(64, 8192))
@settings(max_examples=500, deadline=None)
def test_admitted_means_the_estimate_fits_and_refused_means_retry_later(
        queues: dict[str, int], client: str, tokens: int, time_left: float, rate: float, running: int,
        batch: int) -> None:
    state = view(queues, rate=rate, running=running, batch=batch)
    refusal = admit(client, tokens, time_left, 1 << 40, 0.0, state)  # a bound nobody reaches: deadline rule only
    ahead, own = estimated_wait_s(client, tokens, state) or (0.0, 0.0)
    if refusal is None:
        assert ahead + own <= time_left or ahead == 0
    else:
        assert refusal.reason == "deadline" and ahead + own > time_left and ahead > 0
        assert 1 <= refusal.retry_after_s <= max(1, math.ceil(ahead))
        assert refusal.estimated_wait_s is not None


def test_the_rate_believes_a_slowdown_at_once_and_a_speedup_only_when_it_lasts() -> None:
    rate = ServiceRate(recent=4, window=32)
    assert rate.tokens_per_second == 0
    for _ in range(20):
        rate.record(1000, 1.0)
    assert rate.tokens_per_second == pytest.approx(1000)
    for _ in range(2):
        rate.record(500, 1.0)  # the machine got busy: the last 4 batches say 750 tokens/s
    assert rate.tokens_per_second == pytest.approx(750)
    for _ in range(32):
        rate.record(2000, 1.0)
    assert rate.tokens_per_second == pytest.approx(2000)  # fast for a whole window: believed
    rate.record(10, 0.01)  # a batch of one short window weighs by its tokens, not as a whole batch
    assert rate.tokens_per_second == pytest.approx((2000 * 3 + 10) / 3.01)
