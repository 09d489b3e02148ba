"""Guards against slow and numerous clients, for a service exposed beyond loopback.

uvicorn waits for a request's headers and body as long as the client likes, and a connection that
never sends a byte is never closed: 200 slowloris connections held the gateway forever (issue 12).
Three guards, each small, in the protocol that reads the bytes:

- a deadline for the request headers, armed when the connection opens or the next request's
  first byte arrives, disarmed when the headers are complete: a client that dribbles them gets
  a 408 and is disconnected, one that sends nothing is disconnected; and a cap on their size
  (431);
- a deadline for the body, from the end of the headers (a `Content-Length` the client never
  fulfils, a body sent a byte at a time): if the app still waits for it, a 408 and the
  connection is closed (the app's receive then gets `http.disconnect`); if the app answered
  without it (a 413, a route that takes no body), the connection is closed, where uvicorn would
  otherwise read and discard the rest for as long as it trickles in;
- a cap on connections and requests at once: 503 in our JSON error shape (uvicorn's own
  `limit_concurrency` answers in plain text).

All three live in `guarded_protocol(...)`, uvicorn's httptools protocol plus two timers a
request: ~0.03 ms a request (a small JSON request on loopback: 0.94 ms p50 against 0.91, over 12
runs of 1,000 on a busy 2-core machine); a body deadline as an ASGI middleware measured ~0.05
ms. `server_options(...)` is what `ragis.web.run` passes to uvicorn to use them.

Idle keep-alive connections are closed by uvicorn itself after `timeout_keep_alive` (5 s).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ragis.web.errors import error_body

__all__ = ["MAX_HEADER_BYTES", "guarded_protocol", "server_options"]

MAX_HEADER_BYTES = 64 * 1024
"""Request line and headers together; browsers send a few KB, nginx's default cap is 32 KB."""

LINGER_SECONDS = 2.0
"""How long a connection refused mid-request still reads (and drops) what the client sends."""


def server_options(
    *,
    header_timeout: float,
    body_timeout: float,
    max_connections: int,
    trusted_proxies: list[str] | None = None,
) -> dict[str, Any]:
    """uvicorn keyword arguments that put the guards in place, and believe `X-Forwarded-For`
    and `X-Forwarded-Proto` from `trusted_proxies` only. uvicorn's own default believes every
    process on loopback (or FORWARDED_ALLOW_IPS from the environment): any of them could claim
    another client address, and with it dodge the sign-in lockout per address."""
    protocol = guarded_protocol(header_timeout, body_timeout, max_connections)
    proxies = trusted_proxies or []
    return {
        "http": protocol,
        "timeout_keep_alive": 5,
        "proxy_headers": bool(proxies),
        "forwarded_allow_ips": proxies,
    }


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
    _lingering = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()  # a connection that never sends a byte is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        self._disarm_body_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return  # read and dropped: see `_refuse`
        super().data_received(data)
        if self._header_timer is None:  # the headers are complete (or no request started)
            return
        self._header_bytes += len(data)
        if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
            self._disarm_header_timer()
            self._refuse(
                _raw_response(
                    "431 Request Header Fields Too Large",
                    "too_large",
                    f"The request line and headers are over {MAX_HEADER_BYTES // 1024} KiB.",
                )
            )

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
        self._disarm_body_timer()
        self._body_overdue = False
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_too_slow)

    def _disarm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_too_slow(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or cycle.response_complete:
            self.transport.close()
        elif not cycle.response_started:
            # The app waits for the body: answer for it. Closing the connection then ends its
            # wait with `http.disconnect`, and uvicorn drops whatever it still sends.
            self.transport.write(
                _raw_response(
                    "408 Request Timeout",
                    "request_timeout",
                    f"The request body did not arrive within {self.body_timeout:g} s "
                    "(RAGIS_BODY_TIMEOUT); the connection is closed.",
                )
            )
            self.transport.close()
        else:
            self._body_overdue = True  # it answers without the body: closed once it is done

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
            self._refuse(
                _raw_response(
                    "408 Request Timeout",
                    "request_timeout",
                    f"The request headers did not arrive within {self.header_timeout:g} s.",
                )
            )
        else:
            self.transport.close()

    def _refuse(self, response: bytes) -> None:
        """Send `response` and close, so that the client reads it: a lingering close, as nginx
        does. Closing a socket whose peer is still sending makes the kernel answer with a reset,
        and a reset can discard the response before the client reads it (seen in tests: a 431
        lost 2 runs in 6). So the write side is shut first (FIN after the response), and what
        the client still sends is read and dropped until it closes or `LINGER_SECONDS` pass."""
        self.transport.write(response)
        if not self.transport.can_write_eof():
            self.transport.close()
            return
        self._lingering = True
        self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


async def _too_busy(scope: Scope, receive: Receive, send: Send) -> None:
    response = JSONResponse(
        error_body("too_busy", "The server has too many connections open; try again shortly."),
        status_code=503,
        headers={"connection": "close", "retry-after": "1"},
    )
    await response(scope, receive, send)
