"""A sentinel inside notes never reaches a log line or an error body, on any path."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import onnx

from app.bundle import file_entry
from app.keys import add_key
from tests.support import ServerProcess

T = TypeVar("T")
SENTINEL = "ZQXPHI4711 Jane Doe MRN 0042-1337"
NOTE = f"Patient {SENTINEL} presents with chest pain. Started on aspirin 81 mg daily. {SENTINEL}."


def requests_with_sentinel() -> list[tuple[str, dict[str, object]]]:
    """(what, httpx.post keyword arguments) for every client-side error and success path."""
    raw = json.dumps({"text": NOTE}).encode()
    return [
        ("ok", {"json": {"documents": [{"id": "1", "text": NOTE}]}}),
        ("ok-utf16", {"json": {"text": NOTE, "offset_encoding": "utf16"}}),
        ("invalid_json", {"content": raw[:-5], "headers": {"content-type": "application/json"}}),
        ("invalid_utf8", {"content": raw[:-2] + b"\xff\"}", "headers": {"content-type": "application/json"}}),
        ("lone_surrogate", {"content": raw[:-2] + b'\\udc00"}', "headers": {"content-type": "application/json"}}),
        ("media_type", {"content": raw, "headers": {"content-type": "text/plain"}}),
        ("schema_type", {"json": {"documents": [{"id": "1", "text": NOTE, "extra": NOTE}]}}),
        ("schema_text_type", {"json": {"documents": [{"id": "1", "text": [NOTE]}]}}),
        ("both_forms", {"json": {"text": NOTE, "documents": [{"id": "1", "text": NOTE}]}}),
        ("unknown_label", {"json": {"text": NOTE, "labels": [SENTINEL]}}),
        ("too_large", {"json": {"documents": [{"id": "1", "text": NOTE * 100}]}}),
        ("body_too_large", {"json": {"text": NOTE * 1000}}),
        ("deadline_too_short", {"json": {"text": NOTE, "timeout_s": 0.001}}),
    ]


def assert_clean(server: ServerProcess, bodies: list[str]) -> None:
    log = server.log()
    assert log, "the server logged nothing"
    for fragment in (SENTINEL, "ZQXPHI4711", "Jane Doe", "0042-1337"):
        assert fragment not in log
        for body in bodies:
            if fragment in body:
                raise AssertionError(f"sentinel in a response body: {body[:200]}")


def test_sentinel_never_leaks_on_client_paths(tiny_bundle: Path, tmp_path: Path) -> None:
    bodies: list[str] = []
    with ServerProcess.start(tiny_bundle, tmp_path, max_document_chars=2000, max_body_bytes=50_000,
                             log_level="debug") as server:
        for what, kwargs in requests_with_sentinel():
            response = httpx.post(server.url + "/extract", timeout=30, **kwargs)  # type: ignore[arg-type]
            if what.startswith("ok"):
                assert response.status_code == 200
            else:
                assert 400 <= response.status_code < 500 or response.status_code == 504, (what, response.text)
                bodies.append(response.text)
        for path in ("/info", "/metrics", "/health/ready"):
            bodies.append(httpx.get(server.url + path).text)
    assert_clean(server, bodies)


def run_to_shutdown(scenario: Callable[[ServerProcess], Coroutine[Any, Any, T]], bundle: Path, log_dir: Path,
                    **settings: Any) -> tuple[ServerProcess, T]:
    """A server runs ``scenario``, which ends by sending SIGTERM; the server drains and exits 0."""
    server = ServerProcess.launch(bundle, log_dir, **settings)
    try:
        server.wait_ready()
        result = asyncio.run(scenario(server))
        assert server.wait_exit(15) == 0
    finally:
        server.stop()
    return server, result


def test_sentinel_never_leaks_on_auth_overload_and_shutdown(tiny_bundle: Path, tmp_path: Path) -> None:
    async def scenario(server: ServerProcess) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            headers = {"X-API-Key": "k"}
            unauth = await client.post("/extract", json={"text": NOTE})
            forbidden = await client.post("/extract", json={"text": NOTE}, headers={"X-API-Key": SENTINEL})
            expired = await client.post("/extract", json={"text": NOTE, "timeout_s": 0.3}, headers=headers)
            first = asyncio.create_task(client.post("/extract", json={"text": NOTE * 5}, headers=headers))
            await asyncio.sleep(0.4)
            overloaded = await client.post("/extract", json={"text": NOTE * 5}, headers=headers)
            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            draining = await client.post("/extract", json={"text": NOTE}, headers=headers)
            return [unauth, forbidden, expired, overloaded, draining, await first]

    server, responses = run_to_shutdown(scenario, tiny_bundle, tmp_path, api_keys="k", max_queue_delay_ms=1500,
                                        max_queue_tokens=200, max_batch_tokens=100_000, log_level="debug")
    assert [r.status_code for r in responses] == [401, 403, 504, 429, 503, 200]
    assert_clean(server, [r.text for r in responses])


def broken_at_runtime(bundle: Path, target: Path) -> Path:
    """A bundle whose int8 graph accepts only full-length windows: warm-up passes, short requests fail."""
    shutil.copytree(bundle, target)
    manifest = json.loads((target / "manifest.json").read_text())
    variant = manifest["members"][0]["variants"]["int8"]
    model = onnx.load(str(target / variant["file"]))
    for graph_input in model.graph.input:
        graph_input.type.tensor_type.shape.dim[1].dim_value = manifest["max_length"]
    onnx.save(model, str(target / variant["file"]))
    variant.update(file_entry(target, variant["file"]).model_dump())
    (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def test_sentinel_never_leaks_on_a_server_side_exception(tiny_bundle: Path, tmp_path: Path) -> None:
    bundle = broken_at_runtime(tiny_bundle, tmp_path / "broken")
    with ServerProcess.start(bundle, tmp_path, log_level="debug") as server:
        failed = httpx.post(server.url + "/extract", json={"text": NOTE}, timeout=30)
        after = httpx.get(server.url + "/health/live")
    assert failed.status_code == 500
    assert failed.json()["error"]["type"] == "internal_error"
    assert after.status_code == 200
    assert_clean(server, [failed.text])
    assert any(record.get("level") == "error" for record in server.log_records())


DEID_SECRET = "phi-test-deid-secret-0123456789"


def deidentify_requests_with_sentinel() -> list[tuple[str, dict[str, object]]]:
    """/deidentify's success and client-error paths, with the sentinel in text, keys and options."""
    document = {"id": SENTINEL, "text": NOTE, "patient_key": SENTINEL}
    return [
        ("ok-tag", {"json": {"documents": [document]}}),
        ("ok-keyed", {"json": {"documents": [document], "offset_encoding": "utf8",
                               "operators": {"NAME": "surrogate", "DATE": "date_shift", "ID": "hash"}}}),
        ("ok-mask", {"json": {"documents": [document], "operators": {"DEFAULT": {"operator": "mask", "char": "#"}}}}),
        ("wrong_model", {"json": {"documents": [document], "model": "tiny-xlmr"}}),
        ("unknown_key", {"json": {"documents": [document], "operators": {SENTINEL: "tag"}}}),
        ("unknown_operator", {"json": {"documents": [document], "operators": {"NAME": SENTINEL}}}),
        ("unknown_key_and_value", {"json": {"documents": [document], "operators": {SENTINEL: {"operator": SENTINEL}}}}),
        ("bad_option", {"json": {"documents": [document], "operators": {"NAME": {"operator": "tag", "char": "Z"}}}}),
        ("patient_key_too_long", {"json": {"documents": [{**document, "patient_key": SENTINEL * 20}]}}),
        ("too_large", {"json": {"documents": [{**document, "text": NOTE * 100}]}}),
        ("deadline_too_short", {"json": {"documents": [document], "timeout_s": 0.001}}),
    ]


