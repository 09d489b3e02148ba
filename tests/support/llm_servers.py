"""Scripted LLM servers on loopback: real HTTP on 127.0.0.1, the exact wire protocols.

`OpenAIServer` speaks OpenAI's `/v1/chat/completions` (SSE chunks, then `data: [DONE]`) and
`/v1/models`; `OllamaServer` speaks Ollama's `/api/chat` (NDJSON), `/api/tags` and `/api/version`.
Each runs in a background thread, so sync tests, async tests and subprocesses can all use it::

    with OpenAIServer() as server:                 # or OllamaServer(); also .start() / .stop()
        server.script(Reply(tokens=["Hel", "lo"]))  # the next chat request gets exactly this
        server.script(Reply.http_error(500), Reply(tokens=["ok"]))  # queue: one per request
        client_base_url = server.base_url          # OpenAI: url + "/v1"; Ollama: server.url
        ...
        server.chat_requests[-1].json["messages"]  # every request is recorded (path, headers, JSON)
        assert server.wait_for_disconnect(timeout=2)  # a client hung up mid-stream
        # async tests: assert await server.wait_for_disconnect_async(within=2)

A chat request with nothing scripted gets `server.default_reply`; unless replaced, that is a
deterministic answer that cites "[1]" and echoes the start of the last user message.

`Reply` fields (all optional):

- `tokens`: the deltas to stream (non-stream requests get them joined);
- `first_token_delay` / `token_delay`: seconds before the first delta / between two deltas
  (headers are sent at once; the delays are where a client's read timeout bites);
- `status` + `error`: answer with this HTTP status and an error body in the server's dialect
  (`Reply.http_error(401)`; the default message imitates the real server's for 401/404/429/500);
- `drop_after=N`: send N deltas, then cut the TCP connection (no end of stream);
- `error_after=N`: send N deltas, then an in-stream error event (`error` is its message);
- `hang=True`: never answer; the handler waits until the client gives up or the server stops.

Recorded: `requests` / `chat_requests` (`RecordedRequest`), `disconnects` (clients that closed
the connection before a stream's scripted end, detected within ~20 ms even while the server is
waiting), `completed` (streams that reached their scripted end; counted before the client can see
it). `reset()` waits for requests in progress, then clears script and records: call it between
tests that share a server.

`unused_port()` gives a loopback port where nothing answers.

Also: `OpenAIServer(api_key="sk-x")` answers 401 to any other bearer token; `OllamaServer` answers
404 `model "x" not found` for a model not in `server.models` (like real Ollama; `llama3.2`
matches `llama3.2:latest`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self

__all__ = [
    "OllamaServer",
    "OpenAIServer",
    "RecordedRequest",
    "Reply",
    "ScriptedLLMServer",
    "unused_port",
]


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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() closes open connections itself
    owner: ScriptedLLMServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, add=False)
        super().finish()

    def do_GET(self) -> None:
        self.server.owner._handle(self, "GET")

    def do_POST(self) -> None:
        self.server.owner._handle(self, "POST")


class _Exchange:
    """One request's response: JSON, or a chunked stream that notices a client hanging up."""

    def __init__(self, handler: _Handler, stopping: threading.Event) -> None:
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
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
            return bool(readable) and self.sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _write(self, data: bytes) -> None:
        try:
            self.handler.wfile.write(data)
        except OSError as exc:
            raise _ClientGone from exc


