"""Named clients against a real server: a hashed keys file, and keys added, revoked and rotated while it serves."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx

from app.keys import add_key, hash_key, revoke, rotate
from tests.support import ServerProcess
from tests.test_reliability_support import metric, metrics_of

NOTE = "Patient presents with chest pain. Started on aspirin 81 mg daily."
RELOAD_WAIT_S = 15.0  # generous: the server polls every 0.2 s in these tests


def post(server: ServerProcess, key: str | None, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.post(server.url + "/extract", json={"text": NOTE}, headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RELOAD_WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {RELOAD_WAIT_S} s: {what}")


def test_hashed_keys_file_names_every_client_in_logs_and_metrics(tiny_bundle: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    ehr, research = add_key(keys, "ehr"), add_key(keys, "research")
    assert ehr not in keys.read_text()
    with ServerProcess.start(tiny_bundle, tmp_path, api_keys_file=keys, api_keys="dev-key") as server:
        statuses = [post(server, key).status_code for key in (ehr, ehr, research, "dev-key", "wrong", None)]
        x_api_key = httpx.post(server.url + "/extract", json={"text": NOTE}, headers={"X-API-Key": research})
        info = httpx.get(server.url + "/info", headers={"X-API-Key": ehr})
        text = metrics_of(server)
        records = [r for r in server.log_records() if r.get("logger") == "clinx.access"]
    assert statuses == [200, 200, 200, 200, 403, 401] and x_api_key.status_code == 200
    assert info.status_code == 200
    by_client = {client: metric(text, "clinx_requests_total", route="/extract", client=client)
                 for client in ("ehr", "research", "env-1", "unknown")}
    assert by_client == {"ehr": 2, "research": 2, "env-1": 1, "unknown": 2}
    assert metric(text, "clinx_errors_total", type="forbidden", client="unknown") == 1
    assert metric(text, "clinx_errors_total", type="unauthorized", client="unknown") == 1
    assert metric(text, "clinx_request_duration_seconds_count", route="/extract", client="ehr") == 2
    assert [r["client"] for r in records if r["route"] == "/extract"] == [
        "ehr", "ehr", "research", "env-1", "unknown", "unknown", "research"]


def test_without_keys_every_request_is_anonymous(tiny_server: ServerProcess) -> None:
    assert post(tiny_server, None).status_code == 200
    text = metrics_of(tiny_server)
    assert metric(text, "clinx_requests_total", route="/extract", status="200", client="anonymous") >= 1
    assert 'client="anonymous"' in text and 'client="unknown"' not in text


def test_keys_added_revoked_and_rotated_while_serving(tiny_bundle: Path, tmp_path: Path) -> None:
    """No restart; a request authenticated before its key is revoked still completes."""
    keys = tmp_path / "keys"
    ehr = add_key(keys, "ehr")
    gate = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        text = json.dumps({"text": NOTE}).encode()
        yield text[:10]
        await gate.wait()
        yield text[10:]

    async def scenario(server: ServerProcess) -> dict[str, object]:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
            headers = {"Authorization": f"Bearer {ehr}", "content-type": "application/json"}
            in_flight = asyncio.create_task(client.post("/extract", content=body(), headers=headers))
            await asyncio.sleep(0.5)  # its headers are in: authenticated, now reading the body
            assert not in_flight.done()
            research = await asyncio.to_thread(add_key, keys, "research")
            await asyncio.to_thread(revoke, keys, "ehr")
            await asyncio.to_thread(wait_until, lambda: post(server, research).status_code == 200,
                                    "the added key accepted")
            revoked = await asyncio.to_thread(post, server, ehr)
            gate.set()
            return {"in_flight": await in_flight, "revoked": revoked, "research": research}

    with ServerProcess.start(tiny_bundle, tmp_path, api_keys_file=keys, keys_reload_s=0.2) as server:
        pid = server.process.pid
        result = asyncio.run(scenario(server))
        research = str(result["research"])
        new_research = rotate(keys, "research")
        wait_until(lambda: post(server, research).status_code == 403, "the rotated-out key refused")
        rotated = post(server, new_research)
        assert server.process.pid == pid and server.process.poll() is None  # never restarted
        records = server.log_records()
    assert result["in_flight"].status_code == 200  # type: ignore[attr-defined]
    assert result["revoked"].status_code == 403  # type: ignore[attr-defined]
    assert rotated.status_code == 200
    reloads = [r for r in records if r.get("message", "").startswith("keys file reloaded")]
    assert reloads and any("research" in r.get("added", []) for r in reloads)
    log = server.log()
    for key in (ehr, research, new_research):
        assert key not in log


def test_sighup_reloads_at_once_and_a_broken_file_keeps_the_clients_in_force(tiny_bundle: Path,
                                                                              tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    ehr = add_key(keys, "ehr")
    with ServerProcess.start(tiny_bundle, tmp_path, api_keys_file=keys, keys_reload_s=3600) as server:
        research = add_key(keys, "research")
        assert post(server, research).status_code == 403  # no poll for an hour
        server.process.send_signal(signal.SIGHUP)
        wait_until(lambda: post(server, research).status_code == 200, "SIGHUP reload")
        keys.write_text(keys.read_text() + "some-plain-key\n")
        server.process.send_signal(signal.SIGHUP)
        wait_until(lambda: "keys file not reloaded" in server.log(), "the broken file reported")
        still = [post(server, key).status_code for key in (ehr, research, "some-plain-key")]
        alive = server.process.poll() is None
    assert still == [200, 200, 403] and alive
    assert "some-plain-key" not in server.log()


def test_revoking_the_last_client_locks_the_server_rather_than_opening_it(tiny_bundle: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    ehr = add_key(keys, "ehr")
    with ServerProcess.start(tiny_bundle, tmp_path, api_keys_file=keys, keys_reload_s=0.2) as server:
        revoke(keys, "ehr")
        wait_until(lambda: post(server, ehr).status_code == 403, "the revoked key refused")
        anonymous = post(server, None)
    assert anonymous.status_code == 401


def test_a_file_of_plain_keys_stops_the_server_with_the_migration_step(tiny_bundle: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"ehr:{hash_key('fine')}\nold-plain-key-1\n")
    server = ServerProcess.launch(tiny_bundle, tmp_path, api_keys_file=keys)
    try:
        code = server.wait_exit(60)
    finally:
        server.stop()
    log = server.log()
    assert code == 2
    assert f"{keys} line 2" in log and "clinx keys migrate" in log and "old-plain-key-1" not in log
