"""A loopback OpenAI-compatible LLM that answers at once: `/v1/chat/completions` (SSE chunks,
then `data: [DONE]`; JSON when not streamed) and `/v1/models`, over keep-alive HTTP/1.1.

It records, per streamed request, its own time from the end of the request to the first token
written (`server_ttft_ms`), so that what ragis adds on top can be told apart.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from types import TracebackType

__all__ = ["LoopbackLLM"]

MODEL = "bench-model"


class LoopbackLLM:
    def __init__(self, tokens: tuple[str, ...] = ("The answer", " is in", " [1]", ".")) -> None:
        self.tokens = tokens
        self.server_ttft_ms: list[float] = []
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> LoopbackLLM:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        ).result(10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                received = time.perf_counter()
                self.requests += 1
                if path.startswith("/v1/models"):
                    await self._json(writer, {"object": "list", "data": [{"id": MODEL}]})
                elif method == "POST" and path.startswith("/v1/chat/completions"):
                    request = json.loads(body or b"{}")
                    if request.get("stream"):
                        await self._stream(writer, received)
                    else:
                        await self._json(writer, _completion("".join(self.tokens)))
                else:
                    await self._json(writer, {"error": {"message": "not found"}}, status=404)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _json(self, writer: asyncio.StreamWriter, payload: object, status: int = 200) -> None:
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        await writer.drain()

    async def _stream(self, writer: asyncio.StreamWriter, received: float) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        for i, token in enumerate(self.tokens):
            delta = {"role": "assistant", "content": token} if i == 0 else {"content": token}
            _chunk(writer, _event(delta, None))
            if i == 0:
                await writer.drain()
                self.server_ttft_ms.append((time.perf_counter() - received) * 1000)
        _chunk(writer, _event({}, "stop"))
        _chunk(writer, b"data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def _event(delta: dict[str, str], finish: str | None) -> bytes:
    payload = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def _chunk(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(b"%X\r\n%s\r\n" % (len(data), data))


def _completion(text: str) -> dict[str, object]:
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
