"""The queue: windows from all concurrent requests wait here for the model, in one queue per model.

Deadlines, cancellation and the bookkeeping per client live here; *whether* a request may join is
the admission policy's answer (:mod:`app.engine.admission`: each client's share of the queued-token
bound, and the estimated wait against the deadline), *which* windows go next the scheduler's
(:mod:`app.engine.scheduler`), *how* they run the executor's (:mod:`app.engine.executor`).
A request's client is the ``client`` passed to :meth:`Batcher.submit`, else :data:`current_client`,
which the server's authentication sets for the request's task.

A worker thread takes its next batch itself the moment the model is free, as soon as the budget is
full or the oldest window has waited ``max_delay_s``. On a CPU the batchers of a model share
:class:`~app.engine.lanes.Lanes`: two workers, one batch per client at a time, so a client's short
note runs beside another's long batch instead of waiting for it, and one client alone runs one
batch at a time (the model already uses every core). On a GPU two workers, so one batch is padded
and copied while the other computes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from app.engine.admission import QueueView, Refusal, ServiceRate, admit, estimated_wait_s
from app.engine.executor import CentreLogits, Executor, WindowRow
from app.engine.lanes import Lanes
from app.engine.scheduler import RequestWork, choose_anchor, plan_batch

log = logging.getLogger("clinx.batcher")
LANE_RETRY_S = 0.002  # a worker deferred to a later stage's claim looks again this soon
MAX_IDLE_WAIT_S = 60.0  # a worker with nothing due looks again at least this often (and never sleeps past time_t)

# Who the running request is for: set per request (its asyncio task) by the server's authentication.
current_client: ContextVar[str] = ContextVar("clinx_client", default="anonymous")


class QueueFull(Exception):
    """Admission refused: the client's share of the queue is full, or the request would miss its deadline."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "client_share": "this client's share of the queue is full; retry later",
        "deadline": "the queued work would not let this request finish within its deadline; retry later",
    }

    def __init__(self, retry_after_s: int, reason: str = "client_share", estimated_wait_s: float | None = None
                 ) -> None:
        super().__init__(f"{self.MESSAGES.get(reason, 'the queue is full')} (after {retry_after_s} s)")
        self.retry_after_s = retry_after_s
        self.reason = reason
        self.estimated_wait_s = estimated_wait_s

    @classmethod
    def from_refusal(cls, refusal: Refusal) -> QueueFull:
        return cls(refusal.retry_after_s, refusal.reason, refusal.estimated_wait_s)

    @property
    def message(self) -> str:
        return self.MESSAGES.get(self.reason, "the server is at capacity; retry later")

    @property
    def detail(self) -> dict[str, Any]:
        """For the 429 body: when to retry, why, and the wait the estimate found (deadline refusals)."""
        detail: dict[str, Any] = {"retry_after_s": self.retry_after_s, "reason": self.reason}
        if self.estimated_wait_s is not None:
            detail["estimated_wait_s"] = self.estimated_wait_s
        return detail


class DeadlineExceeded(Exception):
    """The request's deadline passed before its windows were processed."""


class BatchObserver(Protocol):
    def batch_done(self, rows: int, padded_tokens: int, real_tokens: int, seconds: float) -> None: ...

    def queue_depth(self, windows: int, tokens: int) -> None: ...


@dataclass(eq=False)
class WindowJob:
    """One window waiting for the model; its future receives the centre's raw logits of every member."""

    window: WindowRow
    deadline: float
    future: asyncio.Future[CentreLogits]
    enqueued_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    request: RequestWork = field(default_factory=RequestWork)

    @property
    def length(self) -> int:
        return len(self.window.input_ids)


