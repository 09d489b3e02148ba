"""Upload limits are enforced while the body arrives: 413 before the rest of it is read; and an
upload that the RAG service cannot take.

These tests speak HTTP/1.1 over a raw socket, so that they control exactly how much of the body
is sent and can see the answer arrive while most of it is still unsent. The limits are refused
before the gateway calls the RAG service, so no RAG service runs here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from support.gateway_fixtures import GatewayFactory
from support.llm_servers import unused_port

MiB = 1024 * 1024
BOUNDARY = "ragisboundary"
FILE_HEAD = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="file"; filename="big.txt"\r\n'
    "Content-Type: text/plain\r\n\r\n"
).encode()


@pytest.fixture
def small_gateway(start_gateway: GatewayFactory) -> Iterator[str]:
    """A gateway that takes at most 1 MiB and 2 files per upload (its RAG service is down)."""
    with start_gateway(
        rag_urls=[f"http://127.0.0.1:{unused_port()}"], max_upload_mb=1, max_files_per_upload=2
    ) as url:
        yield url


async def read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], Any]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *lines = head.strip().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    body = await reader.readexactly(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, json.loads(body)


async def connect(base_url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(base_url)
    return await asyncio.open_connection(parts.hostname, parts.port)


def request_head(extra: str) -> bytes:
    return (
        "POST /api/documents/upload HTTP/1.1\r\nHost: gateway\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{extra}\r\n"
    ).encode()


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    small_gateway: str,
) -> None:
    reader, writer = await connect(small_gateway)
    try:
        # 200 MiB announced; only the first part's headers and 64 KiB are ever sent.
        writer.write(request_head(f"Content-Length: {200 * MiB}\r\n") + FILE_HEAD)
        writer.write(b"x" * 65536)
        await writer.drain()
        status, headers, body = await asyncio.wait_for(read_response(reader), timeout=10)
    finally:
        writer.close()
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "too_large"
    message = body["error"]["message"]
    assert "The upload is 200 MiB; the limit is 1 MiB per request" in message
    assert "RAGIS_MAX_UPLOAD_MB" in message


async def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(
    small_gateway: str,
) -> None:
    reader, writer = await connect(small_gateway)
    total = 16 * MiB  # what the client would send if nobody stopped it
    piece = b"y" * 65536
    sent = 0
    answer = asyncio.create_task(read_response(reader))
    try:
        writer.write(request_head("Transfer-Encoding: chunked\r\n"))
        writer.write(b"%X\r\n%s\r\n" % (len(FILE_HEAD), FILE_HEAD))
        while not answer.done() and sent < total:
            try:
                writer.write(b"%X\r\n%s\r\n" % (len(piece), piece))
                await asyncio.wait_for(writer.drain(), timeout=1)
            except (ConnectionError, TimeoutError):
                break
            sent += len(piece)
            await asyncio.sleep(0.005)
        status, _, body = await asyncio.wait_for(answer, timeout=10)
    finally:
        answer.cancel()
        writer.close()
    assert status == 413
    assert body["error"]["code"] == "too_large"
    assert "over 1 MiB" in body["error"]["message"]
    assert MiB <= sent < 4 * MiB  # answered a little past the limit, long before the end


async def test_a_client_that_sends_the_whole_body_still_reads_the_413(small_gateway: str) -> None:
    # httpx, like a browser, writes all of the body before it reads the answer.
    async with httpx.AsyncClient(base_url=small_gateway) as client:
        response = await client.post(
            "/api/documents/upload", files=[("file", ("big.txt", b"z" * (3 * MiB)))]
        )
    assert response.status_code == 413
    assert "the limit is 1 MiB per request" in response.json()["error"]["message"]


async def test_more_files_than_the_limit_is_413_with_a_clear_message(small_gateway: str) -> None:
    async with httpx.AsyncClient(base_url=small_gateway) as client:
        response = await client.post(
            "/api/documents/upload",
            files=[("file", (f"f{i}.txt", b"hello")) for i in range(3)],
        )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large"
    assert "more than 2 files" in error["message"]
    assert "RAGIS_MAX_FILES_PER_UPLOAD" in error["message"]


async def test_a_json_body_over_a_mebibyte_is_413_on_other_routes(small_gateway: str) -> None:
    async with httpx.AsyncClient(base_url=small_gateway) as client:
        response = await client.post("/api/chat/stream", json={"message": "x" * (2 * MiB)})
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "too_large"

        async def chunked() -> Any:
            for _ in range(40):
                yield b"x" * 65536

        response = await client.post(
            "/api/collections", content=chunked(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413
        assert "the most an API request may carry" in response.json()["error"]["message"]


async def test_a_file_the_rag_service_cannot_take_fails_with_503(small_gateway: str) -> None:
    async with httpx.AsyncClient(base_url=small_gateway) as client:
        response = await client.post(
            "/api/documents/upload", files=[("file", ("ok.txt", b"Readable text.\n"))]
        )
    assert response.status_code == 503
    body = response.json()
    assert body["results"][0]["ok"] is False
    assert body["error"]["code"] == "upstream_error"
    assert "does not answer" in body["error"]["message"]
