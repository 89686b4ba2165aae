"""The HTTP contract against a real server: offsets, filters, limits, errors, auth, headers."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import httpx
import pytest

from app.keys import add_key
from tests.support import ServerProcess

NOTE = "Patient presents with chest pain. Troponin was ordered. Started on aspirin 81 mg daily."


def post(server: ServerProcess, body: object, **kwargs: object) -> httpx.Response:
    return httpx.post(server.url + "/extract", json=body, timeout=30, **kwargs)  # type: ignore[arg-type]


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    assert {"type", "message"} <= set(body["error"])
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "text",
    [
        "😀😀 Chest pain with fever 😀. Aspirin given 💊.",  # astral characters: 2 UTF-16 units, 4 UTF-8 bytes
        "患者胸痛。 Chest pain and fever; 阿司匹林 aspirin.",  # CJK: 3 UTF-8 bytes
        "Cafe\u0301 owner with che\u0301st pain, given aspirin.",  # combining marks
        "Chest pain.\r\nFever.\r\nStarted aspirin 81 mg.\r\n",  # CRLF
    ],
)
def test_offsets_in_every_encoding(tiny_server: ServerProcess, text: str) -> None:
    results = {enc: post(tiny_server, {"text": text * 3, "offset_encoding": enc}) for enc in ("codepoint", "utf16",
                                                                                              "utf8")}
    assert all(r.status_code == 200 for r in results.values())
    full = text * 3
    spans = {enc: r.json()["documents"][0]["entities"] for enc, r in results.items()}
    assert len(spans["codepoint"]) == len(spans["utf16"]) == len(spans["utf8"])
    utf16, utf8 = full.encode("utf-16-le"), full.encode("utf-8")
    for cp, u16, u8 in zip(spans["codepoint"], spans["utf16"], spans["utf8"], strict=True):
        assert full[cp["start"] : cp["end"]] == cp["text"]
        assert utf16[2 * u16["start"] : 2 * u16["end"]].decode("utf-16-le") == cp["text"] == u16["text"]
        assert utf8[u8["start"] : u8["end"]].decode("utf-8") == cp["text"] == u8["text"]


def test_shorthand_and_labels_filter(tiny_server: ServerProcess) -> None:
    everything = post(tiny_server, {"text": NOTE * 4}).json()
    assert everything["documents"][0]["id"] == "0"
    labels = {e["label"] for e in everything["documents"][0]["entities"]}
    assert labels, "the tiny model found nothing to filter"
    keep = sorted(labels)[0]
    filtered = post(tiny_server, {"text": NOTE * 4, "labels": [keep]}).json()
    assert filtered["documents"][0]["entities"] == [
        e for e in everything["documents"][0]["entities"] if e["label"] == keep
    ]


def test_documents_are_answered_in_order_even_with_repeated_ids(tiny_server: ServerProcess) -> None:
    texts = ["Chest pain.", NOTE, "Fever."]
    body = post(tiny_server, {"documents": [{"id": "same", "text": t} for t in texts]}).json()
    assert [d["id"] for d in body["documents"]] == ["same"] * 3
    assert [d["stats"]["characters"] for d in body["documents"]] == [len(t) for t in texts]


def test_headers_carry_model_timing_and_request_id(tiny_server: ServerProcess) -> None:
    response = post(tiny_server, {"text": NOTE}, headers={"X-Request-ID": "hl7-msg-0042"})
    model = response.json()["model"]
    assert response.headers["x-clinx-model"] == f"{model['name']}/{model['version']}/{model['sha256']}"
    for header in ("x-clinx-queue-time-ms", "x-clinx-inference-time-ms", "x-clinx-tokenize-time-ms"):
        assert float(response.headers[header]) >= 0
    assert response.headers["x-request-id"] == "hl7-msg-0042"
    generated = post(tiny_server, {"text": NOTE}).headers["x-request-id"]
    assert len(generated) == 32


@pytest.mark.parametrize(
    ("body", "status", "kind"),
    [
        ({"text": NOTE, "labels": ["nonsense"]}, 422, "unknown_label"),
        ({"text": NOTE, "model": "nope"}, 404, "unknown_model"),
        ({"text": None, "documents": [{"id": "a", "text": "x"}]}, 422, "validation_error"),
        ({"text": NOTE, "extra": 1}, 422, "validation_error"),
        ({"text": 5}, 422, "validation_error"),
        ({"documents": [{"id": "a"}]}, 422, "validation_error"),
        ({"text": NOTE, "documents": []}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ([1, 2], 422, "validation_error"),
        ({"text": NOTE, "offset_encoding": "latin1"}, 422, "validation_error"),
        ({"text": NOTE, "timeout_s": -1}, 422, "validation_error"),
    ],
)
def test_schema_errors(tiny_server: ServerProcess, body: object, status: int, kind: str) -> None:
    response = post(tiny_server, body)
    assert response.status_code == status, response.text
    assert error_of(response)["type"] == kind


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"documents": [{"id": "a", "text": 5}]}, [(["documents", 0, "text"], "Input should be a valid string")]),
        ({"documents": [{"id": "a"}]}, [(["documents", 0, "text"], "Field required")]),
        ({"documents": {"id": "a", "text": NOTE}}, [(["documents"], "Input should be a valid list")]),
        ({"text": 5}, [(["text"], "Input should be a valid string")]),
        ({"text": NOTE, "labels": "problem"}, [(["labels"], "Input should be a valid list")]),
        ({"documents": [{"id": "a", "text": NOTE, "note": NOTE}], "labels": [1]},
         [(["documents", 0, "note"], "Extra inputs are not permitted"),
          (["labels", 0], "Input should be a valid string")]),
        ({}, [([], "give either documents or text, not both and not neither")]),
    ],
)
def test_schema_errors_say_where_as_the_client_wrote_it(tiny_server: ServerProcess, body: object,
                                                         detail: list[tuple[list[object], str]]) -> None:
    """An optional field's None branch and pydantic's type names are not the client's business."""
    error = error_of(post(tiny_server, body))
    assert [(problem["loc"], problem["msg"]) for problem in error["detail"]] == detail  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "kind"),
    [
        (b'{"text": "chest pain"', "application/json", 400, "invalid_json"),
        (b'{"text": "\xff\xfe chest"}', "application/json", 400, "invalid_utf8"),
        (b'{"text": "\\ud800 chest"}', "application/json", 400, "invalid_text"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400, "invalid_json"),
        (b'{"text": "chest pain"}', "text/plain", 415, "unsupported_media_type"),
        (b'{"text": "chest pain"}', "", 415, "unsupported_media_type"),
    ],
)
def test_protocol_errors(tiny_server: ServerProcess, content: bytes, content_type: str, status: int,
                         kind: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.post(tiny_server.url + "/extract", content=content, headers=headers, timeout=30)
    assert response.status_code == status, response.text
    assert error_of(response)["type"] == kind


def test_limits_name_the_document(tiny_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_bundle, tmp_path, max_documents=3, max_document_chars=500,
                             max_body_bytes=20_000) as server:
        too_many = post(server, {"documents": [{"id": str(i), "text": "x"} for i in range(4)]})
        too_long = post(server, {"documents": [{"id": "ok", "text": "x"}, {"id": "mrn-77", "text": "y" * 501}]})
        too_big = post(server, {"text": "z" * 30_000})
        at_limit = post(server, {"documents": [{"id": "edge", "text": ((NOTE + " ") * 6)[:500]}]})
    assert too_many.status_code == 413 and error_of(too_many)["type"] == "too_many_documents"
    assert too_long.status_code == 413
    error = error_of(too_long)
    assert error["type"] == "document_too_large"
    assert error["detail"] == {"index": 1, "characters": 501, "limit": 500}
    assert "mrn-77" not in too_long.text  # a document id can be a record number: never echoed
    assert too_big.status_code == 413 and error_of(too_big)["type"] == "payload_too_large"
    assert at_limit.status_code == 200
    assert at_limit.json()["documents"][0]["stats"]["characters"] == 500


def test_api_keys(tiny_bundle: Path, tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    file_key = add_key(keys_file, "ehr")  # the file holds its hash only
    with ServerProcess.start(tiny_bundle, tmp_path, api_keys="env-key", api_keys_file=keys_file) as server:
        missing = post(server, {"text": NOTE})
        wrong = post(server, {"text": NOTE}, headers={"Authorization": "Bearer nope"})
        bearer = post(server, {"text": NOTE}, headers={"Authorization": "Bearer env-key"})
        x_api_key = post(server, {"text": NOTE}, headers={"X-API-Key": file_key})
        health = httpx.get(server.url + "/health/ready")
        metrics = httpx.get(server.url + "/metrics")
        info = httpx.get(server.url + "/info")
    assert missing.status_code == 401 and error_of(missing)["type"] == "unauthorized"
    assert wrong.status_code == 403 and error_of(wrong)["type"] == "forbidden"
    assert bearer.status_code == 200 and x_api_key.status_code == 200
    assert health.status_code == 200 and metrics.status_code == 200  # open by default
    assert info.status_code == 401


def test_protected_probes_and_cors(tiny_bundle: Path, tmp_path: Path) -> None:
    with ServerProcess.start(tiny_bundle, tmp_path, api_keys="k", protect_health=True, protect_metrics=True,
                             cors_origins="https://ehr.example.org", wait_ready=False) as server:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(server.url + "/health/ready", headers={"X-API-Key": "k"}).status_code == 200:
                    break
            time.sleep(0.1)
        health = httpx.get(server.url + "/health/live")
        metrics = httpx.get(server.url + "/metrics")
        preflight = httpx.options(server.url + "/extract", headers={
            "Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST"})
        other = httpx.options(server.url + "/extract", headers={
            "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
    assert health.status_code == 401 and metrics.status_code == 401
    assert preflight.headers.get("access-control-allow-origin") == "https://ehr.example.org"
    assert "access-control-allow-origin" not in other.headers


def test_cors_is_off_by_default(tiny_server: ServerProcess) -> None:
    response = httpx.options(tiny_server.url + "/extract", headers={
        "Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in response.headers


def test_two_bundles_chosen_by_model(tiny_bundle: Path, tmp_path: Path) -> None:
    second = tmp_path / "second"
    import shutil

    shutil.copytree(tiny_bundle, second)
    manifest = json.loads((second / "manifest.json").read_text())
    manifest["name"] = "tiny-deid"
    (second / "manifest.json").write_text(json.dumps(manifest))
    with ServerProcess.start(f"{tiny_bundle},{second}", tmp_path) as server:
        default = post(server, {"text": NOTE})
        chosen = post(server, {"text": NOTE, "model": "tiny-deid"})
        info = httpx.get(server.url + "/info").json()
    assert default.json()["model"]["name"] == "tiny-xlmr"
    assert chosen.json()["model"]["name"] == "tiny-deid"
    assert default.json()["documents"] == chosen.json()["documents"]
    assert [m["name"] for m in info["models"]] == ["tiny-xlmr", "tiny-deid"]


def test_openapi_documents_the_request_body(tiny_server: ServerProcess) -> None:
    spec = httpx.get(tiny_server.url + "/openapi.json").json()
    body = spec["paths"]["/extract"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ExtractRequest"}
    assert "ExtractRequest" in spec["components"]["schemas"]
    assert "examples" in spec["components"]["schemas"]["ExtractRequest"]
    assert {"413", "429", "504"} <= set(spec["paths"]["/extract"]["post"]["responses"])
