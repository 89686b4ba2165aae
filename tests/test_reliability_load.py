"""Overload, slow and vanishing clients, mass deadlines and SIGTERM under load, against real servers (issue 9).

Nothing lost (every admitted request is answered correctly), nothing leaked (no PHI in logs or error
bodies), nothing kept (the queue empties, memory returns near its baseline).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ServerProcess, rss_bytes
from tests.test_reliability_support import (
    NOTE,
    PHI_NOTE,
    SENTINEL,
    abandoned_post,
    assert_no_phi,
    error_records,
    error_type,
    metric,
    metrics_of,
    partial_headers,
    raw_post,
    slow_post,
)

MB = 1024 * 1024
# Four distinct request bodies of two documents each; PHI inside every note.
BODIES = [
    {"documents": [{"id": f"r{k}-a", "text": PHI_NOTE * (1 + k % 2)},
                   {"id": f"r{k}-b", "text": f"{SENTINEL}: " + NOTE[k * 10 :]}]}
    for k in range(4)
]


def spans(answer: dict[str, Any]) -> list[list[tuple[int, int, str, str]]]:
    return [[(e["start"], e["end"], e["text"], e["label"]) for e in d["entities"]] for d in answer["documents"]]


def scores(answer: dict[str, Any]) -> list[float]:
    return [e["score"] for d in answer["documents"] for e in d["entities"]]


def windows(answer: dict[str, Any]) -> int:
    return sum(d["stats"]["windows"] for d in answer["documents"])


def no_5xx(text: str, expected: tuple[int, ...] = ()) -> None:
    """No /extract request was answered with a 5xx other than ``expected`` (from a /metrics text)."""
    for status in sorted(set(range(500, 600)) - set(expected)):
        assert metric(text, "clinx_requests_total", route="/extract", status=str(status)) == 0, status


# --- overload ---------------------------------------------------------------------------------------------


async def burst(url: str, clients: int, rounds: int) -> list[tuple[int, int, httpx.Response]]:
    """``clients`` concurrent clients, each sending ``rounds`` requests back to back (no back-off)."""
    limits = httpx.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one_client(index: int) -> list[tuple[int, int, httpx.Response]]:
            answers = []
            for round_ in range(rounds):
                which = (index + round_) % len(BODIES)
                answers.append((index, which, await client.post("/extract", json=BODIES[which])))
            return answers

        results = await asyncio.gather(*(one_client(index) for index in range(clients)))
    return [answer for per_client in results for answer in per_client]


def test_overload_sheds_with_429_keeps_answers_exact_and_recovers(tiny_bundle: Path, tmp_path: Path) -> None:
    clients, rounds = 100, 3
    with ServerProcess.start(tiny_bundle, tmp_path, variant="fp32", max_queue_tokens=1500, max_queue_delay_ms=20,
                             log_level="debug") as server:
        reference = []
        for body in BODIES:  # served alone: the answers every admitted request must match
            response = httpx.post(server.url + "/extract", json=body, timeout=30)
            assert response.status_code == 200
            reference.append(response.json())
        for _ in range(5):
            for body in BODIES:
                httpx.post(server.url + "/extract", json=body, timeout=30)
        baseline = rss_bytes(server.process.pid)

        started = time.monotonic()
        answers = asyncio.run(burst(server.url, clients, rounds))
        burst_s = time.monotonic() - started

        after = httpx.post(server.url + "/extract", json=BODIES[0], timeout=30)
        ready = httpx.get(server.url + "/health/ready", timeout=10)
        time.sleep(1.0)
        settled = rss_bytes(server.process.pid)
        text = metrics_of(server)
    statuses = [response.status_code for _, _, response in answers]
    counts = {status: statuses.count(status) for status in set(statuses)}
    print(f"\n{clients} clients x {rounds} requests in {burst_s:.1f} s: {counts}; "
          f"RSS {baseline / MB:.1f} -> {settled / MB:.1f} MB")
    assert set(counts) <= {200, 429}, counts  # no 5xx, nothing else
    assert counts.get(429, 0) >= 1 and counts.get(200, 0) >= clients // 4, counts
    for _, which, response in answers:
        if response.status_code == 429:
            assert error_type(response) == "queue_full"
            retry_after = int(response.headers["retry-after"])
            assert retry_after >= 1 and response.json()["error"]["detail"]["retry_after_s"] == retry_after
        else:
            answer = response.json()
            assert spans(answer) == spans(reference[which])  # batched with strangers, still the same spans
            assert scores(answer) == pytest.approx(scores(reference[which]), abs=2e-3)
    assert after.status_code == 200 and spans(after.json()) == spans(reference[0])
    assert ready.status_code == 200
    assert metric(text, "clinx_queue_depth") == 0 and metric(text, "clinx_queue_tokens") == 0
    assert metric(text, "clinx_errors_total", type="queue_full") == counts[429]
    assert settled <= baseline + max(50 * MB, 0.3 * baseline), (baseline, settled)
    no_5xx(text)
    assert not error_records(server)
    assert_no_phi(server, [response.text for _, _, response in answers if response.status_code != 200])


# --- slow and vanishing clients ---------------------------------------------------------------------------


def test_slow_and_vanishing_clients_cost_others_nothing(tiny_bundle: Path, tmp_path: Path) -> None:
    """Slowloris heads, half-sent bodies that are dropped, a 1-byte-per-100-ms body: others are answered promptly."""
    body = f'{{"text": "{PHI_NOTE}"}}'.encode()
    slow_body = b'{"text": "Chest pain, aspirin."}'

    async def scenario(server: ServerProcess) -> dict[str, Any]:
        port = server.port
        hold = 3.0
        mischief = [asyncio.create_task(abandoned_post(port, body[: len(body) // 2], len(body), hold))
                    for _ in range(10)]
        mischief += [asyncio.create_task(abandoned_post(port, body[:20], len(body), 0.2)) for _ in range(10)]
        mischief += [asyncio.create_task(partial_headers(port, hold)) for _ in range(5)]
        slow = asyncio.create_task(slow_post(port, slow_body, byte_interval_s=0.1))
        await asyncio.sleep(0.3)
        latencies, answers = [], []
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            deadline = time.monotonic() + hold - 0.3
            while time.monotonic() < deadline:  # a steady client, while the mischief goes on
                started = time.monotonic()
                response = await client.post("/extract", json={"text": PHI_NOTE})
                latencies.append(time.monotonic() - started)
                answers.append(response)
                await asyncio.sleep(0.05)
        await asyncio.gather(*mischief)
        slow_answer, slow_seconds = await slow
        return {"latencies": latencies, "answers": answers, "slow": slow_answer, "slow_s": slow_seconds}

    with ServerProcess.start(tiny_bundle, tmp_path, variant="fp32", log_level="debug") as server:
        reference = httpx.post(server.url + "/extract", json={"text": PHI_NOTE}, timeout=30).json()
        before = metric(metrics_of(server), "clinx_batch_size_sum")
        result = asyncio.run(scenario(server))
        time.sleep(0.3)  # let the server notice the last dropped connections
        text = metrics_of(server)
        records = server.log_records()
    latencies: list[float] = result["latencies"]
    print(f"\nsteady client: {len(latencies)} requests, median {statistics.median(latencies) * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms; slow client answered after {result['slow_s']:.1f} s")
    assert len(latencies) >= 10
    assert all(r.status_code == 200 and spans(r.json()) == spans(reference) for r in result["answers"])
    assert statistics.median(latencies) < 0.5 and max(latencies) < 3.0, latencies
    slow = result["slow"]
    assert slow.status == 200 and result["slow_s"] >= 2.5  # answered, once its last byte arrived
    slow_windows = windows(json.loads(slow.body))
    # Work run = the steady client's windows + the slow client's: the abandoned bodies never reached the queue.
    ran = metric(text, "clinx_batch_size_sum") - before
    assert ran == windows(reference) * len(latencies) + slow_windows
    assert metric(text, "clinx_queue_depth") == 0
    dropped = [r for r in records if r.get("logger") == "clinx.access" and r.get("route") == "/extract"
               and r.get("status") == 499]
    assert len(dropped) == 20  # every abandoned body, logged as client_closed, not as a server fault
    assert metric(text, "clinx_errors_total", type="client_closed") == 20
    assert not error_records(server), error_records(server)
    no_5xx(text)
    assert_no_phi(server)


# --- deadlines --------------------------------------------------------------------------------------------


def test_many_requests_expiring_at_once_leave_nothing_queued(tiny_bundle: Path, tmp_path: Path) -> None:
    """30 requests time out together and 10 clients vanish while queued: none of their windows ever runs."""
    delay_s = 4.0

    async def scenario(server: ServerProcess) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                     limits=httpx.Limits(max_connections=100)) as client:

            async def timed(body: dict[str, Any]) -> tuple[httpx.Response, float]:
                started = time.monotonic()
                response = await client.post("/extract", json=body)
                return response, time.monotonic() - started

            patient = [asyncio.create_task(client.post("/extract", json={"text": PHI_NOTE, "timeout_s": 30}))
                       for _ in range(5)]
            hasty = [asyncio.create_task(timed({"text": PHI_NOTE, "timeout_s": 0.5})) for _ in range(30)]
            body = f'{{"text": "{PHI_NOTE}"}}'.encode()
            vanishing = [asyncio.create_task(abandoned_post(server.port, body, len(body), 0.8)) for _ in range(10)]
            expired = await asyncio.gather(*hasty)
            await asyncio.gather(*vanishing)
            await asyncio.sleep(0.4)
            queued_meanwhile = metric((await client.get("/metrics")).text, "clinx_queue_depth")
            return {"expired": expired, "queued": queued_meanwhile, "patient": await asyncio.gather(*patient),
                    "elapsed": time.monotonic()}

    with ServerProcess.start(tiny_bundle, tmp_path, max_queue_delay_ms=delay_s * 1000, max_batch_tokens=100_000,
                             log_level="debug") as server:
        started = time.monotonic()
        result = asyncio.run(scenario(server))
        text = metrics_of(server)
    expired: list[tuple[httpx.Response, float]] = result["expired"]
    patient: list[httpx.Response] = result["patient"]
    assert [r.status_code for r, _ in expired] == [504] * 30
    assert all(error_type(r) == "deadline_exceeded" for r, _ in expired)
    assert max(seconds for _, seconds in expired) < delay_s - 1  # answered at their deadline, not at the flush
    assert all(r.status_code == 200 for r in patient)
    patient_windows = sum(windows(r.json()) for r in patient)
    # Before the flush, the queue held the patient requests' windows only: expired and abandoned ones were gone.
    assert result["queued"] == patient_windows, (result["queued"], patient_windows)
    assert result["elapsed"] - started >= delay_s - 0.5  # the patient requests waited for the flush
    assert metric(text, "clinx_queue_depth") == 0 and metric(text, "clinx_queue_tokens") == 0
    assert metric(text, "clinx_batch_size_sum") == patient_windows  # nothing expired or abandoned was run
    assert metric(text, "clinx_errors_total", type="deadline_exceeded") == 30
    assert metric(text, "clinx_errors_total", type="client_closed") == 10
    no_5xx(text, expected=(504,))
    assert not error_records(server), error_records(server)  # vanishing clients are no server fault
    assert_no_phi(server, [r.text for r, _ in expired])


# --- SIGTERM under load -----------------------------------------------------------------------------------


def test_sigterm_under_load_finishes_every_request_in_flight(tiny_bundle: Path, tmp_path: Path) -> None:
    in_flight_count, grace_s, delay_s = 20, 15.0, 3.0

    async def scenario(server: ServerProcess, expected_windows: int) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30,
                                     limits=httpx.Limits(max_connections=50)) as client:
            in_flight = [asyncio.create_task(client.post("/extract", json={"text": PHI_NOTE}))
                         for _ in range(in_flight_count)]
            for _ in range(100):  # until every request's windows wait in the queue
                await asyncio.sleep(0.05)
                if metric((await client.get("/metrics")).text, "clinx_queue_depth") >= expected_windows:
                    break
            else:
                raise AssertionError("the requests never all reached the queue")
            signalled = time.monotonic()
            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            ready = await client.get("/health/ready")
            refused = await asyncio.gather(*(client.post("/extract", json={"text": PHI_NOTE}) for _ in range(5)))
            finished = await asyncio.gather(*in_flight)
            return {"signalled": signalled, "ready": ready, "refused": refused, "finished": finished}

    server = ServerProcess.launch(tiny_bundle, tmp_path, max_queue_delay_ms=delay_s * 1000, drain_grace_s=grace_s,
                                  max_batch_tokens=100_000, log_level="debug")
    try:
        server.wait_ready()
        alone = httpx.post(server.url + "/extract", json={"text": PHI_NOTE}, timeout=30).json()  # waits one delay
        result = asyncio.run(scenario(server, windows(alone) * in_flight_count))
        code = server.wait_exit(timeout=grace_s + 5)
        exited_after = time.monotonic() - result["signalled"]
    finally:
        with contextlib.suppress(Exception):
            server.stop()
    print(f"\n{in_flight_count} in flight at SIGTERM; exit {code} after {exited_after:.1f} s")
    assert result["ready"].status_code == 503 and result["ready"].json() == {"status": "draining"}
    for response in result["refused"]:
        assert response.status_code == 503 and error_type(response) == "not_ready"
        assert int(response.headers["retry-after"]) >= 1
    assert [r.status_code for r in result["finished"]] == [200] * in_flight_count
    assert all(spans(r.json()) == spans(alone) for r in result["finished"])
    assert code == 0
    assert exited_after < grace_s
    assert not error_records(server)
    assert_no_phi(server, [r.text for r in result["refused"]])


def test_a_stalled_body_gets_408_and_frees_its_connection(tiny_bundle: Path, tmp_path: Path) -> None:
    """A client that announces a body and never finishes it is answered 408, not held for ever."""
    body = f'{{"text": "{PHI_NOTE}"}}'.encode()

    with ServerProcess.start(tiny_bundle, tmp_path, variant="fp32", body_timeout_s=1.5) as server:
        response, seconds = asyncio.run(raw_post(server.port, len(body), [body[:25]]))
        healthy = httpx.post(server.url + "/extract", json={"text": PHI_NOTE}, timeout=30)
        text = metrics_of(server)
    error = json.loads(response.body)["error"]
    assert response.status == 408 and error["type"] == "body_timeout"
    assert error["detail"] == {"received_bytes": 25, "limit_s": 1.5}
    assert seconds >= 1.5  # answered when its time ran out (the body never came)
    assert healthy.status_code == 200
    assert metric(text, "clinx_errors_total", type="body_timeout") == 1
    assert_no_phi(server, [response.body.decode()])
