"""Hostile input against a real server (issue 9): exact offsets on hostile text, protocol abuse, huge bodies.

Every answer is a 200 or a precise 4xx, never a 5xx; a PHI sentinel inside the notes reaches no log
line and no error body.
"""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support import ServerProcess, rss_bytes
from tests.test_reliability_support import (
    NOTE,
    PHI_NOTE,
    SENTINEL,
    assert_no_phi,
    error_records,
    error_type,
    metric,
    metrics_of,
    request_head,
)

MAX_BODY = 1_000_000
ENCODINGS = ("codepoint", "utf16", "utf8")


@pytest.fixture(scope="module")
def hostile_server(tiny_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """fp32 (batch-invariant, so the three encodings' requests see the same spans), debug logging."""
    with ServerProcess.start(tiny_bundle, tmp_path_factory.mktemp("hostile"), variant="fp32",
                             max_body_bytes=MAX_BODY, max_document_chars=30_000, log_level="debug") as server:
        yield server


# --- hostile text -----------------------------------------------------------------------------------------

WORDS = ["chest", "pain", "aspirin", "Troponin", "fever", "CT", "81 mg", "diabetes", "metformin", ".", ",", "?",
         "Dr.", "e.g.", "(", ")", "-", "/", "1.5", SENTINEL]
HOSTILE = [
    "e\u0301", "\u0301", "\u0308\u0301\u0323", "n\u0303o", "\u20dd",  # combining marks, also leading
    "😀", "👩\u200d⚕️", "🇺🇸", "👍🏽", "𝔸𝔹", "𠀀", "\U0010fffd",  # emoji, ZWJ, flags, modifiers, astral
    "ألم في الصدر", "כאב בחזה", "\u200f", "\u202e", "\u202c", "\u061c",  # RTL text and controls
    "\u00a0", "\u2007", "\u202f", "\u3000",  # NBSP and other spaces
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u2060",  # zero-width
    "\r\n", "\r", "\n", "\n\n\n", "\t", "\x0b", "\x0c",  # line ends, lone CR, tabs
    "\x00", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029", "\x7f", "\x1b[31m",  # controls
    "患者胸痛", "Ünïcödé", "ß", "ﬁ", "İ",  # CJK; characters whose case mapping changes length
]
EDGE_DOCUMENTS = ["", " ", "\n", "\r\n\t \u00a0", "\u200b\u200b", "x", "😀", "\u0301", "\x00", "\r", SENTINEL]


def long_words() -> st.SearchStrategy[str]:
    """A 'word' of thousands of characters with no space in it."""
    units = st.sampled_from(["a", "chestpain", "é", "e\u0301", "😀", "ب", "\u200b", "-", "患", "0"])
    return st.builds(lambda unit, count: (unit * count)[:6000], units, st.integers(1000, 6000))


def fragments() -> st.SearchStrategy[str]:
    arbitrary = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
    return st.one_of(
        st.sampled_from(WORDS), st.sampled_from(WORDS), st.sampled_from(HOSTILE), st.sampled_from(HOSTILE),
        st.just(" "), arbitrary,
    )


def documents() -> st.SearchStrategy[str]:
    prose = st.lists(fragments(), max_size=40).map("".join)
    with_long_word = st.tuples(prose, long_words(), prose).map("".join)
    return st.one_of(prose, prose, prose, with_long_word, st.sampled_from(EDGE_DOCUMENTS))


def extract(server: ServerProcess, texts: list[str], encoding: str) -> dict[str, Any]:
    body = {"documents": [{"id": f"doc-{i}", "text": text} for i, text in enumerate(texts)],
            "offset_encoding": encoding}
    response = httpx.post(server.url + "/extract", json=body, timeout=60)
    assert response.status_code == 200, (encoding, response.status_code, response.text[:500])
    result: dict[str, Any] = response.json()
    return result


def slice_in(text: str, start: int, end: int, encoding: str) -> str:
    """``text`` between two offsets counted in ``encoding`` units."""
    if encoding == "codepoint":
        return text[start:end]
    if encoding == "utf16":
        return text.encode("utf-16-le")[2 * start : 2 * end].decode("utf-16-le")
    return text.encode("utf-8")[start:end].decode("utf-8")


def units(text: str, encoding: str) -> int:
    if encoding == "codepoint":
        return len(text)
    return len(text.encode("utf-16-le")) // 2 if encoding == "utf16" else len(text.encode("utf-8"))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts=st.lists(documents(), min_size=1, max_size=4))
def test_hostile_text_keeps_offsets_exact_in_every_encoding(hostile_server: ServerProcess, texts: list[str]) -> None:
    answers = {encoding: extract(hostile_server, texts, encoding) for encoding in ENCODINGS}
    for encoding, answer in answers.items():
        assert [d["id"] for d in answer["documents"]] == [f"doc-{i}" for i in range(len(texts))]
        for text, document in zip(texts, answer["documents"], strict=True):
            assert document["stats"]["characters"] == len(text)
            assert document["stats"]["truncated"] is False
            previous_end = 0
            for entity in document["entities"]:
                start, end = entity["start"], entity["end"]
                assert previous_end <= start < end <= units(text, encoding), (encoding, entity)  # ordered, disjoint
                assert slice_in(text, start, end, encoding) == entity["text"], (encoding, entity)
                assert not entity["text"][0].isspace() and not entity["text"][-1].isspace()
                assert 0 <= entity["score"] <= 1
                previous_end = end
    entities = sum(len(d["entities"]) for d in answers["codepoint"]["documents"])
    event("entities found" if entities else "no entities")
    event("holds astral characters" if any(ord(c) > 0xFFFF for t in texts for c in t) else "BMP only")
    long_word = any(len(word) >= 1000 for text in texts for word in text.split())
    event("holds a word of 1000+ characters" if long_word else "short words")
    # The same spans in every unit: only the numbers change.
    spans = {encoding: [[(e["text"], e["label"]) for e in d["entities"]] for d in answer["documents"]]
             for encoding, answer in answers.items()}
    assert spans["codepoint"] == spans["utf16"] == spans["utf8"]


def test_hostile_text_left_no_trace(hostile_server: ServerProcess) -> None:
    """Runs after the property test in this module: its notes held the sentinel, the log must not."""
    response = httpx.post(hostile_server.url + "/extract", json={"text": PHI_NOTE + "\x00\u2028😀"}, timeout=30)
    assert response.status_code == 200
    assert not error_records(hostile_server), error_records(hostile_server)
    requests = metrics_of(hostile_server)
    assert metric(requests, "clinx_requests_total", route="/extract", status="200") >= 1
    assert not re.search(r'^clinx_requests_total\{route="/extract",status="5\d\d"', requests, re.MULTILINE)
    assert_no_phi(hostile_server)


# --- protocol abuse ---------------------------------------------------------------------------------------

PHI_JSON = json.dumps({"text": PHI_NOTE})
JSON = "application/json"


def nested(depth: int) -> str:
    """A document whose text is ``depth`` levels of objects: valid JSON, too deep for the server."""
    inner = json.dumps(SENTINEL)
    for _ in range(depth):
        inner = '{"a": ' + inner + "}"
    return '{"documents": [{"id": "n", "text": ' + inner + "}]}"


PROTOCOL_CASES: list[tuple[str, str, bytes, str, int, str]] = [
    # (name, method, body, content type, status, error type)
    ("json-string", "POST", json.dumps(PHI_NOTE).encode(), JSON, 422, "validation_error"),
    ("json-number", "POST", b"42", JSON, 422, "validation_error"),
    ("json-float", "POST", b"-1.5e300", JSON, 422, "validation_error"),
    ("json-null", "POST", b"null", JSON, 422, "validation_error"),
    ("json-true", "POST", b"true", JSON, 422, "validation_error"),
    ("empty-body", "POST", b"", JSON, 400, "invalid_json"),
    ("whitespace-body", "POST", b" \r\n\t ", JSON, 400, "invalid_json"),
    ("not-json", "POST", f"text={SENTINEL}".encode(), JSON, 400, "invalid_json"),
    ("json-then-garbage", "POST", (PHI_JSON + f" {SENTINEL}").encode(), JSON, 400, "invalid_json"),
    ("utf8-bom", "POST", b"\xef\xbb\xbf" + PHI_JSON.encode(), JSON, 400, "invalid_json"),
    ("utf16-body", "POST", PHI_JSON.encode("utf-16"), JSON, 400, "invalid_utf8"),
    ("huge-integer", "POST", b'{"text": "' + SENTINEL.encode() + b'", "timeout_s": ' + b"9" * 5000 + b"}", JSON,
     400, "invalid_json"),
    ("deep-objects-33", "POST", nested(33).encode(), JSON, 400, "invalid_json"),
    ("deep-objects-5000", "POST", nested(5000).encode(), JSON, 400, "invalid_json"),
    ("deep-mixed-100k", "POST", b'{"text": ' + b'[{"a": ' * 50_000 + b"1" + b"}]" * 50_000 + b"}", JSON, 400,
     "invalid_json"),
    ("unknown-field-top", "POST", json.dumps({"text": PHI_NOTE, "Text": PHI_NOTE}).encode(), JSON, 422,
     "validation_error"),
    ("unknown-field-document", "POST",
     json.dumps({"documents": [{"id": "1", "text": PHI_NOTE, "note": PHI_NOTE}]}).encode(), JSON, 422,
     "validation_error"),
    ("documents-object", "POST", json.dumps({"documents": {"id": "1", "text": PHI_NOTE}}).encode(), JSON, 422,
     "validation_error"),
    ("documents-string", "POST", json.dumps({"documents": PHI_NOTE}).encode(), JSON, 422, "validation_error"),
    ("document-string", "POST", json.dumps({"documents": [PHI_NOTE]}).encode(), JSON, 422, "validation_error"),
    ("id-number", "POST", json.dumps({"documents": [{"id": 7, "text": PHI_NOTE}]}).encode(), JSON, 422,
     "validation_error"),
    ("id-empty", "POST", json.dumps({"documents": [{"id": "", "text": PHI_NOTE}]}).encode(), JSON, 422,
     "validation_error"),
    ("id-too-long", "POST", json.dumps({"documents": [{"id": "i" * 257, "text": PHI_NOTE}]}).encode(), JSON, 422,
     "validation_error"),
    ("text-object", "POST", json.dumps({"text": {"value": PHI_NOTE}}).encode(), JSON, 422, "validation_error"),
    ("text-null-document", "POST", json.dumps({"documents": [{"id": "1", "text": None}]}).encode(), JSON, 422,
     "validation_error"),
    ("labels-string", "POST", json.dumps({"text": PHI_NOTE, "labels": "problem"}).encode(), JSON, 422,
     "validation_error"),
    ("labels-numbers", "POST", json.dumps({"text": PHI_NOTE, "labels": [1, 2]}).encode(), JSON, 422,
     "validation_error"),
    ("encoding-number", "POST", json.dumps({"text": PHI_NOTE, "offset_encoding": 16}).encode(), JSON, 422,
     "validation_error"),
    ("timeout-string", "POST", json.dumps({"text": PHI_NOTE, "timeout_s": "fast"}).encode(), JSON, 422,
     "validation_error"),
    ("timeout-nan", "POST", ('{"text": ' + json.dumps(PHI_NOTE) + ', "timeout_s": NaN}').encode(), JSON, 422,
     "validation_error"),
    ("timeout-tiny", "POST", json.dumps({"text": PHI_NOTE, "timeout_s": 1e-320}).encode(), JSON, 422,
     "validation_error"),
    ("model-number", "POST", json.dumps({"text": PHI_NOTE, "model": 5}).encode(), JSON, 422, "validation_error"),
    ("media-text-json", "POST", PHI_JSON.encode(), "text/json", 415, "unsupported_media_type"),
    ("media-form", "POST", f"text={SENTINEL}".encode(), "application/x-www-form-urlencoded", 415,
     "unsupported_media_type"),
    ("media-multipart", "POST", PHI_JSON.encode(), "multipart/form-data; boundary=x", 415, "unsupported_media_type"),
    ("media-jsonx", "POST", PHI_JSON.encode(), "application/jsonx", 415, "unsupported_media_type"),
    ("get-extract", "GET", b"", "", 405, "method_not_allowed"),
    ("put-extract", "PUT", PHI_JSON.encode(), JSON, 405, "method_not_allowed"),
    ("patch-extract", "PATCH", PHI_JSON.encode(), JSON, 405, "method_not_allowed"),
    ("delete-extract", "DELETE", b"", "", 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("method", "body", "content_type", "status", "kind"),
                         [case[1:] for case in PROTOCOL_CASES], ids=[case[0] for case in PROTOCOL_CASES])
def test_protocol_abuse_is_a_precise_4xx(hostile_server: ServerProcess, method: str, body: bytes,
                                         content_type: str, status: int, kind: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.request(method, hostile_server.url + "/extract", content=body, headers=headers, timeout=30)
    assert response.status_code == status, response.text[:300]
    assert error_type(response) == kind
    assert_no_phi(hostile_server, [response.text])


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/metrics", "/info", "/openapi.json"])
def test_wrong_method_on_read_only_endpoints(hostile_server: ServerProcess, path: str) -> None:
    response = httpx.post(hostile_server.url + path, content=PHI_JSON, headers={"content-type": JSON}, timeout=10)
    assert response.status_code == 405
    assert error_type(response) == "method_not_allowed"
    assert "GET" in response.headers.get("allow", "")


def test_head_on_extract_is_405(hostile_server: ServerProcess) -> None:
    response = httpx.head(hostile_server.url + "/extract", timeout=10)
    assert response.status_code == 405 and "POST" in response.headers.get("allow", "")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json;charset=UTF-8",
                                          "Application/JSON", "application/json ; charset=\"utf-8\""])
def test_json_content_type_with_parameters_works(hostile_server: ServerProcess, content_type: str) -> None:
    body = json.dumps({"text": NOTE + " Caf\u00e9 😀"}, ensure_ascii=False).encode("utf-8")
    response = httpx.post(hostile_server.url + "/extract", content=body, headers={"content-type": content_type},
                          timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["documents"][0]["stats"]["characters"] == len(NOTE) + 7


def test_chunked_request_body_works(hostile_server: ServerProcess) -> None:
    def parts() -> Iterator[bytes]:
        raw = json.dumps({"text": NOTE}).encode()
        for index in range(0, len(raw), 7):
            yield raw[index : index + 7]

    response = httpx.post(hostile_server.url + "/extract", content=parts(), headers={"content-type": JSON},
                          timeout=30)
    assert response.status_code == 200
    assert response.json()["documents"][0]["stats"]["characters"] == len(NOTE)


def test_malformed_http_is_refused_and_the_server_carries_on(hostile_server: ServerProcess) -> None:
    for raw in (b"GARBAGE\r\n\r\n", b"POST /extract HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                b"POST /extract HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                f"POST /extract HTTP/1.1\r\nHost: x\r\nX-Note: {SENTINEL}\r\nBroken header line\r\n\r\n".encode()):
        with socket.create_connection(("127.0.0.1", hostile_server.port), timeout=10) as sock:
            sock.sendall(raw)
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 4"), answer[:100]
    assert httpx.post(hostile_server.url + "/extract", json={"text": NOTE}, timeout=30).status_code == 200
    assert_no_phi(hostile_server)


# --- huge bodies ------------------------------------------------------------------------------------------


class RssSampler:
    """Samples a process's VmRSS every 10 ms on a thread; ``peak`` is the largest value seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def upload(port: int, total: int, *, chunked: bool) -> tuple[bytes, int]:
    """Stream a ``total``-byte body 64 KiB at a time, stopping once the server answers; (answer, bytes sent)."""
    piece = b"a" * 65536
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request_head(port, None if chunked else total))
        sent = 0
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered: stop sending, as a well-behaved client would
            data = (b'{"text": "' + SENTINEL.encode() + piece)[:65536] if sent == 0 else piece[: total - sent]
            try:
                sock.sendall(b"%x\r\n%b\r\n" % (len(data), data) if chunked else data)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(data)
        answer = b""
        while True:
            head, separator, body = answer.partition(b"\r\n\r\n")
            if separator and len(body) >= int(re.search(rb"content-length: *(\d+)", head, re.I).group(1)):  # type: ignore[union-attr]
                break
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer, sent


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_50_mb_body_is_refused_without_being_buffered(hostile_server: ServerProcess, chunked: bool) -> None:
    pid = hostile_server.process.pid
    for _ in range(3):  # settle the allocator before the baseline
        httpx.post(hostile_server.url + "/extract", json={"text": NOTE}, timeout=30)
    baseline = rss_bytes(pid)
    total = 50 * 1024 * 1024
    with RssSampler(pid) as sampler:
        answer, sent = upload(hostile_server.port, total, chunked=chunked)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), answer[:300]
    assert json.loads(body)["error"]["type"] == "payload_too_large"
    assert sent < total  # refused while the upload was still going
    assert sampler.peak - baseline < 20 * 1024 * 1024, (baseline, sampler.peak)  # nowhere near 50 MB held
    assert httpx.post(hostile_server.url + "/extract", json={"text": NOTE}, timeout=30).status_code == 200
    assert_no_phi(hostile_server, [body.decode()])
