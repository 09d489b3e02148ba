"""`/index` as a stream: a `progress` line per written batch, then the result or the error.

A caller that sends `Accept: application/x-ndjson` gets one JSON object per line:

    {"type": "progress", "embedded": 64, "total": 480}
    ...
    {"type": "result", ...IndexResponse}        or
    {"type": "error", "status": 503, "error": {"code": ..., "message": ...}}

The indexing runs in a task of its own (`ragis.web.followed`); the stream relays what it reports.
When the caller goes away, `NdjsonResponse` cancels the stream, which cancels the indexing and
waits until the indexer has removed what it wrote (rag/indexing.py): a client that leaves stores
nothing, and the request ends only once that is true.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from ragis.errors import RagisError
from ragis.rag.indexing import Progress
from ragis.web.errors import status_for
from ragis.web.followed import Followed
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
    followed: Followed[tuple[int, int], dict[str, Any]] = Followed(
        lambda report: run(lambda done, total: report((done, total)))
    )
    async for item in followed.reports():
        if item is not None:
            yield _line({"type": "progress", "embedded": item[0], "total": item[1]})
    try:
        result = followed.result()
    except RagisError as exc:
        yield _error(status_for(exc), exc.code, exc.message)
    except Exception:
        log.exception("indexing failed")
        yield _error(500, "internal_error", "ragis hit an unexpected error; see the service log.")
    else:
        yield _line({"type": "result", **result})


def _error(status: int, code: str, message: str) -> bytes:
    return _line({"type": "error", "status": status, "error": {"code": code, "message": message}})
