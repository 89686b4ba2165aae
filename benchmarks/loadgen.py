"""Load generator: asyncio + httpx against one server on 127.0.0.1, run as its own process.

Reads a JSON plan (see ``Plan``), writes a JSON result: one record per request (start, end, status,
which notes) and, when the server is a clinx-serve, its Prometheus counters sampled about once a
second plus the server process's CPU time and memory at the edges of the measurement window.

Closed loop: ``concurrency`` clients, each sending its next request as soon as the last one answered.
Open loop: requests arrive as a Poisson process at ``rate`` per second, whatever the server does.
Both stop sending at the end of the window, give what is in flight ``drain_s`` to finish, then close
their connections (which makes clinx-serve drop the abandoned requests' queued windows).

    .venv/bin/python benchmarks/loadgen.py plan.json result.json
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.server_process import proc_memory  # noqa: E402

ALLOWED_HOSTS = ("127.0.0.1", "localhost", "[::1]")
METRIC_LINE = re.compile(r"^(clinx_[a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+|NaN|[+-]Inf)$")
SAMPLED = ("clinx_real_tokens_total", "clinx_padded_tokens_total", "clinx_tokens_total", "clinx_documents_total",
           "clinx_batch_size_count", "clinx_batch_size_sum", "clinx_inference_duration_seconds_sum",
           "clinx_queue_tokens")


@dataclass
class Plan:
    url: str
    notes: list[dict[str, str]]
    mode: str = "closed"  # closed | open
    concurrency: int = 1
    rate: float = 1.0  # open loop: requests per second
    docs_per_request: int = 1
    warmup_s: float = 3.0
    duration_s: float = 30.0
    drain_s: float = 10.0
    max_requests: int = 100_000
    max_in_flight: int = 512
    timeout_s: float = 600.0
    server_pid: int | None = None
    clinx_metrics: bool = True
    sample_every_s: float = 1.0
    seed: int = 0
    extra_body: dict[str, Any] = field(default_factory=dict)
    path: str = "/extract"  # or "/deidentify" (benchmarks/deid.py compares the two)
    headers: dict[str, str] = field(default_factory=dict)  # e.g. the client's API key


def parse_metrics(text: str) -> dict[str, float]:
    """Sums of the clinx_* series we sample, over all label sets."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        match = METRIC_LINE.match(line)
        if match and match.group(1) in SAMPLED:
            values[match.group(1)] = values.get(match.group(1), 0.0) + float(match.group(3))
    return values


