"""The plumbing of the scripted LLM servers: a threaded HTTP server that follows a script
of replies, records requests and notices clients that hang up. The wire dialects live in
llm_servers.py; tests import from there."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from support.loopback_http import Handler, LoopbackHTTPServer, peer_closed

__all__ = ["Gate", "RecordedRequest", "Reply", "ScriptedLLMServer", "unused_port"]


class Gate:
    """Lets a scripted stream send a delta only when the test says so: each delta of a `Reply`
    with this gate waits for one `open()`. A test that opens it once it has seen what it waited
    for (the previous token, some heartbeats) decides the order of events itself: no delay has
    to be long enough."""

    def __init__(self) -> None:
        self._opened = threading.Semaphore(0)

    def open(self) -> None:
        """Let one more delta through (callable from any thread)."""
        self._opened.release()

    def _pass(self, exchange: _Exchange) -> None:
        """Wait for an `open()`, raising `_ClientGone` as soon as the client hangs up."""
        while not self._opened.acquire(timeout=0.02):
            exchange.wait(0)


@dataclass(frozen=True)
class Reply:
    """What the server does with one chat request (see the module docstring)."""

    tokens: Sequence[str] = ("Scripted", " answer", " [1]", ".")
    first_token_delay: float = 0.0
    token_delay: float = 0.0
    status: int = 200
    error: str | None = None
    drop_after: int | None = None
    error_after: int | None = None
    hang: bool = False
    gate: Gate | None = None

    @classmethod
    def http_error(cls, status: int, error: str | None = None) -> Reply:
        """Answer with HTTP `status`; `error=None` uses the dialect's usual message."""
        return cls(status=status, error=error)


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    json: Any  # the parsed body, or None
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class _Context:
    """What one chat response needs to know: the model asked for, a number for ids."""

    model: str
    number: int


class _ClientGone(Exception):
    """The client closed the connection (or the server is stopping)."""


class _Exchange:
    """One request's response: JSON, or a chunked stream that notices a client hanging up."""

    def __init__(self, handler: Handler, stopping: threading.Event) -> None:
        self.handler = handler
        self.sock: socket.socket = handler.connection
        self.stopping = stopping

    def send_json(self, status: int, payload: object) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json")

    def send_bytes(self, status: int, data: bytes, content_type: str) -> None:
        h = self.handler
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        self._write(data)

    def start_stream(self, content_type: str) -> None:
        h = self.handler
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

    def chunk(self, data: bytes) -> None:
        if self.peer_closed():
            raise _ClientGone
        self._write(b"%X\r\n%s\r\n" % (len(data), data))

    def end_stream(self) -> None:
        self._write(b"0\r\n\r\n")

    def drop(self) -> None:
        """Cut the connection in the middle of the response."""
        self.handler.close_connection = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def wait(self, seconds: float) -> None:
        """Sleep `seconds` (may be inf), raising `_ClientGone` as soon as the client hangs up."""
        deadline = time.monotonic() + seconds
        while True:
            if self.stopping.is_set() or self.peer_closed():
                raise _ClientGone
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.02))

    def peer_closed(self) -> bool:
        return peer_closed(self.sock)

    def _write(self, data: bytes) -> None:
        try:
            self.handler.wfile.write(data)
        except OSError as exc:
            raise _ClientGone from exc


