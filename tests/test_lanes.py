"""CPU lanes: one batch per client, two at once, and a later stage first for the same client."""

from __future__ import annotations

from app.engine.lanes import Lanes


def test_one_lane_per_client_and_no_more_lanes_than_capacity() -> None:
    lanes = Lanes(capacity=2)
    assert lanes.busy_clients() == frozenset()
    assert lanes.try_acquire("a")
    assert not lanes.try_acquire("a")  # a client runs one batch at a time, whichever stage asks
    assert not lanes.try_acquire("a", rank=1)
    assert lanes.busy_clients() == frozenset({"a"})
    assert lanes.try_acquire("b")
    assert lanes.busy_clients() is None  # every lane taken
    assert not lanes.try_acquire("c")
    lanes.release("a")
    assert lanes.try_acquire("c")


def test_a_later_stage_waiting_for_a_client_goes_before_an_earlier_one() -> None:
    lanes = Lanes()
    lanes.declare(1, frozenset({"a"}))  # the classifier has rows of A queued
    assert not lanes.try_acquire("a", rank=0)  # the tagger may not start A's next window first
    assert lanes.try_acquire("b", rank=0)  # other clients are not held back
    assert lanes.try_acquire("a", rank=1)
    lanes.release("a")
    lanes.declare(1, frozenset())  # the classifier's rows of A are through
    assert lanes.try_acquire("a", rank=0)


def test_a_freed_lane_wakes_every_listener() -> None:
    lanes = Lanes()
    woken: list[str] = []
    lanes.listen(lambda: woken.append("tagger"))
    lanes.listen(lambda: woken.append("classifier"))
    assert lanes.try_acquire("a")
    lanes.release("a")
    assert woken == ["tagger", "classifier"]
