"""Who may start a batch on a CPU now: one batch per client at a time, two at once on the device.

A batch cannot be interrupted, and on a CPU one long window keeps the model busy for tens of
milliseconds. Measured on 2 cores (``benchmarks/short_behind_long.py``): a short window that waits
for a running long one takes 49 ms (p50; 9 ms alone), one that runs beside it on a second thread of
the same session 22 ms, and the long window loses 5% of its speed. So the batchers of one model
(the tagger's and the assertion classifier's) share two lanes: a client may have one batch running,
and a client with nothing running gets the second lane at once. A flood holds one lane; a short note
from anyone else runs beside it instead of behind it; one client alone runs one batch at a time (the
model already uses every core: a second batch of the same client would only share them, and would
make the next client's note wait for one of two).

Between the batchers of one client, the later stage goes first: a batcher declares the clients it
has work queued for, and a lane for a client is refused to an earlier stage while a later one waits
for it. Requests already tagged finish (their assertion rows) before new ones start, so the tagger
cannot keep the lane to itself while rows wait in the classifier's queue until their deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

CPU_LANES = 2


class Lanes:
    """Batches running on one device, by client; thread-safe (the batchers' worker threads share it)."""

    def __init__(self, capacity: int = CPU_LANES) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}  # client -> batches it has running
        self._waiting: dict[int, frozenset[str]] = {}  # stage rank -> clients it has work queued for
        self._listeners: list[Callable[[], None]] = []

    def listen(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` whenever a lane is freed (a batcher's worker may then start a batch)."""
        with self._lock:
            self._listeners.append(wake)

    def busy_clients(self) -> frozenset[str] | None:
        """Clients that have a batch running; None when every lane is taken (nobody may start one)."""
        with self._lock:
            if sum(self._running.values()) >= self.capacity:
                return None
            return frozenset(self._running)

    def declare(self, rank: int, clients: frozenset[str]) -> None:
        """The clients the batcher of stage ``rank`` (0: the tagger; later stages higher) has work queued for."""
        with self._lock:
            self._waiting[rank] = clients

    def try_acquire(self, client: str, rank: int = 0) -> bool:
        """Take a lane for ``client`` if one is free, the client has none, and no later stage waits for it."""
        with self._lock:
            if client in self._running or sum(self._running.values()) >= self.capacity:
                return False
            if any(client in clients for later, clients in self._waiting.items() if later > rank):
                return False
            self._running[client] = 1
            return True

    def release(self, client: str) -> None:
        with self._lock:
            self._running.pop(client, None)
            listeners = list(self._listeners)
        for wake in listeners:  # outside the lock: a listener takes its own batcher's lock
            wake()
