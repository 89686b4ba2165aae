"""The scheduler: which windows go next. Pure functions, property-tested."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.scheduler import choose_anchor, length_sorted_batches, next_client, plan_batch


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


# --- clients: round robin between clients, the old rule within one ----------------------------------------

NAMES = ["ehr", "research", "deid", "qa"]
CLIENTS = st.sampled_from(NAMES)


@st.composite
def client_queues(draw: st.DrawFn) -> tuple[list[float], list[int], list[str], dict[str, int]]:
    """A queue of windows: age, remaining work of its request, client; and when each client was last served."""
    size = draw(st.integers(1, 40))
    clients = draw(st.lists(CLIENTS, min_size=size, max_size=size))
    ages = draw(st.lists(st.floats(0, 30), min_size=size, max_size=size))
    remaining = draw(st.lists(st.integers(1, 10_000), min_size=size, max_size=size))
    last_served = draw(st.dictionaries(CLIENTS, st.integers(0, 100)))
    return ages, remaining, clients, last_served


@given(client_queues(), st.floats(0, 5))
@settings(max_examples=300, deadline=None)
def test_within_the_chosen_client_the_order_is_the_single_queue_rule(
        queue: tuple[list[float], list[int], list[str], dict[str, int]], half_life_s: float) -> None:
    """The anchor is the least recently served client's, and among that client's windows it is exactly the
    window the client-less rule picks when only that client's windows are queued."""
    ages, remaining, clients, last_served = queue
    anchor = choose_anchor(ages, remaining, half_life_s, clients, last_served)
    chosen = clients[anchor]
    assert chosen == next_client(clients, last_served)
    assert all(last_served.get(chosen, -1) <= last_served.get(other, -1) for other in clients)
    own = [index for index, client in enumerate(clients) if client == chosen]
    alone = choose_anchor([ages[i] for i in own], [remaining[i] for i in own], half_life_s)
    assert anchor == own[alone]


@given(st.lists(st.floats(0, 30), min_size=1, max_size=40), st.data(), st.floats(0, 5))
@settings(max_examples=200, deadline=None)
def test_one_client_is_scheduled_as_before(ages: list[float], data: st.DataObject, half_life_s: float) -> None:
    remaining = data.draw(st.lists(st.integers(1, 10_000), min_size=len(ages), max_size=len(ages)))
    served = data.draw(st.dictionaries(CLIENTS, st.integers(0, 100)))
    assert choose_anchor(ages, remaining, half_life_s, ["ehr"] * len(ages), served) == choose_anchor(
        ages, remaining, half_life_s)


@given(st.lists(st.tuples(CLIENTS, st.integers(1, 5)), min_size=1, max_size=60),
       st.lists(st.tuples(st.integers(0, 60), CLIENTS, st.integers(1, 8)), max_size=40), st.floats(0, 3))
@settings(max_examples=200, deadline=None)
def test_no_client_waits_more_batches_than_there_are_clients(
        initial: list[tuple[str, int]], arrivals: list[tuple[int, str, int]], half_life_s: float) -> None:
    """Simulated queue: each batch runs its anchor's request's first window; requests keep arriving from
    any client (a flood included). A client with windows queued anchors a batch within as many batches
    as there are clients."""
    queue: list[tuple[str, int, float]] = []  # (client, request id, arrival time) per window
    remaining: dict[int, int] = {}
    request_ids = iter(range(10_000))

    def arrive(client: str, windows: int, now: float) -> None:
        request = next(request_ids)
        remaining[request] = windows
        queue.extend((client, request, now) for _ in range(windows))

    for client, windows in initial:
        arrive(client, windows, 0.0)
    last_served: dict[str, int] = {}
    waiting_since: dict[str, int] = {}
    for batch in range(200):
        for at, client, windows in arrivals:
            if at == batch:
                arrive(client, windows, float(batch))
        if not queue:
            break
        for client, _, _ in queue:
            waiting_since.setdefault(client, batch)
        anchor = choose_anchor([batch - arrived for _, _, arrived in queue],
                               [remaining[request] for _, request, _ in queue], half_life_s,
                               [client for client, _, _ in queue], last_served)
        client, request, _ = queue.pop(anchor)
        remaining[request] -= 1
        last_served[client] = batch
        # Served within as many batches as there are clients: each other client goes first at most once.
        assert batch - waiting_since.pop(client) < len(NAMES)
        still = {c for c, _, _ in queue}
        waiting_since = {c: since for c, since in waiting_since.items() if c in still}
        assert all(batch - since < len(NAMES) for since in waiting_since.values())