def proc_cpu_s(pid: int) -> float:
    """utime + stime of a process (all its threads), seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu_s(pid: int) -> dict[str, list[Any]]:
    """Per thread of a process: [name, utime + stime seconds]; the main thread's id is the pid."""
    threads: dict[str, list[Any]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            name = (task / "comm").read_text().strip()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        threads[task.name] = [name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")]
    return threads


def loadavg() -> list[float]:
    return [float(value) for value in Path("/proc/loadavg").read_text().split()[:3]]


class Generator:
    def __init__(self, plan: Plan) -> None:
        host = httpx.URL(plan.url).host
        if host not in ALLOWED_HOSTS and f"[{host}]" not in ALLOWED_HOSTS:
            raise SystemExit(f"refusing to send load to {host!r}: only 127.0.0.1 / localhost")
        self.plan = plan
        self.records: list[dict[str, Any]] = []
        self.samples: list[dict[str, Any]] = []
        self.next_index = 0
        self.sending = True
        self.body_cache: dict[int, bytes] = {}

    def body(self, index: int) -> tuple[bytes, list[int]]:
        """Request ``index`` carries notes index*k .. index*k+k-1 (cycling), as JSON bytes."""
        plan = self.plan
        picks = [(index * plan.docs_per_request + j) % len(plan.notes) for j in range(plan.docs_per_request)]
        cached = self.body_cache.get(index % len(plan.notes)) if plan.docs_per_request == 1 else None
        if cached is None:
            documents = [{"id": plan.notes[p]["id"], "text": plan.notes[p]["text"]} for p in picks]
            cached = json.dumps({"documents": documents, **plan.extra_body}).encode()
            if plan.docs_per_request == 1:
                self.body_cache[index % len(plan.notes)] = cached
        return cached, picks

    async def one(self, client: httpx.AsyncClient, index: int) -> None:
        body, picks = self.body(index)
        record: dict[str, Any] = {"index": index, "notes": picks, "start": time.monotonic()}
        try:
            response = await client.post(self.plan.path, content=body,
                                         headers={"content-type": "application/json", **self.plan.headers})
            record["status"] = response.status_code
            if response.status_code == 200:
                payload = response.json()
                record["entities"] = sum(len(d.get("entities", d.get("items", []))) for d in payload["documents"])
                if "x-clinx-queue-time-ms" in response.headers:  # the part of the latency spent in the queue
                    record["queue_ms"] = float(response.headers["x-clinx-queue-time-ms"])
            elif response.status_code == 429:  # why: a client's share, or a deadline the queue would miss
                record["reason"] = response.json()["error"].get("detail", {}).get("reason")
        except httpx.HTTPError as error:
            record["status"] = -1
            record["error"] = type(error).__name__
        except asyncio.CancelledError:
            record.update(status=-3, error="abandoned at the end of the run", end=time.monotonic())
            self.records.append(record)
            raise
        record["end"] = time.monotonic()
        self.records.append(record)

    def take(self) -> int | None:
        if not self.sending or self.next_index >= self.plan.max_requests:
            return None
        index = self.next_index
        self.next_index += 1
        return index

    async def closed_client(self, client: httpx.AsyncClient) -> None:
        while (index := self.take()) is not None:
            await self.one(client, index)

    async def open_arrivals(self, client: httpx.AsyncClient, tasks: set[asyncio.Task[None]]) -> None:
        rng = random.Random(self.plan.seed)
        next_at = time.monotonic()
        while (index := self.take()) is not None:
            next_at += rng.expovariate(self.plan.rate)
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if not self.sending:
                break
            if len(tasks) >= self.plan.max_in_flight:
                self.records.append({"index": index, "notes": [], "start": time.monotonic(), "end": time.monotonic(),
                                     "status": -2, "error": "client in-flight cap"})
                continue
            task = asyncio.ensure_future(self.one(client, index))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    async def sample(self, client: httpx.AsyncClient, label: str = "") -> dict[str, Any]:
        sample: dict[str, Any] = {"t": time.monotonic(), "label": label}
        if self.plan.clinx_metrics:
            try:
                response = await client.get("/metrics", timeout=30)
                sample["metrics"] = parse_metrics(response.text)
            except httpx.HTTPError:
                sample["metrics"] = None
        if self.plan.server_pid:
            try:
                sample["cpu_s"] = proc_cpu_s(self.plan.server_pid)
                sample.update(proc_memory(self.plan.server_pid))
                if label:
                    sample["threads"] = thread_cpu_s(self.plan.server_pid)
            except OSError:
                pass
        self.samples.append(sample)
        return sample

    async def sampler(self, client: httpx.AsyncClient, until: float) -> None:
        while time.monotonic() < until:
            await asyncio.sleep(min(self.plan.sample_every_s, max(0.0, until - time.monotonic())))
            if time.monotonic() < until:
                await self.sample(client)

    async def run(self) -> dict[str, Any]:
        plan = self.plan
        limits = httpx.Limits(max_connections=max(plan.concurrency, plan.max_in_flight) + 4,
                              max_keepalive_connections=max(plan.concurrency, 64))
        timeout = httpx.Timeout(plan.timeout_s, connect=30)
        async with httpx.AsyncClient(base_url=plan.url, limits=limits, timeout=timeout) as client, \
                httpx.AsyncClient(base_url=plan.url, timeout=30) as probe:
            started = time.monotonic()
            tasks: set[asyncio.Task[None]] = set()
            if plan.mode == "closed":
                workers = [asyncio.ensure_future(self.closed_client(client)) for _ in range(plan.concurrency)]
            else:
                workers = [asyncio.ensure_future(self.open_arrivals(client, tasks))]
            window_start = started + plan.warmup_s
            window_end = window_start + plan.duration_s
            await asyncio.sleep(max(0.0, window_start - time.monotonic()))
            first = await self.sample(probe, "window_start")
            await self.sampler(probe, window_end)
            last = await self.sample(probe, "window_end")
            self.sending = False
            pending = [w for w in workers if not w.done()] + list(tasks)
            if pending:
                _, still = await asyncio.wait(pending, timeout=plan.drain_s)
                for task in still:
                    task.cancel()
                await asyncio.gather(*still, return_exceptions=True)
            finished = time.monotonic()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "plan": {key: value for key, value in plan.__dict__.items() if key != "notes"},
            "started": started,
            "window": [first["t"], last["t"]],
            "finished": finished,
            "records": self.records,
            "samples": self.samples,
            "client_cpu_s": usage.ru_utime + usage.ru_stime,
            "loadavg": loadavg(),
        }


def main() -> int:
    plan_path, result_path = Path(sys.argv[1]), Path(sys.argv[2])
    plan = Plan(**json.loads(plan_path.read_text(encoding="utf-8")))
    result = asyncio.run(Generator(plan).run())
    result_path.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