def test_sentinel_never_leaks_from_deidentify(tiny_bundle: Path, tiny_deid_bundle: Path, tmp_path: Path) -> None:
    bodies: list[str] = []
    with ServerProcess.start(f"{tiny_bundle},{tiny_deid_bundle}", tmp_path, max_document_chars=2000,
                             deid_secret=DEID_SECRET, log_level="debug") as server:
        for what, kwargs in deidentify_requests_with_sentinel():
            response = httpx.post(server.url + "/deidentify", timeout=30, **kwargs)  # type: ignore[arg-type]
            if what.startswith("ok"):
                assert response.status_code == 200, (what, response.text)
                for item in response.json()["documents"][0]["items"]:
                    assert set(item) == {"start", "end", "new_start", "new_end", "label", "category", "operator"}
            else:
                assert 400 <= response.status_code < 500 or response.status_code == 504, (what, response.text)
                bodies.append(response.text)
        for path in ("/info", "/metrics"):
            bodies.append(httpx.get(server.url + path).text)
    with ServerProcess.start(tiny_deid_bundle, tmp_path, log_level="debug") as keyless:
        refused = httpx.post(keyless.url + "/deidentify", timeout=30,
                             json={"documents": [{"id": SENTINEL, "text": NOTE}], "operators": {"NAME": "hash"}})
    assert refused.status_code == 422
    assert_clean(server, [*bodies, refused.text])
    assert_clean(keyless, [])
    assert DEID_SECRET not in server.log() and all(DEID_SECRET not in body for body in bodies)


