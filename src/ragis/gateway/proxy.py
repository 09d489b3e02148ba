"""Relaying the RAG service's chat stream to the browser, event by event.

`relay()` reads the upstream body as raw bytes the moment they arrive and forwards every complete
SSE event (everything up to a blank line) at once, never holding one back for the next. While the
upstream is silent for `heartbeat` seconds it sends an SSE comment (`: keep-alive`), always
between two events. The read in progress is never cancelled by a heartbeat: it runs in its own
task, and the relay only waits on it with a timeout.

How it ends:

- the upstream sends `done` or `error` and closes: forwarded as they are;
- the upstream breaks off (connection cut, read timeout, or the body ends before `done`/`error`):
  one `error` event `{code: "upstream_error", message}`, then the end;
- the browser leaves: `EventStreamResponse` cancels the relay, whose `finally` closes the
  upstream response at once, so the RAG service sees the disconnect and stops its LLM request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

import aiohttp
import anyio
from starlette.types import Receive, Scope, Send

from ragis.gateway.rag_client import ChatStream
from ragis.web.sse import EventStreamResponse, encode_event, heartbeat

__all__ = ["ProxyStreamResponse", "failure_stream", "relay"]

_TERMINAL = (b"done", b"error")
# How a read of the upstream body fails: cut, truncated or timed out (aiohttp's timeouts are
# TimeoutErrors).
_BROKEN = (aiohttp.ClientError, TimeoutError, ConnectionError)


class ProxyStreamResponse(EventStreamResponse):
    """An `EventStreamResponse` that runs `on_close` however the response ends, even if the
    client left before the first byte (the upstream must be closed in every case)."""

    def __init__(
        self, content: AsyncIterator[bytes], *, on_close: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(content)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._on_close()


async def relay(upstream: ChatStream, *, heartbeat_seconds: float) -> AsyncGenerator[bytes]:
    """The upstream's events as they arrive, heartbeats in its silences (see the module doc)."""
    content = upstream.response.content
    pending: asyncio.Task[bytes] | None = None
    buffer = b""
    finished = False
    try:
        while True:
            # What has already arrived is taken at once; only a wait for more bytes runs in a
            # task (so that a heartbeat never cancels a read), which most events never need.
            silent = False
            try:
                chunk = content.read_nowait() if pending is None else b""
                if not chunk:
                    if pending is None:
                        if content.at_eof():
                            break
                        pending = asyncio.create_task(content.readany())
                    done, _ = await asyncio.wait({pending}, timeout=heartbeat_seconds)
                    if done:
                        task, pending = pending, None
                        chunk = task.result()
                        if not chunk:  # b"" only at the end of the body
                            break
                    else:
                        silent = True
            except _BROKEN as exc:
                if not finished:
                    yield _broken(upstream.url, type(exc).__name__)
                return
            if silent:
                yield heartbeat()
                continue
            buffer += chunk
            while (cut := buffer.find(b"\n\n")) >= 0:
                block, buffer = buffer[: cut + 2], buffer[cut + 2 :]
                finished = finished or _event_type(block) in _TERMINAL
                yield block
        if not finished:
            yield _broken(upstream.url, "the stream ended before its last event")
    finally:
        with anyio.CancelScope(shield=True):
            if pending is not None:
                pending.cancel()
                await asyncio.wait({pending})
            await upstream.aclose()


async def failure_stream(code: str, message: str) -> AsyncIterator[bytes]:
    """A stream of one `error` event: how a chat that could not start reaches the browser."""
    yield encode_event("error", {"code": code, "message": message})


def _event_type(block: bytes) -> bytes:
    for line in block.split(b"\n"):
        if line.startswith(b"event:"):
            return line[6:].strip()
    return b"message"


def _broken(url: str, reason: str) -> bytes:
    return encode_event(
        "error",
        {
            "code": "upstream_error",
            "message": (
                f"The RAG service at {url} stopped answering in the middle of the reply "
                f"({reason}); ask again."
            ),
        },
    )
