"""Helpers shared by the reliability tests (issue 9): PHI sentinel, metrics, memory, raw HTTP.

This module holds no tests; it is named ``test_reliability_*`` only to sit beside the suites that use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from tests.support import ServerProcess

SENTINEL = "ZQXPHI9731 Jane Roe MRN 7731-0042"
SENTINEL_FRAGMENTS = (SENTINEL, "ZQXPHI9731", "Jane Roe", "7731-0042")
NOTE = ("Patient presents with chest pain and shortness of breath. Troponin was ordered. "
        "Started on aspirin 81 mg daily. Denies fever or chills.")
PHI_NOTE = f"{NOTE} Seen by {SENTINEL} today."


def assert_no_phi(server: ServerProcess, error_bodies: Iterable[str] = ()) -> None:
    """The sentinel reached neither the server's log (any line) nor any error body."""
    log = server.log()
    assert log, "the server logged nothing"
    for fragment in SENTINEL_FRAGMENTS:
        assert fragment not in log, f"sentinel fragment {fragment!r} in the server log"
        for body in error_bodies:
            assert fragment not in body, f"sentinel fragment {fragment!r} in an error body: {body[:200]}"


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (Prometheus text format)."""
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})? (\S+)$", re.MULTILINE)
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    total = 0.0
    for match in pattern.finditer(text):
        if all(part in (match.group(1) or "") for part in wanted):
            total += float(match.group(2))
    return total


def metrics_of(server: ServerProcess) -> str:
    return httpx.get(server.url + "/metrics", timeout=10).text


def error_records(server: ServerProcess) -> list[dict[str, object]]:
    return [record for record in server.log_records() if record.get("level") in ("error", "critical")]


def error_type(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"type", "message"} <= set(body["error"]), body
    return str(body["error"]["type"])


def request_head(port: int, length: int | None, *, path: str = "/extract",
                 content_type: str = "application/json") -> bytes:
    """An HTTP/1.1 request head; ``length=None`` announces a chunked body."""
    framing = "Transfer-Encoding: chunked" if length is None else f"Content-Length: {length}"
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\n"
            f"{framing}\r\n\r\n").encode("ascii")


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_response(reader: asyncio.StreamReader) -> RawResponse:
    """Read one HTTP/1.1 response with a Content-Length body (what uvicorn sends for JSON)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawResponse(status, headers, body)


async def slow_post(port: int, body: bytes, *, byte_interval_s: float) -> tuple[RawResponse, float]:
    """POST ``body`` one byte at a time, ``byte_interval_s`` apart; returns the response and the seconds taken."""
    return await raw_post(port, len(body), [body[index : index + 1] for index in range(len(body))], byte_interval_s)


async def raw_post(port: int, length: int, chunks: list[bytes], interval_s: float = 0.0) -> tuple[RawResponse, float]:
    """POST announcing ``length`` body bytes, send ``chunks`` ``interval_s`` apart (perhaps fewer bytes than
    announced), then wait for the answer; returns it and the seconds taken."""
    started = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_head(port, length))
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(interval_s)
        response = await asyncio.wait_for(read_response(reader), 30)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return response, time.monotonic() - started


async def abandoned_post(port: int, sent: bytes, length: int, hold_s: float) -> None:
    """Announce ``length`` bytes, send only ``sent`` (headers and part of the body), hold, then drop the connection."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request_head(port, length) + sent)
        await writer.drain()
        await asyncio.sleep(hold_s)
    finally:
        writer.transport.abort()  # drop, not a polite close


async def partial_headers(port: int, hold_s: float) -> None:
    """Send an unfinished request head (classic slowloris), hold the connection, drop it."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"POST /extract HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode("ascii"))
        await writer.drain()
        for _ in range(int(hold_s / 0.5)):
            await asyncio.sleep(0.5)
            writer.write(b"a")
            await writer.drain()
    finally:
        writer.transport.abort()
