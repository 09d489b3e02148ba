"""A raw HTTP/1.1 server on loopback whose answers a test writes byte by byte.

It runs in the test's own event loop. Unlike an app under uvicorn it can answer what no well-behaved
server sends: a body that stops in the middle of an event, a silence, a connection closed without
an answer. Connections are kept alive between requests, as uvicorn keeps them.

    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(200, {"collections": []})

    async with scripted_server(handler) as server:
        ...  # server.url, server.requests
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from support.net import free_port

__all__ = ["Handler", "Reply", "Request", "ScriptedServer", "closed_port_url", "scripted_server"]


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # the path as sent, still quoted
    headers: dict[str, str]  # lower-case names
    body: bytes


class Reply:
    """The answer to one request: a whole one (`json`, `text`), a chunked stream, or nothing."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.closed = False

    async def json(self, status: int, body: Any) -> None:
        await self.text(status, json.dumps(body), content_type="application/json")

    async def text(self, status: int, text: str, *, content_type: str = "text/html") -> None:
        data = text.encode()
        head = _head(status, {"Content-Type": content_type, "Content-Length": str(len(data))})
        await self.send(head + data)

    async def start_stream(self, *, content_type: str = "text/event-stream") -> None:
        """Status 200 and the headers of a chunked body, as uvicorn streams one."""
        await self.send(_head(200, {"Content-Type": content_type, "Transfer-Encoding": "chunked"}))

    async def chunk(self, data: bytes) -> None:
        await self.send(b"%x\r\n%s\r\n" % (len(data), data))

    async def end_stream(self) -> None:
        await self.send(b"0\r\n\r\n")

    def close(self) -> None:
        """Close the connection now, whatever was sent (no answer, or half a body)."""
        self.closed = True
        self._writer.close()

    async def client_left(self) -> None:
        """Return once the client has closed the connection."""
        with contextlib.suppress(ConnectionError):
            while await self._reader.read(1024):
                pass
        self.closed = True

    async def send(self, data: bytes) -> None:
        """Raw bytes, for an answer that the other methods cannot write."""
        self._writer.write(data)
        await self._writer.drain()


Handler = Callable[[Request, Reply], Awaitable[None]]


@dataclass
class ScriptedServer:
    handler: Handler
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    _connections: set[asyncio.Task[None]] = field(default_factory=set)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while (request := await _read_request(reader)) is not None:
                self.requests.append(request)
                reply = Reply(reader, writer)
                await self.handler(request, reply)
                if reply.closed:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def scripted_server(handler: Handler) -> AsyncIterator[ScriptedServer]:
    """`handler` answers every request on 127.0.0.1:<free port> until the block ends."""
    scripted = ScriptedServer(handler)
    server = await asyncio.start_server(scripted._serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    scripted.url = f"http://127.0.0.1:{port}"
    try:
        yield scripted
    finally:
        server.close()
        for task in list(scripted._connections):
            task.cancel()
        await asyncio.gather(*scripted._connections, return_exceptions=True)
        await server.wait_closed()


def closed_port_url() -> str:
    """The URL of a loopback port on which nothing listens: connecting is refused."""
    return f"http://127.0.0.1:{free_port()}"


async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, target, headers, body)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