class ScriptedLLMServer:
    """The shared machinery; use `OpenAIServer` or `OllamaServer`."""

    chat_path: ClassVar[str]
    stream_content_type: ClassVar[str]
    stream_by_default: ClassVar[bool]

    def __init__(self, *, models: Sequence[str] = ()) -> None:
        self.models: list[str] = list(models)
        self.default_reply: Reply | None = None  # None: the echo answer
        self._script: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        self._completed = 0
        self._active = 0  # requests being answered
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._ids = itertools.count(1)
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._changed:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """`http://127.0.0.1:PORT` (the server must be started)."""
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # --- scripting and records -------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies; each chat request takes the next one, then `default_reply`."""
        with self._changed:
            self._script.extend(replies)

    def reset(self, timeout: float = 2.0) -> None:
        """Forget script and records, once the requests being answered are done (at most
        `timeout` s), so that a previous test's stream cannot count in the next one."""
        with self._changed:
            self._changed.wait_for(lambda: self._active == 0, timeout)
            self._script.clear()
            self._requests.clear()
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

    def wait_for_disconnect(self, timeout: float = 2.0, count: int = 1) -> bool:
        """Block until at least `count` clients hung up mid-stream; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._disconnects >= count, timeout)

    async def wait_for_disconnect_async(self, within: float = 2.0, count: int = 1) -> bool:
        """`wait_for_disconnect` for async tests: waits in a thread, not on the event loop."""
        return await asyncio.to_thread(self.wait_for_disconnect, within, count)

    # --- request handling ------------------------------------------------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._changed:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _handle(self, handler: _Handler, method: str) -> None:
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


class OpenAIServer(ScriptedLLMServer):
    """OpenAI's chat-completions API; point the client at `base_url` (`url` + "/v1")."""

    chat_path = "/v1/chat/completions"
    stream_content_type = "text/event-stream; charset=utf-8"
    stream_by_default = False

    def __init__(
        self, *, models: Sequence[str] = ("gpt-4o-mini",), api_key: str | None = None
    ) -> None:
        super().__init__(models=models)
        self.api_key = api_key

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def _route(self, ex: _Exchange, request: RecordedRequest) -> None:
        if self.api_key is not None and request.headers.get("authorization") != (
            f"Bearer {self.api_key}"
        ):
            ex.send_json(401, self._error_body(401, None, {}))
        elif request.method == "GET" and request.path == "/v1/models":
            models = [
                {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "ragis-tests"}
                for m in self.models
            ]
            ex.send_json(200, {"object": "list", "data": models})
        elif request.method == "POST" and request.path == self.chat_path:
            if not isinstance(request.json, dict):
                ex.send_json(400, _openai_error("We could not parse the JSON body.", "invalid"))
            else:
                self._chat(ex, request.json)
        else:
            message = f"Invalid URL ({request.method} {request.path})"
            ex.send_json(404, _openai_error(message, "invalid_request_error"))

    def _error_body(self, status: int, error: str | None, body: dict[str, Any]) -> object:
        if status == 401:
            message = (
                "Incorrect API key provided: sk-test*****1234. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            kind, code = "invalid_request_error", "invalid_api_key"
        elif status == 404:
            model = body.get("model", "")
            message = f"The model `{model}` does not exist or you do not have access to it."
            kind, code = "invalid_request_error", "model_not_found"
        elif status == 429:
            message = "Rate limit reached for requests."
            kind, code = "requests", "rate_limit_exceeded"
        else:
            message = "The server had an error while processing your request. Sorry about that!"
            kind, code = "server_error", "server_error"
        return _openai_error(error or message, kind, code)

    def _chunk(self, ctx: _Context, delta: dict[str, str], finish: str | None) -> bytes:
        chunk = {
            "id": f"chatcmpl-ragis{ctx.number}",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": ctx.model,
            "system_fingerprint": "fp_ragis_tests",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    def _stream_head(self, ctx: _Context) -> Iterator[bytes]:
        yield self._chunk(ctx, {"role": "assistant", "content": ""}, None)

    def _stream_token(self, ctx: _Context, token: str) -> bytes:
        return self._chunk(ctx, {"content": token}, None)

    def _stream_tail(self, ctx: _Context) -> Iterator[bytes]:
        yield self._chunk(ctx, {}, "stop")
        yield b"data: [DONE]\n\n"

    def _stream_error(self, message: str) -> bytes:
        error = _openai_error(message, "server_error")
        return b"data: " + json.dumps(error).encode() + b"\n\n"

    def _complete_body(self, ctx: _Context, text: str) -> object:
        return {
            "id": f"chatcmpl-ragis{ctx.number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": ctx.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }


class OllamaServer(ScriptedLLMServer):
    """Ollama's native API; point the client at `url`."""

    chat_path = "/api/chat"
    stream_content_type = "application/x-ndjson"
    stream_by_default = True  # like Ollama: `"stream"` absent means streaming

    def __init__(self, *, models: Sequence[str] = ("llama3.2:latest",)) -> None:
        super().__init__(models=models)

    def _route(self, ex: _Exchange, request: RecordedRequest) -> None:
        if request.method == "GET" and request.path == "/api/tags":
            ex.send_json(200, {"models": [_ollama_model(m) for m in self.models]})
        elif request.method == "GET" and request.path == "/api/version":
            ex.send_json(200, {"version": "0.6.5"})
        elif request.method == "POST" and request.path == self.chat_path:
            body = request.json
            if not isinstance(body, dict):
                ex.send_json(400, {"error": "invalid request body"})
            elif not self._knows(str(body.get("model", ""))):
                ex.send_json(404, self._error_body(404, None, body))
            else:
                self._chat(ex, body)
        else:
            ex.send_bytes(404, b"404 page not found", "text/plain")

    def _knows(self, model: str) -> bool:
        return model in self.models or f"{model}:latest" in self.models

    def _error_body(self, status: int, error: str | None, body: dict[str, Any]) -> object:
        defaults = {
            401: "unauthorized",
            404: f'model "{body.get("model", "")}" not found, try pulling it first',
            429: "server busy, please try again.  maximum pending requests exceeded",
        }
        return {"error": error or defaults.get(status, "llama runner process has terminated")}

    def _line(self, payload: dict[str, Any]) -> bytes:
        return json.dumps(payload).encode() + b"\n"

    def _stream_token(self, ctx: _Context, token: str) -> bytes:
        return self._line(
            {
                "model": ctx.model,
                "created_at": _now(),
                "message": {"role": "assistant", "content": token},
                "done": False,
            }
        )

    def _stream_tail(self, ctx: _Context) -> Iterator[bytes]:
        yield self._line(self._complete_body(ctx, ""))

    def _stream_error(self, message: str) -> bytes:
        return self._line({"error": message})

    def _complete_body(self, ctx: _Context, text: str) -> dict[str, Any]:
        return {
            "model": ctx.model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": text},
            "done_reason": "stop",
            "done": True,
            "total_duration": 1_000_000,
            "load_duration": 100_000,
            "prompt_eval_count": 10,
            "prompt_eval_duration": 200_000,
            "eval_count": 5,
            "eval_duration": 700_000,
        }


def unused_port() -> int:
    """A loopback port nothing listens on (for "no server answers" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _openai_error(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _ollama_model(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "modified_at": "2026-01-01T00:00:00Z",
        "size": 2_019_393_189,
        "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
        "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
    }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _echo_tokens(messages: object) -> list[str]:
    """The default answer: cites [1] and echoes the first words of the last user message."""
    question = ""
    if isinstance(messages, list):
        users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        if users:
            question = " ".join(str(users[-1].get("content", "")).split()[:12])
    text = f"Scripted answer [1]. You asked: {question}" if question else "Scripted answer [1]."
    return re.findall(r"\s*\S+", text)
