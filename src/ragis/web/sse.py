"""Server-Sent Events: encoding, and a response that stops its producer when the client leaves.

`EventStreamResponse` always watches for `http.disconnect` and cancels the producing iterator at
once, whatever ASGI spec version the server speaks: a chat whose reader went away must stop its
LLM request now, not when the next token happens to be sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["SSE_HEADERS", "EventStreamResponse", "encode_event", "heartbeat"]

SSE_HEADERS = {
    "Cache-Control": "no-cache",
    # Tell nginx and similar proxies not to buffer the stream.
    "X-Accel-Buffering": "no",
    "Connection": "keep-alive",
}


def encode_event(event: str, data: Mapping[str, Any]) -> bytes:
    """One SSE event: `event: <type>` and one `data:` line of JSON that also carries `type`."""
    payload = json.dumps({"type": event, **data}, ensure_ascii=False, separators=(",", ":"))
    return f"event: {event}\ndata: {payload}\n\n".encode()


def heartbeat() -> bytes:
    """An SSE comment: keeps proxies and browsers from timing out a silent stream."""
    return b": keep-alive\n\n"


class EventStreamResponse(Response):
    """A response streaming bytes from `content`, cancelled when the client disconnects."""

    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterable[bytes],
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.content = content
        self.status_code = status_code
        self.background = None
        self.init_headers({**SSE_HEADERS, **(headers or {})})
        self.disconnected = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_headers = self.raw_headers
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        self.disconnected = True
                        group.cancel_scope.cancel()
                        return

            async def produce() -> None:
                await send(
                    {
                        "type": "http.response.start",
                        "status": self.status_code,
                        "headers": raw_headers,
                    }
                )
                iterator: AsyncIterator[bytes] = aiter(self.content)
                try:
                    async for chunk in iterator:
                        await send({"type": "http.response.body", "body": chunk, "more_body": True})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                except OSError:
                    self.disconnected = True
                finally:
                    aclose = getattr(iterator, "aclose", None)
                    if aclose is not None:
                        with anyio.CancelScope(shield=True):
                            await aclose()
                group.cancel_scope.cancel()

            group.start_soon(watch)
            group.start_soon(produce)
