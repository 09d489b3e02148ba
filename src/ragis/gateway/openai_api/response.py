"""A JSON answer that is only known once the whole chat stream was read, and that stops reading
as soon as the client leaves.

A non-streamed `/v1/chat/completions` reads the RAG service's stream to its end before it can
answer. Meanwhile nothing is sent, so a client that hangs up would go unnoticed until the LLM
had finished: `CollectedResponse` watches for `http.disconnect` while it collects (as
`ragis.web.sse.EventStreamResponse` does while it streams), cancels the collection at once, and
closes the upstream (`on_close`) in every case, so the RAG service stops its LLM call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

__all__ = ["CollectedResponse"]


class CollectedResponse(Response):
    """Sends the response `collect` returns; `on_close` runs however it ends."""

    def __init__(
        self,
        collect: Callable[[], Awaitable[Response]],
        *,
        on_close: Callable[[], Awaitable[None]],
    ) -> None:
        self._collect = collect
        self._on_close = on_close
        self.status_code = 200
        self.background = None
        self.init_headers({})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answer: Response | None = None
        try:
            async with anyio.create_task_group() as group:

                async def watch() -> None:
                    while True:
                        message = await receive()
                        if message["type"] == "http.disconnect":
                            group.cancel_scope.cancel()
                            return

                async def produce() -> None:
                    nonlocal answer
                    answer = await self._collect()
                    group.cancel_scope.cancel()

                group.start_soon(watch)
                group.start_soon(produce)
        finally:
            with anyio.CancelScope(shield=True):
                await self._on_close()
        if answer is not None:  # None: the client left
            await answer(scope, receive, send)
