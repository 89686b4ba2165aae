"""Start-up, readiness and the SIGTERM drain of a real server process."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx

from tests.support import ServerProcess

NOTE = "Patient presents with chest pain. Troponin was ordered. Started on aspirin 81 mg daily."


def test_sigterm_drains_in_flight_requests(tiny_bundle: Path, tmp_path: Path) -> None:
    async def scenario(server: ServerProcess) -> dict[str, object]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            in_flight = asyncio.create_task(client.post("/extract", json={"text": NOTE}))
            await asyncio.sleep(0.4)  # its windows wait for the 2 s batching delay
            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            ready = await client.get("/health/ready")
            live = await client.get("/health/live")
            refused = await client.post("/extract", json={"text": NOTE})
            finished = await in_flight
            return {"ready": ready, "live": live, "refused": refused, "finished": finished}

    server = ServerProcess.launch(tiny_bundle, tmp_path, max_queue_delay_ms=2000, drain_grace_s=10)
    try:
        server.wait_ready()
        started = time.monotonic()
        results = asyncio.run(scenario(server))
        code = server.wait_exit(timeout=15)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    assert results["ready"].status_code == 503  # type: ignore[attr-defined]
    assert results["ready"].json() == {"status": "draining"}  # type: ignore[attr-defined]
    assert results["live"].status_code == 200  # type: ignore[attr-defined]
    assert results["refused"].status_code == 503  # type: ignore[attr-defined]
    assert results["refused"].json()["error"]["type"] == "not_ready"  # type: ignore[attr-defined]
    assert results["finished"].status_code == 200  # type: ignore[attr-defined]
    assert code == 0
    assert elapsed < 10


def test_grace_period_bounds_the_drain(tiny_bundle: Path, tmp_path: Path) -> None:
    server = ServerProcess.launch(tiny_bundle, tmp_path, max_queue_delay_ms=20_000, drain_grace_s=1)
    try:
        server.wait_ready()

        async def scenario() -> None:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                request = asyncio.create_task(client.post("/extract", json={"text": NOTE}))
                await asyncio.sleep(0.3)
                started = time.monotonic()
                server.process.send_signal(signal.SIGTERM)
                await asyncio.to_thread(server.wait_exit, 10)
                assert time.monotonic() - started < 5
                request.cancel()

        asyncio.run(scenario())
    finally:
        server.stop()


def test_readiness_waits_for_the_bundle(tiny_bundle: Path, tmp_path: Path) -> None:
    server = ServerProcess.launch(tiny_bundle, tmp_path)
    try:
        statuses = []
        for _ in range(600):
            try:
                response = httpx.get(server.url + "/health/ready", timeout=2)
            except httpx.TransportError:
                time.sleep(0.02)
                continue
            statuses.append(response.status_code)
            if response.status_code == 200:
                break
            time.sleep(0.01)
        assert statuses[-1] == 200
        assert set(statuses) <= {200, 503}
        assert httpx.get(server.url + "/v2/health/ready").status_code == 200
        assert httpx.get(server.url + "/v2/health/live").status_code == 200
    finally:
        server.stop()
