"""Which queued windows the model runs next: pure policy, no numpy, no model, no decoding.

A batch is built around an *anchor* window. First the client: among the clients with windows queued,
the one whose request anchored a batch least recently (round robin, so one client's flood cannot
delay another's notes by more than a batch per waiting client). Then, within that client, the first
queued window of the request with the least work left (a short note is not stuck behind a long one),
that work halved for every half-life the request has waited, so nothing starves. Around the anchor,
windows of similar length (of any client) join while the padded batch fits the token budget and
stays lean. The batcher asks; this module only answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(eq=False)
class RequestWork:
    """One request's tokens still waiting in the queue, and whose they are.

    The scheduler serves the client served least recently first, then that client's smallest request.
    """

    queued_tokens: int = 0
    client: str = ""


def next_client(clients: Sequence[str], last_served: Mapping[str, int]) -> str:
    """The client among ``clients`` (queue order, repeats allowed) whose request anchored a batch least
    recently: ``last_served`` maps a client to the number of the last batch it anchored (absent: never).

    Ties (clients never served) go to the one queued first. Every waiting client is chosen within as
    many batches as there are clients waiting, whatever the others send meanwhile.
    """
    first_seen: dict[str, int] = {}
    for position, client in enumerate(clients):
        first_seen.setdefault(client, position)
    return min(first_seen, key=lambda client: (last_served.get(client, -1), first_seen[client]))


def choose_anchor(ages_s: Sequence[float], remaining: Sequence[int], half_life_s: float,
                  clients: Sequence[str] | None = None, last_served: Mapping[str, int] | None = None) -> int:
    """The window a batch is built around: the first queued window of the request that goes first.

    With ``clients`` (one per window), only the windows of :func:`next_client` compete. Among them,
    shortest remaining work first keeps short notes close to their lone latency under load; waiting
    halves a request's claim every ``half_life_s`` (``remaining x 2^(-age / half_life)``), so no
    request starves: one waits for another k times smaller than itself for log2(k) half-lives at most.
    """
    if not remaining:
        return 0
    candidates: Sequence[int] = range(len(remaining))
    if clients is not None:
        chosen = next_client(clients, last_served or {})
        candidates = [index for index, client in enumerate(clients) if client == chosen]
    if half_life_s <= 0:  # no half-life: first come, first served
        return candidates[0]
    return min(candidates, key=lambda index: (remaining[index] * 0.5 ** (ages_s[index] / half_life_s), index))


def plan_batch(lengths: Sequence[int], budget: int, max_padding: float | None = None, anchor: int = 0
               ) -> list[int]:
    """Indices of the windows to run next; ``anchor`` is always among them (first).

    Windows are taken in order of closeness in length to the anchor while
    ``rows x longest <= budget`` and, when ``max_padding`` is set, while padded tokens stay within
    ``(1 + max_padding)`` x real tokens: a batch wastes little compute on padding.
    """
    if not lengths:
        return []
    order = sorted(range(len(lengths)), key=lambda index: (lengths[index], index))
    position = order.index(anchor)
    chosen = [anchor]
    longest = real = lengths[anchor]
    below, above = position - 1, position + 1
    while below >= 0 or above < len(order):
        take_below = above >= len(order) or (
            below >= 0 and lengths[anchor] - lengths[order[below]] <= lengths[order[above]] - lengths[anchor]
        )
        candidate = order[below] if take_below else order[above]
        new_longest = max(longest, lengths[candidate])
        padded = new_longest * (len(chosen) + 1)
        fits = padded <= budget
        lean = max_padding is None or padded <= (1 + max_padding) * (real + lengths[candidate])
        if not (fits and lean):
            if take_below:
                below = -1  # shorter windows only add padding from here on
            else:
                above = len(order)
            continue
        chosen.append(candidate)
        longest, real = new_longest, real + lengths[candidate]
        if take_below:
            below -= 1
        else:
            above += 1
    return chosen


def length_sorted_batches(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Offline batching (no arrival order, no deadlines): consecutive length-sorted runs within the budget.

    For callers that hold every window up front (training's dev selection with a PyTorch model):
    ``rows x longest <= budget``, a window longer than the budget alone.
    """
    order = sorted(range(len(lengths)), key=lambda index: (lengths[index], index))
    batches: list[list[int]] = []
    for index in order:
        if batches and lengths[index] * (len(batches[-1]) + 1) <= budget:
            batches[-1].append(index)
        else:
            batches.append([index])
    return batches
