"""A coroutine run in a task of its own while a response streams what it reports.

    followed = Followed(lambda report: index(..., progress=report), idle=10.0)
    async for item in followed.reports():   # each report as it comes; None after 10 s of quiet
        yield encode(item)
    answer = followed.result()              # or its exception

The streaming form of a long request (`/index` in NDJSON, an upload in SSE) runs the work in a
task and relays its reports. When the stream is cancelled (the client left: `EventStreamResponse`
cancels it), `reports()`'s `finally` cancels the work and waits, shielded, until it has cleaned
up, so the request ends only once the work is really over (nothing half-written behind it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any, Generic, TypeVar

import anyio

__all__ = ["Followed"]

R = TypeVar("R")
T = TypeVar("T")


class Followed(Generic[R, T]):
    def __init__(
        self,
        run: Callable[[Callable[[R], None]], Coroutine[Any, Any, T]],
        *,
        idle: float | None = None,
    ) -> None:
        self._run = run
        self._idle = idle
        self._task: asyncio.Task[T] | None = None

    async def reports(self) -> AsyncGenerator[R | None]:
        """Start the work; yield each report in order, None after `idle` seconds without one
        (for a heartbeat); end once the work has ended and every report is out."""
        queue: asyncio.Queue[R] = asyncio.Queue()
        task = self._task = asyncio.create_task(self._run(queue.put_nowait))
        waiting: asyncio.Task[R] | None = None
        try:
            while not task.done() or not queue.empty():
                if not queue.empty():
                    yield queue.get_nowait()
                    continue
                # A cancelled get() leaves an item it did not return in the queue.
                waiting = asyncio.create_task(queue.get())
                await asyncio.wait(
                    {waiting, task}, timeout=self._idle, return_when=asyncio.FIRST_COMPLETED
                )
                if waiting.done():
                    item, waiting = waiting.result(), None
                    yield item
                    continue
                waiting.cancel()
                waiting = None
                if not task.done():
                    yield None
        finally:
            with anyio.CancelScope(shield=True):
                if waiting is not None:
                    waiting.cancel()
                if not task.done():
                    task.cancel()
                    await asyncio.wait({task})

    def result(self) -> T:
        """The work's answer, or its exception raised (after `reports()` has ended)."""
        if self._task is None or not self._task.done():
            raise RuntimeError("the work has not ended: read every report first")
        return self._task.result()
