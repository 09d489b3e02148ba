"""`/index` as a stream: a `progress` line per written batch, then the result or the error.

A caller that sends `Accept: application/x-ndjson` gets one JSON object per line:

    {"type": "progress", "embedded": 64, "total": 480}
    ...
    {"type": "result", ...IndexResponse}        or
    {"type": "error", "status": 503, "error": {"code": ..., "message": ...}}

The indexing runs in a task of its own; the stream only relays what it reports. When the caller
goes away, `NdjsonResponse` cancels the stream, whose `finally` cancels the indexing and waits
(shielded) until the indexer has removed what it wrote (rag/indexing.py): a client that leaves
stores nothing, and the request ends only once that is true.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import anyio

from ragis.errors import RagisError
from ragis.rag.indexing import Progress
from ragis.web.errors import status_for
from ragis.web.sse import EventStreamResponse

__all__ = ["NDJSON", "NdjsonResponse", "index_lines", "wants_stream"]

NDJSON = "application/x-ndjson"

log = logging.getLogger("ragis.rag")


class NdjsonResponse(EventStreamResponse):
    """Lines of JSON, streamed as they come; cancelled when the client disconnects."""

    media_type = NDJSON


def wants_stream(accept: str | None) -> bool:
    """Whether an `Accept` header asks for the NDJSON form."""
    return NDJSON in (accept or "").lower()


def _line(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


async def index_lines(
    run: Callable[[Progress], Coroutine[Any, Any, dict[str, Any]]],
) -> AsyncIterator[bytes]:
    """Run `run(progress)` (the indexing, answering the `IndexResponse` as JSON) and stream its
    progress, then its result or error, as lines."""
    reports: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
    task = asyncio.create_task(run(lambda done, total: reports.put_nowait((done, total))))
    waiting: asyncio.Task[tuple[int, int]] | None = None
    try:
        while not task.done() or not reports.empty():
            if reports.empty():
                waiting = asyncio.create_task(reports.get())
                await asyncio.wait({waiting, task}, return_when=asyncio.FIRST_COMPLETED)
                if not waiting.done():
                    waiting.cancel()
                    waiting = None
                    continue
                done, total = waiting.result()
                waiting = None
            else:
                done, total = reports.get_nowait()
            yield _line({"type": "progress", "embedded": done, "total": total})
        yield _line(_outcome(task))
    finally:
        with anyio.CancelScope(shield=True):
            if waiting is not None:
                waiting.cancel()
            if not task.done():
                # The client left: the indexer's own cleanup removes the half document; the
                # request ends once it has.
                task.cancel()
                await asyncio.wait({task})
            elif not task.cancelled():
                task.exception()  # retrieved (it was answered as an error line, or None)


def _outcome(task: asyncio.Task[dict[str, Any]]) -> dict[str, Any]:
    exc = task.exception()
    if exc is None:
        return {"type": "result", **task.result()}
    if isinstance(exc, RagisError):
        status, code, message = status_for(exc), exc.code, exc.message
    else:
        log.error("indexing failed", exc_info=exc)
        status, code = 500, "internal_error"
        message = "ragis hit an unexpected error; see the service log."
    return {"type": "error", "status": status, "error": {"code": code, "message": message}}
