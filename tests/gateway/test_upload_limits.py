"""Upload limits are enforced while the body arrives: 413 before the rest of it is read; and an
upload that the RAG service cannot take.

These tests speak HTTP/1.1 over a raw socket, so that they control exactly how much of the body
is sent and can see the answer arrive while most of it is still unsent. The limits are refused
before the gateway calls the RAG service, so no RAG service runs here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from support.gateway_fixtures import GatewayFactory
from support.hostile import hostile_files
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
        "POST /api/documents/upload HTTP/1.1\r\nHost: localhost\r\n"
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


# --- Hostile files and slow clients (issue 12, items 7 and 8) --------------------------------

GUARDS = {"header_timeout": 1.0, "body_timeout": 1.0, "max_connections": 4}


@pytest.fixture
def guarded_gateway(start_gateway: GatewayFactory) -> Iterator[str]:
    """A gateway with short parse limits and short client timeouts (its RAG service is down:
    everything here is decided before the gateway would call it)."""
    with start_gateway(
        rag_urls=[f"http://127.0.0.1:{unused_port()}"], parse_cpu_seconds=5, **GUARDS
    ) as url:
        yield url


@pytest.mark.parametrize("name", list(hostile_files()))
async def test_a_hostile_file_is_a_422_with_a_sentence(guarded_gateway: str, name: str) -> None:
    async with httpx.AsyncClient(base_url=guarded_gateway, timeout=120) as client:
        response = await client.post(
            "/api/documents/upload", files=[("file", (name, hostile_files()[name]))]
        )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"]["code"] in {"corrupt_file", "empty_file"}
    reason = body["error"]["message"].removeprefix(f"{name}: ")
    assert reason != body["error"]["message"]
    assert len(reason.split()) >= 5  # a sentence, not a class name
    assert body["results"] == [
        {"filename": name, "ok": False, "error": body["results"][0]["error"]}
    ]


async def test_the_gateway_answers_while_a_bomb_is_parsed(start_gateway: GatewayFactory) -> None:
    # The parse of 60 MiB of XML runs in a child for seconds (3 s of CPU, then it is killed);
    # meanwhile the gateway's event loop answers other requests. (Proved by order, not by
    # time: the health answers while the upload is still waiting for its child.)
    with start_gateway(rag_urls=[f"http://127.0.0.1:{unused_port()}"], parse_cpu_seconds=3) as url:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            upload = asyncio.create_task(
                client.post(
                    "/api/documents/upload",
                    files=[("file", ("bomb.docx", hostile_files()["empty-elements.docx"]))],
                )
            )
            await _until_a_parse_child_runs()
            health = await client.get("/api/health")
            assert not upload.done()
            assert health.status_code in {200, 503}
            assert (await upload).status_code == 422


async def _until_a_parse_child_runs() -> None:
    for _ in range(1000):
        if any(p.name == "ragis-parse" for p in multiprocessing.active_children()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no parse child started")


async def test_a_body_shorter_than_its_content_length_gets_408(guarded_gateway: str) -> None:
    reader, writer = await connect(guarded_gateway)
    try:
        body = b'{"name": "abc"}'
        writer.write(
            b"POST /api/collections HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body) + 1000, body)
        )
        await writer.drain()
        status, headers, answer = await asyncio.wait_for(read_response(reader), timeout=30)
        assert await asyncio.wait_for(reader.read(), timeout=30) == b""  # then closed
    finally:
        writer.close()
    assert status == 408
    assert headers["connection"] == "close"
    assert answer["error"]["code"] == "request_timeout"
    assert "did not arrive within 1 s (RAGIS_BODY_TIMEOUT)" in answer["error"]["message"]


async def test_an_upload_body_sent_too_slowly_gets_408(guarded_gateway: str) -> None:
    reader, writer = await connect(guarded_gateway)
    answer = asyncio.create_task(read_response(reader))
    try:
        writer.write(request_head(f"Content-Length: {MiB}\r\n") + FILE_HEAD)
        while not answer.done():  # a byte every 100 ms: it would take a day
            try:
                writer.write(b"x")
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0.1)
        status, _, body = await asyncio.wait_for(answer, timeout=30)
    finally:
        answer.cancel()
        writer.close()
    assert status == 408
    assert body["error"]["code"] == "request_timeout"


async def test_a_body_nobody_reads_cannot_keep_the_connection_open(guarded_gateway: str) -> None:
    # The route answers without reading the body; the client then trickles the rest of its
    # declared 100 kB. uvicorn would read and discard it for as long as it comes.
    reader, writer = await connect(guarded_gateway)
    try:
        writer.write(
            b"GET /api/openapi.json HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n"
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
        assert head.startswith(b"HTTP/1.1 200 ")
        closed = False
        for _ in range(600):  # a byte every 50 ms: 30 s, far past the 1 s allowed
            try:
                writer.write(b"x")
                await writer.drain()
            except ConnectionError:
                closed = True
                break
            if reader.at_eof():
                closed = True
                break
            await asyncio.sleep(0.05)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reader.read(1 << 20), timeout=0.01)
    finally:
        writer.close()
    assert closed


async def test_headers_sent_byte_by_byte_too_slowly_are_cut_off(guarded_gateway: str) -> None:
    reader, writer = await connect(guarded_gateway)
    head = b"GET /api/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 10_000
    sent = 0
    try:
        for byte in head:  # one byte every 50 ms; the headers never end
            try:
                writer.write(bytes([byte]))
                await writer.drain()
            except ConnectionError:
                break
            sent += 1
            if reader.at_eof() or len(reader._buffer):  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.05)
        answer = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"request_timeout" in answer
    assert b"did not arrive within 1 s" in answer
    assert sent < len(head)  # disconnected long before the client was done


async def test_many_slowloris_connections_are_all_closed_and_the_gateway_serves_again(
    start_gateway: GatewayFactory,
) -> None:
    # Issue 12: 200 slowloris connections were never closed. 200 here too, under a cap of
    # 300: each starts a request and sends one more header byte every 300 ms; some send
    # nothing at all. Every one is cut off, and then a new client is served.
    with start_gateway(
        rag_urls=[f"http://127.0.0.1:{unused_port()}"], header_timeout=1.0, max_connections=300
    ) as url:
        clients = [await connect(url) for _ in range(200)]
        try:

            async def slowloris(index: int, writer: asyncio.StreamWriter) -> bool:
                if index % 4 == 0:
                    return True  # silent: only the server can end it
                writer.write(b"GET /api/openapi.json HTTP/1.1\r\nHost: localhost\r\nX-A: ")
                for _ in range(100):  # 30 s if nobody stopped it
                    await asyncio.sleep(0.3)
                    try:
                        writer.write(b"a")
                        await writer.drain()
                    except ConnectionError:
                        return True
                    if writer.transport.is_closing():
                        return True
                return False

            async def cut_off(index: int) -> bytes:
                reader, writer = clients[index]
                writing = asyncio.create_task(slowloris(index, writer))
                answer = await asyncio.wait_for(reader.read(), timeout=60)
                writing.cancel()
                return answer

            answers = await asyncio.gather(*(cut_off(i) for i in range(200)))
        finally:
            for _, writer in clients:
                writer.close()
        assert all(a == b"" for i, a in enumerate(answers) if i % 4 == 0)
        assert all(a.startswith(b"HTTP/1.1 408 ") for i, a in enumerate(answers) if i % 4)
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/api/openapi.json")).status_code == 200


async def test_a_connection_that_sends_nothing_is_closed(guarded_gateway: str) -> None:
    reader, writer = await connect(guarded_gateway)
    try:
        assert await asyncio.wait_for(reader.read(), timeout=30) == b""
    finally:
        writer.close()


async def test_headers_over_64_kib_get_431(guarded_gateway: str) -> None:
    reader, writer = await connect(guarded_gateway)
    try:
        writer.write(b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n")
        for _ in range(100):
            try:
                writer.write(b"X-Filler: " + b"f" * 1000 + b"\r\n")
                await writer.drain()
            except ConnectionError:
                break
        answer = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b"over 64 KiB" in answer


async def test_connections_over_the_cap_get_503(guarded_gateway: str) -> None:
    # 4 connections are allowed; with 4 open and idle, a 5th one's request is refused with a
    # JSON 503. Once they are gone, requests are served again.
    idle = [await connect(guarded_gateway) for _ in range(4)]
    try:
        async with httpx.AsyncClient(base_url=guarded_gateway) as client:
            refused = await client.get("/api/collections")
    finally:
        for _, writer in idle:
            writer.close()
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "too_busy"
    assert refused.headers["retry-after"] == "1"
    for _ in range(200):  # the server sees the closes a moment later
        async with httpx.AsyncClient(base_url=guarded_gateway) as client:
            again = await client.get("/api/openapi.json")
        if again.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert again.status_code == 200


async def test_a_request_in_time_is_not_disturbed_by_the_guards(guarded_gateway: str) -> None:
    # Keep-alive: two requests on one connection, the second after the first's answer.
    async with httpx.AsyncClient(base_url=guarded_gateway) as client:
        for _ in range(2):
            response = await client.post(
                "/api/documents/upload", files=[("file", ("x.png", b"\x89PNG\r\n\x1a\n" + b"0"))]
            )
            assert response.status_code == 415