class ScriptedLLMServer(LoopbackHTTPServer):
    """The shared machinery; use `OpenAIServer` or `OllamaServer`."""

    chat_path: ClassVar[str]
    stream_content_type: ClassVar[str]
    stream_by_default: ClassVar[bool]

    def __init__(self, *, models: Sequence[str] = ()) -> None:
        super().__init__()
        self.models: list[str] = list(models)
        self._initial_models = list(models)
        #: When set, listing the models answers this HTTP status (an error in the dialect).
        self.models_status: int | None = None
        self.default_reply: Reply | None = None  # None: the echo answer
        self._script: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        self._completed = 0
        self._active = 0  # requests being answered
        self._ids = itertools.count(1)

    # --- scripting and records -------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies; each chat request takes the next one, then `default_reply`."""
        with self._changed:
            self._script.extend(replies)

    def reset(self, timeout: float = 2.0) -> None:
        """Forget script, records and changes to `models` / `models_status`, once the requests
        being answered are done (at most `timeout` s), so that a previous test's stream cannot
        count in the next one."""
        with self._changed:
            self._changed.wait_for(lambda: self._active == 0, timeout)
            self._script.clear()
            self._requests.clear()
            self.models = list(self._initial_models)
            self.models_status = None
            self._disconnects = 0
            self._completed = 0

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._changed:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == self.chat_path]

    @property
    def disconnects(self) -> int:
        with self._changed:
            return self._disconnects

    @property
    def completed(self) -> int:
        with self._changed:
            return self._completed

    def wait_for_chat_requests(self, count: int = 1, timeout: float = 30.0) -> bool:
        """Block until at least `count` chat requests have arrived; False on timeout."""
        with self._changed:
            return self._changed.wait_for(
                lambda: sum(r.path == self.chat_path for r in self._requests) >= count, timeout
            )

    async def wait_for_chat_requests_async(self, count: int = 1, within: float = 30.0) -> bool:
        """`wait_for_chat_requests` for async tests: waits in a thread, not on the event loop."""
        return await asyncio.to_thread(self.wait_for_chat_requests, count, within)

    def wait_for_disconnect(self, timeout: float = 2.0, count: int = 1) -> bool:
        """Block until at least `count` clients hung up mid-stream; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._disconnects >= count, timeout)

    async def wait_for_disconnect_async(self, within: float = 2.0, count: int = 1) -> bool:
        """`wait_for_disconnect` for async tests: waits in a thread, not on the event loop."""
        return await asyncio.to_thread(self.wait_for_disconnect, within, count)

    # --- request handling ------------------------------------------------------------------

    def _handle(self, handler: Handler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        path = handler.path.split("?", 1)[0]
        request = RecordedRequest(
            method, path, {k.lower(): v for k, v in handler.headers.items()}, parsed, raw
        )
        with self._changed:
            self._requests.append(request)
            self._active += 1
            self._changed.notify_all()
        exchange = _Exchange(handler, self._stopping)
        try:
            self._route(exchange, request)
        except _ClientGone:
            handler.close_connection = True
            if not self._stopping.is_set():
                with self._changed:
                    self._disconnects += 1
        finally:
            with self._changed:
                self._active -= 1
                self._changed.notify_all()

    def _route(self, ex: _Exchange, request: RecordedRequest) -> None:
        raise NotImplementedError

    def _next_reply(self, body: dict[str, Any]) -> Reply:
        with self._changed:
            if self._script:
                return self._script.popleft()
        return self.default_reply or Reply(tokens=_echo_tokens(body.get("messages")))

    def _chat(self, ex: _Exchange, body: dict[str, Any]) -> None:
        reply = self._next_reply(body)
        ctx = _Context(model=str(body.get("model", "")), number=next(self._ids))
        if reply.hang:
            ex.wait(float("inf"))
        if reply.status != 200:
            ex.send_json(reply.status, self._error_body(reply.status, reply.error, body))
            return
        tokens = list(reply.tokens)
        if not body.get("stream", self.stream_by_default):
            ex.wait(reply.first_token_delay)
            ex.send_json(200, self._complete_body(ctx, "".join(tokens)))
            return
        ex.start_stream(self.stream_content_type)
        for data in self._stream_head(ctx):
            ex.chunk(data)
        ex.wait(reply.first_token_delay)
        for i, token in enumerate(tokens):
            if i == reply.drop_after:
                ex.drop()
                return
            if i == reply.error_after:
                break
            if i:
                ex.wait(reply.token_delay)
            if reply.gate is not None:
                reply.gate._pass(ex)
            ex.chunk(self._stream_token(ctx, token))
        if reply.drop_after is not None and reply.drop_after >= len(tokens):
            ex.drop()
            return
        # Counted before the client can see the end, so a test never reads a stale count.
        with self._changed:
            self._completed += 1
        try:
            if reply.error_after is not None:
                ex.chunk(self._stream_error(reply.error or "scripted failure in the middle"))
            else:
                for data in self._stream_tail(ctx):
                    ex.chunk(data)
            ex.end_stream()
        except _ClientGone:  # it had every token: leaving before the very end is no disconnect
            ex.handler.close_connection = True

    # --- the dialect -----------------------------------------------------------------------

    def _error_body(self, status: int, error: str | None, body: dict[str, Any]) -> object:
        raise NotImplementedError

    def _complete_body(self, ctx: _Context, text: str) -> object:
        raise NotImplementedError

    def _stream_head(self, ctx: _Context) -> Iterator[bytes]:
        return iter(())

    def _stream_token(self, ctx: _Context, token: str) -> bytes:
        raise NotImplementedError

    def _stream_tail(self, ctx: _Context) -> Iterator[bytes]:
        raise NotImplementedError

    def _stream_error(self, message: str) -> bytes:
        raise NotImplementedError


def unused_port() -> int:
    """A loopback port nothing listens on (for "no server answers" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _echo_tokens(messages: object) -> list[str]:
    """The default answer: cites [1] and echoes the first words of the last user message."""
    question = ""
    if isinstance(messages, list):
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        if users:
            question = " ".join(str(users[-1].get("content", "")).split()[:12])
    text = f"Scripted answer [1]. You asked: {question}" if question else "Scripted answer [1]."
    return re.findall(r"\s*\S+", text)