DOCUMENT_ID = "MRN-ZQX-55501"  # ids can be record numbers: never in a log line


def test_audit_trail_has_every_outcome_and_no_text_id_or_key(tiny_bundle: Path, tmp_path: Path) -> None:
    """One audit line per request to /extract, for success and each error type, naming the client; the
    note's text, its id and the keys are in no line of the audit file or of the log."""
    keys = tmp_path / "keys"
    key = add_key(keys, "ehr")
    wrong_key = f"{SENTINEL} not a key"
    audit_file = tmp_path / "audit.jsonl"

    async def scenario(server: ServerProcess) -> dict[str, httpx.Response]:
        headers = {"Authorization": f"Bearer {key}"}
        answers: dict[str, httpx.Response] = {}
        async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=headers) as client:
            document = {"documents": [{"id": DOCUMENT_ID, "text": NOTE}]}
            answers["ok"] = await client.post("/extract", json=document)
            answers["unauthorized"] = await client.post("/extract", json=document, headers={"Authorization": ""})
            answers["forbidden"] = await client.post("/extract", json=document,
                                                     headers={"Authorization": f"Bearer {wrong_key}"})
            for what, kwargs in requests_with_sentinel():
                if what in ("invalid_json", "media_type", "schema_type", "too_large", "body_too_large"):
                    answers[what] = await client.post("/extract", **kwargs)  # type: ignore[arg-type]
            answers["unknown_model"] = await client.post("/extract", json={**document, "model": SENTINEL})
            answers["deadline"] = await client.post("/extract", json={**document, "timeout_s": 0.3})
            with contextlib.suppress(httpx.TimeoutException):  # the client gives up: 499 on the server
                await client.post("/extract", json=document, timeout=0.3)
            first = asyncio.create_task(client.post("/extract", json={"text": NOTE * 5}))
            await asyncio.sleep(0.4)
            answers["queue_full"] = await client.post("/extract", json={"text": NOTE * 5})
            server.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.2)
            answers["draining"] = await client.post("/extract", json=document)
            answers["ok-after"] = await first
        return answers

    server, answers = run_to_shutdown(scenario, tiny_bundle, tmp_path, api_keys_file=keys, audit_log_file=audit_file,
                                      log_level="warning", max_document_chars=2000, max_body_bytes=50_000,
                                      max_queue_delay_ms=1500, max_queue_tokens=200, max_batch_tokens=100_000)
    statuses = {what: response.status_code for what, response in answers.items()}
    assert statuses == {"ok": 200, "unauthorized": 401, "forbidden": 403, "invalid_json": 400, "media_type": 415,
                        "schema_type": 422, "too_large": 413, "body_too_large": 413, "unknown_model": 404,
                        "deadline": 504, "queue_full": 429, "draining": 503, "ok-after": 200}
    lines = [json.loads(line) for line in audit_file.read_text().splitlines()]
    assert all(line["logger"] == "clinx.audit" and line["route"] == "/extract" for line in lines)
    assert len(lines) == len(answers) + 1  # and the request whose client hung up
    by_error = {line["error"]: line for line in lines}
    assert set(by_error) == {None, "unauthorized", "forbidden", "invalid_json", "unsupported_media_type",
                             "validation_error", "document_too_large", "payload_too_large", "unknown_model",
                             "deadline_exceeded", "client_closed", "queue_full", "not_ready"}
    assert by_error["client_closed"]["status"] == 499 and by_error["deadline_exceeded"]["status"] == 504
    assert {line["client"] for line in lines if line["status"] in (401, 403)} == {"unknown"}
    assert {line["client"] for line in lines if line["status"] not in (401, 403)} == {"ehr"}
    ok = lines[0]
    entities = sum(len(document["entities"]) for document in answers["ok"].json()["documents"])
    model = answers["ok"].json()["model"]
    assert (ok["status"], ok["documents"], ok["characters"], ok["entities"]) == (200, 1, len(NOTE), entities)
    assert (ok["model"], ok["model_version"]) == (model["name"], model["version"])
    assert ok["request_id"] == answers["ok"].headers["x-request-id"] and ok["latency_ms"] > 0
    trail, log = audit_file.read_text(), server.log()
    assert not any(record.get("logger") == "clinx.audit" for record in server.log_records())  # in its file only
    for secret in (SENTINEL, "ZQXPHI4711", "Jane Doe", "0042-1337", DOCUMENT_ID, key, wrong_key):
        assert secret not in trail and secret not in log
