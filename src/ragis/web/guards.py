"""Guards against slow and numerous clients, for a service exposed beyond loopback.

uvicorn waits for a request's headers and body as long as the client likes, and a connection that
never sends a byte is never closed: 200 slowloris connections held the gateway forever (issue 12).
Three guards, each small:

- `guarded_protocol(...)`: uvicorn's httptools protocol, plus a deadline for the request headers
  (armed when the connection opens or the next request's first byte arrives, disarmed when the
  headers are complete: a client that dribbles them gets a 408 and is disconnected), a cap on
  their size (431), and a cap on connections and requests at once (503 in our JSON error shape;
  uvicorn's own `limit_concurrency` answers in plain text).
- `BodyTimeout`: an ASGI middleware that bounds the time from the end of the headers to the end
  of the body (a `Content-Length` the client never fulfils, or a body sent a byte at a time):
  408, and the connection is closed. The protocol has the same deadline for a body that no app
  reads (after a 413, or sent to a route that takes none): at it, the connection is closed.
- `server_options(...)`: what `ragis.web.run` passes to uvicorn to use the protocol.

Idle keep-alive connections are closed by uvicorn itself after `timeout_keep_alive` (5 s).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ragis.web.errors import error_body

__all__ = ["MAX_HEADER_BYTES", "BodyTimeout", "guarded_protocol", "server_options"]

MAX_HEADER_BYTES = 64 * 1024
"""Request line and headers together; browsers send a few KB, nginx's default cap is 32 KB."""


def server_options(
    *, header_timeout: float, body_timeout: float, max_connections: int
) -> dict[str, Any]:
    """uvicorn keyword arguments that put the guards in place."""
    protocol = guarded_protocol(header_timeout, body_timeout, max_connections)
    return {"http": protocol, "timeout_keep_alive": 5}


def guarded_protocol(
    header_timeout: float, body_timeout: float, max_connections: int
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with these limits (uvicorn builds one per connection)."""
    limits = {
        "header_timeout": header_timeout,
        "body_timeout": body_timeout,
        "max_connections": max_connections,
    }
    return type("GuardedHttpToolsProtocol", (_GuardedProtocol,), limits)


def _raw_response(status: str, code: str, message: str) -> bytes:
    body = json.dumps(error_body(code, message)).encode()
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode() + body


class _GuardedProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    body_timeout: float = 300.0
    max_connections: int = 256

    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0
    _body_timer: asyncio.TimerHandle | None = None
    _body_overdue = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        self._disarm_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._header_timer is None:  # the headers are complete (or no request started)
            return
        self._header_bytes += len(data)
        if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
            self._disarm_header_timer()
            self.transport.write(
                _raw_response(
                    "431 Request Header Fields Too Large",
                    "too_large",
                    f"The request line and headers are over {MAX_HEADER_BYTES // 1024} KiB.",
                )
            )
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # the next request on a kept-alive connection
            self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        self._arm_body_timer()
        busy = (
            len(self.connections) > self.max_connections or len(self.tasks) >= self.max_connections
        )
        if not busy:
            super().on_headers_complete()
            return
        self.logger.warning("over RAGIS_MAX_CONNECTIONS (%d): answered 503", self.max_connections)
        app, self.app = self.app, _too_busy  # the request is answered by `_too_busy` instead
        try:
            super().on_headers_complete()
        finally:
            self.app = app

    def on_message_complete(self) -> None:
        self._disarm_body_timer()  # the body is in (or there was none)
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._body_overdue and not self.transport.is_closing():
            self.transport.close()

    def _arm_body_timer(self) -> None:
        # `BodyTimeout` answers 408 to an app that waits for the body; this timer covers the
        # body that no app reads: after the answer (a 413, or a route without a body) uvicorn
        # would discard what the client still sends, for as long as it trickles in.
        self._disarm_body_timer()
        self._body_overdue = False
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_too_slow)

    def _disarm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_too_slow(self) -> None:
        self._body_timer = None
        if self.cycle is not None and self.cycle.response_complete:
            self.transport.close()
        else:
            self._body_overdue = True  # closed once the app has answered

    def _arm_header_timer(self) -> None:
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._header_bytes:  # a request had started: say why it ends
            self.transport.write(
                _raw_response(
                    "408 Request Timeout",
                    "request_timeout",
                    f"The request headers did not arrive within {self.header_timeout:g} s.",
                )
            )
        self.transport.close()


async def _too_busy(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        error_body("too_busy", "The server has too many connections open; try again shortly."),
        status_code=503,
        headers={"connection": "close", "retry-after": "1"},
    )
    await response(scope, receive, send)


class BodyTimeout:
    """Bound the time a request's body may take to arrive, from the end of its headers.

    At the deadline the middleware answers 408 itself (with `connection: close`, so uvicorn then
    closes the connection) and the app's pending receive gets `http.disconnect`, as if the
    client had left; whatever the app sends after that is dropped. The app cannot turn the
    timeout into another answer (FastAPI makes any error while reading a JSON body a 400).
    """

    def __init__(self, app: ASGIApp, *, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self.message = (
            f"The request body did not arrive within {timeout:g} s "
            "(RAGIS_BODY_TIMEOUT); the connection is closed."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout
        body_done = False
        timed_out = False
        response_started = False

        async def timed_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:  # later calls wait for the disconnect, as long as a stream lasts
                return await receive()
            if timed_out:
                return {"type": "http.disconnect"}
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                if not response_started:
                    await self._answer_408(scope, send)
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def watched_send(message: Message) -> None:
            nonlocal response_started
            if timed_out:
                return  # the 408 has been sent; the connection is closing
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, timed_receive, watched_send)

    async def _answer_408(self, scope: Scope, send: Send) -> None:
        response = JSONResponse(
            error_body("request_timeout", self.message),
            status_code=408,
            headers={"connection": "close"},
        )

        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, nothing, send)
