"""Batching behaviour against real `clinx serve` processes on 127.0.0.1."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path

import httpx

from tests.support import ServerProcess

NOTE = ("Patient presents with chest pain and shortness of breath. Troponin was ordered. "
        "Started on aspirin 81 mg daily. Denies fever or chills. CT of the chest was negative.")


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", re.MULTILINE)
    total = 0.0
    for match in pattern.finditer(text):
        if all(part in (match.group(1) or "") for part in wanted.split(",") if part):
            total += float(match.group(2))
    return total


def test_batches_stay_within_the_token_budget(tiny_bundle: Path, tmp_path: Path) -> None:
    budget = 128  # three windows of the tiny bundle's longest shape (42 tokens); a histogram bucket edge
    with ServerProcess.start(tiny_bundle, tmp_path, max_batch_tokens=budget) as server:
        response = httpx.post(server.url + "/extract", json={"text": NOTE * 6}, timeout=60)
        assert response.status_code == 200
        metrics = httpx.get(server.url + "/metrics").text
    batches = metric(metrics, "clinx_batch_tokens_count")
    padded = metric(metrics, "clinx_padded_tokens_total")
    assert batches >= padded / budget > 1  # the budget forced several batches
    # Every batch falls in the histogram bucket at or below the budget.
    assert metric(metrics, "clinx_batch_tokens_bucket", le="128.0") == batches


def test_a_lone_window_waits_for_the_delay_and_a_full_batch_does_not(tiny_bundle: Path, tmp_path: Path) -> None:
    async def full_batch_runs_early(url: str) -> float:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            request = asyncio.create_task(client.post("/extract", json={"text": NOTE * 8}))
            await asyncio.sleep(0.5)
            batches = metric((await client.get("/metrics")).text, "clinx_batch_size_count")
            assert (await request).status_code == 200
            return batches

    with ServerProcess.start(tiny_bundle, tmp_path, max_queue_delay_ms=2000, max_batch_tokens=200) as server:
        lone = httpx.post(server.url + "/extract", json={"text": "Chest pain."}, timeout=30)
        assert float(lone.headers["x-clinx-queue-time-ms"]) >= 1900
        assert asyncio.run(full_batch_runs_early(server.url)) > 1  # full batches went before the 2 s delay


def test_padding_stays_low_with_mixed_lengths(tiny_bundle: Path, tmp_path: Path) -> None:
    texts = [NOTE[: 20 + 37 * i] for i in range(12)]
    with ServerProcess.start(tiny_bundle, tmp_path, max_queue_delay_ms=200) as server:
        response = httpx.post(server.url + "/extract",
                              json={"documents": [{"id": str(i), "text": t} for i, t in enumerate(texts)]}, timeout=30)
        assert response.status_code == 200
        metrics = httpx.get(server.url + "/metrics").text
    padded = metric(metrics, "clinx_padded_tokens_total")
    real = metric(metrics, "clinx_real_tokens_total")
    assert real > 0 and padded / real - 1 <= 0.10, (padded, real)


def test_queue_full_gets_429_with_retry_after(tiny_bundle: Path, tmp_path: Path) -> None:
    async def scenario(url: str) -> tuple[int, httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            first = asyncio.create_task(client.post("/extract", json={"text": NOTE * 4}))
            await asyncio.sleep(0.5)  # the first request's windows now wait in the queue
            second = await client.post("/extract", json={"text": NOTE * 4})
            return (await first).status_code, second

    with ServerProcess.start(tiny_bundle, tmp_path, max_queue_delay_ms=2000, max_queue_tokens=300,
                             max_batch_tokens=100_000) as server:
        first_status, second = asyncio.run(scenario(server.url))
        after = httpx.post(server.url + "/extract", json={"text": "Chest pain."}, timeout=30)
    assert first_status == 200
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) >= 1
    assert second.json()["error"]["type"] == "queue_full"
    assert after.status_code == 200


def test_deadline_gives_504_and_the_queue_drops_expired_work(tiny_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_bundle, tmp_path, max_queue_delay_ms=3000, max_batch_tokens=100_000) as server:
        response = httpx.post(server.url + "/extract", json={"text": NOTE, "timeout_s": 0.3}, timeout=30)
        metrics = httpx.get(server.url + "/metrics").text
    assert response.status_code == 504
    assert response.json()["error"]["type"] == "deadline_exceeded"
    assert metric(metrics, "clinx_queue_depth") == 0
    assert metric(metrics, "clinx_batch_size_count") == 0  # nothing expired was run


def test_a_disconnected_client_has_its_windows_dropped(tiny_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_bundle, tmp_path, max_queue_delay_ms=4000, max_batch_tokens=100_000) as server:
        body = httpx.Request("POST", server.url + "/extract", json={"text": NOTE * 3}).read()
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(b"POST /extract HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            time.sleep(0.5)
        queued = []
        for _ in range(20):
            time.sleep(0.1)
            queued.append(metric(httpx.get(server.url + "/metrics").text, "clinx_queue_depth"))
            if queued[-1] == 0:
                break
        ok = httpx.post(server.url + "/extract", json={"text": "Chest pain.", "timeout_s": 10}, timeout=30)
        metrics = httpx.get(server.url + "/metrics").text
    assert queued[-1] == 0, queued  # dropped well before the 4 s delay would have flushed it
    assert ok.status_code == 200
    assert metric(metrics, "clinx_batch_size_sum") == ok.json()["documents"][0]["stats"]["windows"]
