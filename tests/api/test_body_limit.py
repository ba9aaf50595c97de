"""Request bodies over ASSAY_MAX_BODY_BYTES get a 413 before they are read or authenticated.

The big-body tests speak HTTP over a raw socket, so the client holds one 64 KiB chunk and can
stop the moment the server answers; the server runs in this process, so this process's
resident memory is the server's (it grew by about 321 MB for a 49 MB body before the limit).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.factories import RunningAssay, make_settings, serve_assay

log = logging.getLogger(__name__)

BIG = 49 * 1024 * 1024
CHUNK = b"x" * 65536
LIMIT = 4096


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def _send_big_body(url: str, path: str, *, chunked: bool) -> tuple[int, bytes]:
    """POST a 49 MB body without credentials, reading the answer while sending."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BIG}"
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n".encode()
    )
    sent = 0

    async def stream() -> None:
        nonlocal sent
        frame = f"{len(CHUNK):x}\r\n".encode() + CHUNK + b"\r\n" if chunked else CHUNK
        try:
            while sent < BIG:
                writer.write(frame)
                await writer.drain()
                sent += len(CHUNK)
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except ConnectionError:
            pass  # the server closed the connection after its answer: what we want

    sender = asyncio.create_task(stream())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(v)
        for k, _, v in (h.partition(": ") for h in lines[1:])
        if k.lower() == "content-length"
    )
    body = await asyncio.wait_for(reader.readexactly(length), timeout=10)
    sender.cancel()
    writer.close()
    return status, body


@pytest.fixture
def small_limit(tmp_path: Path) -> Iterator[RunningAssay]:
    with serve_assay(make_settings(tmp_path, max_body_bytes=LIMIT), run_workers=False) as running:
        yield running


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_49_mb_anonymous_body_is_refused_without_being_read(
    assay: RunningAssay, chunked: bool
):
    # A first refusal warms up this code path, so the measurement below is the body alone.
    await _send_big_body(assay.url, "/v1/agents", chunked=chunked)
    before = _rss_bytes()
    status, body = await _send_big_body(assay.url, "/v1/agents", chunked=chunked)
    grown = _rss_bytes() - before
    log.warning("server grew by %.2f MiB for a 49 MB body", grown / 2**20)
    assert status == 413, body
    error = json.loads(body)
    assert error["code"] == 413 and error["type"] == "payload_too_large"
    assert "1048576" in error["detail"] and "ASSAY_MAX_BODY_BYTES" in error["detail"]
    assert grown < 8 * 1024 * 1024, f"the server grew by {grown / 2**20:.1f} MiB"


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/v1/agents", {"code": 413, "type": "payload_too_large"}),
        ("/v1/evaluations", {"code": 413, "type": "PayloadTooLargeException"}),
        ("/eval-runs", {}),
        ("/api/projects/p1/evals", {}),
    ],
)
async def test_the_413_is_in_each_dialects_envelope(
    small_limit: RunningAssay, path: str, shape: dict[str, Any]
):
    async with small_limit.client(None) as client:
        response = await client.post(path, content=b"{" + b" " * LIMIT + b"}")
    assert response.status_code == 413, response.text
    body = response.json()
    message_key = "error" if path.startswith("/api/projects") else "detail"
    assert f"over {LIMIT} bytes" in body[message_key]
    for key, value in shape.items():
        assert body.get(key) == value, body


async def test_a_body_within_the_limit_goes_on_to_authentication(small_limit: RunningAssay):
    async with small_limit.client(None) as client:
        response = await client.post("/v1/agents", content=b"{" + b" " * (LIMIT - 2) + b"}")
    assert response.status_code == 401, response.text
