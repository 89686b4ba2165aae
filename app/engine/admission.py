"""Whether a request may join the queue: pure policy (no clock, no locks, no numpy); the batcher asks.

Two rules, checked in this order; a refused request is answered 429 at once, nothing of it queued:

1. **Client share.** Each client may hold its share of the queued-token bound: ``share x bound``
   when a share is configured, else the bound split evenly among the clients that have work queued
   (the asking one included). A client with nothing queued is always admitted by this rule, so one
   large request is never refused for ever, and a client that floods the queue fills its own share,
   not the others'.
2. **Deadline.** The request's estimated wait (the work the scheduler will run before its last
   window, plus its own, at the measured rate, plus what the model stages after this queue will take
   for it: ``after_s``, e.g. the assertion classifier's backlog and the request's expected rows) must
   fit before its deadline; otherwise it would only be queued to end in 504. Before any rate is
   measured, everything is admitted. A request that alone needs more than its deadline is admitted
   only when nothing is ahead of it.

The wait estimate follows the scheduler's round robin: to finish ``own`` tokens in ``rounds`` batches,
each other client's queued work runs for at most as many batches first. It errs on the long side
(a margin on the rate, a batch of slack): a request refused too early costs its client a retry, one
admitted too late costs the model the work it did for nothing.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# The estimate assumes the queue 30% slower than measured, so a request admitted close to its deadline
# still makes it when the machine slows down (other processes; this server's own HTTP work under a
# flood, which the rate measured before the flood does not show). Cheap: the queue still holds far
# more than a batch, so the model never waits for work; only the requests at the edge are refused.
RATE_MARGIN = 0.7
UNMEASURED_RATE = 2000.0  # tokens/s for a Retry-After before the first batch has run


@dataclass
class ServiceRate:
    """Real tokens per second through the queue, from the last batches' (tokens, seconds).

    The slower of the last ``recent`` batches' rate and the last ``window`` batches': a machine that
    slows down (other processes, this server's own HTTP work under a flood) is believed at once, one
    that speeds up only once it has stayed fast. Sums, not a mean of per-batch rates, so a batch of
    one short window does not count as much as a full one.
    """

    recent: int = 4
    window: int = 32
    samples: deque[tuple[int, float]] = field(default_factory=deque)

    def record(self, tokens: int, seconds: float) -> None:
        self.samples.append((tokens, max(seconds, 1e-6)))
        while len(self.samples) > self.window:
            self.samples.popleft()

    @property
    def tokens_per_second(self) -> float:
        """0 before the first batch."""
        if not self.samples:
            return 0.0
        recent = list(self.samples)[-self.recent:]
        return min(_rate(recent), _rate(self.samples))


def _rate(samples: Iterable[tuple[int, float]]) -> float:
    tokens = seconds = 0.0
    for batch_tokens, batch_seconds in samples:
        tokens += batch_tokens
        seconds += batch_seconds
    return tokens / seconds


@dataclass(frozen=True)
class QueueView:
    """What admission looks at: the queue's tokens per client, and the batches running now."""

    client_tokens: Mapping[str, int]  # clients with work queued only
    running_tokens: int
    tokens_per_second: float  # measured; 0: not yet
    batch_tokens: int  # the scheduler's budget per batch
    fixed_delay_s: float = 0.0  # a window may wait this long for its batch to fill


@dataclass(frozen=True)
class Refusal:
    reason: str  # "client_share" | "deadline"
    retry_after_s: int
    estimated_wait_s: float | None = None


def client_limit(client: str, bound: int, share: float, client_tokens: Mapping[str, int]) -> float:
    """Tokens ``client`` may have queued: ``share x bound``, or (share 0) the bound split evenly."""
    if share > 0:
        return share * bound
    active = len(set(client_tokens) | {client})
    return bound / active


def estimated_wait_s(client: str, tokens: int, view: QueueView) -> tuple[float, float] | None:
    """(seconds of work ahead of the request, seconds of its own) at the margin-reduced rate; None before
    any rate is measured. Ahead: the batches running, the client's own queued work, and each other
    client's queued work up to as many batches as the request needs. Its own: its tokens, plus one
    batch, since its last window may run in a batch filled with other windows of its length."""
    if view.tokens_per_second <= 0:
        return None
    rate = view.tokens_per_second * RATE_MARGIN
    own_queue = view.client_tokens.get(client, 0)
    rounds = math.ceil((own_queue + tokens) / max(1, view.batch_tokens))
    others = sum(min(queued, rounds * view.batch_tokens)
                 for other, queued in view.client_tokens.items() if other != client)
    ahead = view.running_tokens + own_queue + others
    return ahead / rate, (tokens + view.batch_tokens) / rate + view.fixed_delay_s


def admit(client: str, tokens: int, time_left_s: float, bound: int, share: float, view: QueueView,
          after_s: float = 0.0) -> Refusal | None:
    """None to admit ``tokens`` of ``client`` with ``time_left_s`` to its deadline; else why not, and
    when to retry. ``after_s``: the request's expected time in the model stages after this queue."""
    queued = view.client_tokens.get(client, 0)
    limit = client_limit(client, bound, share, view.client_tokens)
    if queued and queued + tokens > limit:
        active = len(set(view.client_tokens) | {client})
        rate = view.tokens_per_second or UNMEASURED_RATE
        # Round robin gives the client at least 1/active of the model while the others have work.
        return Refusal("client_share", max(1, math.ceil((queued + tokens - limit) * active / rate)))
    estimate = estimated_wait_s(client, tokens, view)
    if estimate is None:
        return None
    ahead_s, own_s = estimate
    own_s += after_s
    if ahead_s <= 0 or ahead_s + own_s <= time_left_s:
        return None
    # Retry when enough work ahead has run for this request to fit; a request that alone needs more
    # than its deadline is admitted into an empty queue: retry when the work ahead has run.
    retry = min(ahead_s, ahead_s + own_s - time_left_s)
    return Refusal("deadline", max(1, math.ceil(retry)), round(ahead_s + own_s, 3))