class Batcher:
    """One per served model: the queue, and the inference thread(s) that take batches from it.

    A worker thread chooses its next batch itself the moment the model is free, from everything
    queued by then: no event-loop round trip between batches (on a busy CPU the model waited for the
    loop ~8% of the time) and no batch fixed in advance (a note that arrives while the model runs
    is considered for the very next batch). The event loop only submits and cancels.
    """

    def __init__(
        self,
        executor: Executor,
        *,
        max_batch_tokens: int,
        max_delay_s: float,
        max_queue_tokens: int,
        max_padding: float | None = None,
        age_half_life_s: float = 2.0,
        client_queue_share: float = 0.0,
        workers: int = 1,
        observer: BatchObserver | None = None,
        lanes: Lanes | None = None,
        stage_rank: int = 0,
    ) -> None:
        self._executor = executor
        self.max_batch_tokens = max_batch_tokens
        self.max_delay_s = max_delay_s
        self.max_queue_tokens = max_queue_tokens
        self.max_padding = max_padding
        self.age_half_life_s = age_half_life_s
        self.client_queue_share = client_queue_share  # 0: the bound split evenly among clients with work queued
        self._lanes = lanes  # shared with the model's other batchers; None: any worker takes any batch
        self._stage_rank = stage_rank  # with lanes: a later stage (higher) goes first for the same client
        self.workers = lanes.capacity if lanes is not None else workers
        self._observer = observer
        self._changed = threading.Condition()  # guards everything below; notified on submit/cancel/stop
        self._pending: list[WindowJob] = []
        self._queued_tokens = 0
        self._client_tokens: dict[str, int] = {}  # clients with work queued only
        self._running_tokens = 0
        self._last_served: dict[str, int] = {}  # client -> number of the last batch its request anchored
        self._batches = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rate = ServiceRate()
        self._deferred = False  # the last look found work but a later stage's claim on its client's lane
        self._last_finished: float | None = None
        self._saturated = False

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stopping and all(thread.is_alive() for thread in self._threads)

    @property
    def queued_tokens(self) -> int:
        return self._queued_tokens

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._lanes is not None:
            self._lanes.listen(self.wake)
        self._threads = [
            threading.Thread(target=self._work, name=f"clinx-infer-{index}", daemon=True)
            for index in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    async def stop(self) -> None:
        with self._changed:
            self._stopping = True
            abandoned, self._pending = self._pending, []
            self._queued_tokens = 0
            self._client_tokens.clear()
            if self._lanes is not None:
                self._lanes.declare(self._stage_rank, frozenset())
            self._changed.notify_all()
        for job in abandoned:
            if not job.future.done():
                job.future.cancel()
        for thread in self._threads:  # a batch in progress finishes first
            await asyncio.to_thread(thread.join)

    def submit(self, jobs: Sequence[WindowJob], client: str | None = None, after_s: float = 0.0) -> None:
        """Queue all windows of one request, or none of them (QueueFull: the admission policy refused).

        ``after_s``: the time the request will still need in model stages after this one (admission
        counts it against the deadline)."""
        client = current_client.get() if client is None else client
        tokens = sum(job.length for job in jobs)
        time_left = min(job.deadline for job in jobs) - time.monotonic()
        with self._changed:
            refusal = admit(client, tokens, time_left, self.max_queue_tokens, self.client_queue_share,
                            self._view(), after_s)
            if refusal is not None:
                raise QueueFull.from_refusal(refusal)
            work = RequestWork(tokens, client)
            for job in jobs:
                job.request = work
            self._pending.extend(jobs)
            self._queued_tokens += tokens
            self._client_tokens[client] = self._client_tokens.get(client, 0) + tokens
            self._report_depth()
            self._changed.notify()

    def _view(self) -> QueueView:
        return QueueView(dict(self._client_tokens), self._running_tokens, self._rate.tokens_per_second,
                         self.max_batch_tokens, self.max_delay_s)

    def expected_s(self, client: str, tokens: int) -> float:
        """Seconds ``tokens`` of ``client`` would need here now, waiting included, as admission estimates
        them (0 before any rate is measured): for an earlier stage's admission."""
        with self._changed:
            estimate = estimated_wait_s(client, tokens, self._view())
        return sum(estimate) if estimate is not None else 0.0

    def wake(self) -> None:
        """Let a worker look at the queue now (e.g. to drop windows of a cancelled request)."""
        with self._changed:
            self._changed.notify_all()

    @property
    def tokens_per_second(self) -> float:
        """The measured rate (real tokens per second through the queue, see ``_record_rate``); 0: not yet."""
        with self._changed:
            return self._rate.tokens_per_second

    def _report_depth(self) -> None:
        if self._observer is not None:
            self._observer.queue_depth(len(self._pending), self._queued_tokens)

    # ---------------------------------------------------------------- worker threads (hold _changed)

    def _drop_finished(self) -> None:
        """Drop windows nobody waits for any more: cancelled (client gone) or past their deadline."""
        now = time.monotonic()
        keep = []
        for job in self._pending:
            expired = job.deadline <= now
            if expired or job.future.done():
                self._dequeued(job)  # before the waiter can learn of it: the counts are right when it does
                if expired:
                    self._post(job.future, None, DeadlineExceeded())
            else:
                keep.append(job)
        if len(keep) != len(self._pending):
            self._pending = keep
            self._report_depth()

    def _next_batch(self) -> tuple[list[WindowJob], str] | None:
        """Block until a batch is due (budget full, or the oldest window waited max_delay_s) and, with
        lanes, one is free for a client that has windows queued and no batch running; the batch and
        the client it was built for."""
        with self._changed:
            while not self._stopping:
                self._drop_finished()
                timeout: float | None = None
                if self._pending:
                    now = time.monotonic()
                    wait = self._pending[0].enqueued_at + self.max_delay_s - now
                    if self._queued_tokens >= self.max_batch_tokens or wait <= 0:
                        taken = self._take_batch(now)
                        if taken is not None:
                            return taken
                        # No lane for anyone queued: a freed lane wakes this worker; one a later stage
                        # claimed is looked at again shortly (its claim may go without a lane freed).
                        wait = LANE_RETRY_S if self._deferred else math.inf
                    timeout = max(0.0, min(wait, min(job.deadline for job in self._pending) - now))
                    if timeout > MAX_IDLE_WAIT_S:  # no deadline near: a submit, cancel or freed lane wakes it
                        timeout = MAX_IDLE_WAIT_S
                self._changed.wait(timeout)
            return None

    def _eligible(self) -> list[int]:
        """Positions in the queue of the windows a batch may take now: all, or (lanes) those of clients
        without a batch running, none when every lane is taken."""
        if self._lanes is None:
            return list(range(len(self._pending)))
        busy = self._lanes.busy_clients()
        if busy is None:
            return []
        return [index for index, job in enumerate(self._pending) if job.request.client not in busy]

    def _take_batch(self, now: float) -> tuple[list[WindowJob], str] | None:
        self._deferred = False
        if self._lanes is not None:
            self._lanes.declare(self._stage_rank, frozenset(self._client_tokens))
        eligible = self._eligible()
        if not eligible:
            return None
        jobs = [self._pending[index] for index in eligible]
        anchor = choose_anchor([now - job.enqueued_at for job in jobs], [job.request.queued_tokens for job in jobs],
                               self.age_half_life_s, [job.request.client for job in jobs], self._last_served)
        anchor_client = jobs[anchor].request.client
        if self._lanes is not None and not self._lanes.try_acquire(anchor_client, self._stage_rank):
            self._deferred = True  # a later stage waits for this client's lane, or another batcher took it
            return None
        chosen = {eligible[index] for index in plan_batch([job.length for job in jobs], self.max_batch_tokens,
                                                          self.max_padding, anchor)}
        batch = [job for index, job in enumerate(self._pending) if index in chosen]
        self._pending = [job for index, job in enumerate(self._pending) if index not in chosen]
        for job in batch:
            self._dequeued(job)
            job.started_at = now
        self._running_tokens += sum(job.length for job in batch)
        self._batches += 1
        self._last_served[anchor_client] = self._batches
        self._report_depth()
        if self._lanes is not None:
            self._lanes.declare(self._stage_rank, frozenset(self._client_tokens))
        return batch, anchor_client

    def _dequeued(self, job: WindowJob) -> None:
        """A window leaves the queue (taken, expired or cancelled): the counts per request and client follow."""
        self._queued_tokens -= job.length
        job.request.queued_tokens -= job.length
        client = job.request.client
        left = self._client_tokens.get(client, 0) - job.length
        if left > 0:
            self._client_tokens[client] = left
        else:
            self._client_tokens.pop(client, None)

    def _work(self) -> None:
        while (taken := self._next_batch()) is not None:
            self._infer(*taken)

    def _infer(self, batch: list[WindowJob], client: str) -> None:
        """The executor runs the batch (built for ``client``: its lane is freed as the model is done);
        every waiting request learns the outcome."""
        started = time.monotonic()
        try:
            outcome = self._executor.run([job.window for job in batch])
        except Exception as error:  # the model failed: every waiting request learns it
            log.exception("inference failed for a batch of %d windows", len(batch))
            for job in batch:
                self._post(job.future, None, error)
            return
        finally:
            with self._changed:
                self._running_tokens -= sum(job.length for job in batch)
            if self._lanes is not None:
                self._lanes.release(client)
        seconds = time.monotonic() - started
        if self._observer is not None:
            self._observer.batch_done(len(batch), outcome.padded_tokens, outcome.real_tokens, seconds)
        with self._changed:  # before the results: whoever awaits them sees the rate they produced
            self._record_rate(outcome.real_tokens, batch[0].started_at or started)
        for job, result in zip(batch, outcome.logits, strict=True):
            self._post(job.future, result, None)

    def _record_rate(self, real_tokens: int, taken_at: float) -> None:
        """The rate admission estimates waits with: real tokens the queue gets through per second.

        While the queue stays at least a batch full, a batch counts from the end of the one before (the
        workers' own time between batches included, and with two workers their overlap); otherwise from
        when it was taken (:class:`ServiceRate` keeps the last batches').
        """
        now = time.monotonic()
        since = self._last_finished if self._saturated and self._last_finished is not None else taken_at
        self._rate.record(real_tokens, now - since)
        self._last_finished = now
        self._saturated = self._queued_tokens >= self.max_batch_tokens

    def _post(self, future: asyncio.Future[CentreLogits], result: CentreLogits | None,
              error: BaseException | None) -> None:
        """Settle a future from a worker thread, on its event loop (which may already be closed)."""
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[CentreLogits], result: CentreLogits | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    elif result is not None:
        future.set_result(result)
