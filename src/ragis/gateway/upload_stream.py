"""The SSE form of an upload (`Accept: text/event-stream`), and the answer both forms share.

One event per step, in order, for each file (by its place `index` in the upload):

    event: stage     {index, file, stage: "upload"}    the file was received
    event: stage     {index, file, stage: "parse"}     ... then "chunk", then "embed"
    event: progress  {index, file, embedded, total, eta_ms}   after each embedded batch
    event: stage     {index, file, stage: "done"}      indexed
    event: file      {index, result}                   as the JSON answer's `results[i]`

then `event: done {upload}` (the JSON answer) last. A comment `: ping` comes after each
RAGIS_SSE_HEARTBEAT seconds (10 by default) without an event, e.g. during a long parse.

The files are ingested in a task (`ragis.web.followed`). A client that leaves cancels it: the
parse child is killed, or the `/index` request closed and the RAG service keeps nothing of the
file. Files finished before stay (each file is its own document).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from ragis.gateway.pipeline import IngestWatcher, Stage
from ragis.gateway.schemas import ErrorBody, FileFailed, FileIndexed, UploadPublic
from ragis.gateway.uploads import UploadedFile
from ragis.web.followed import Followed
from ragis.web.sse import encode_event

__all__ = ["EVENT_STREAM", "Outcome", "upload_answer", "upload_events", "wants_events"]

EVENT_STREAM = "text/event-stream"
_PING = b": ping\n\n"

#: One file's result and the status it would have alone (200 when indexed).
Outcome = tuple[FileIndexed | FileFailed, int]
#: Ingest the file at `index`, told to a watcher (None: no one watches).
IngestOne = Callable[[int, UploadedFile, IngestWatcher | None], Awaitable[Outcome]]


def wants_events(accept: str | None) -> bool:
    return EVENT_STREAM in (accept or "").lower()


def upload_answer(collection: str, outcomes: Sequence[Outcome]) -> tuple[UploadPublic, int]:
    """The upload's answer and status: 200 when a file was indexed, else the status of the
    first failure with a top-level `error`."""
    answer = UploadPublic(collection=collection, results=[result for result, _ in outcomes])
    if any(r.ok for r in answer.results):
        return answer, 200
    first = answer.results[0]
    assert isinstance(first, FileFailed)
    message = first.error.message
    if len(answer.results) > 1:
        message = f"None of the {len(answer.results)} files could be added. The first: {message}"
    answer.error = ErrorBody(code=first.error.code, message=message)
    return answer, outcomes[0][1]


class _Watch:
    """One file's watcher: its stages and progress as events, with an estimate of the time
    left from the pace of the batches so far."""

    def __init__(self, emit: Callable[[bytes], None], index: int, name: str) -> None:
        self._emit = emit
        self._index = index
        self._name = name
        self._embedding_since: float | None = None

    def stage(self, stage: Stage) -> None:
        if stage == "embed":
            self._embedding_since = time.monotonic()
        self._emit(encode_event("stage", {"index": self._index, "file": self._name,
                                          "stage": stage}))  # fmt: skip

    def embedded(self, done: int, total: int) -> None:
        eta_ms: int | None = None
        if self._embedding_since is not None and done > 0:
            pace = (time.monotonic() - self._embedding_since) / done
            eta_ms = round(max(total - done, 0) * pace * 1000)
        where = {"index": self._index, "file": self._name}
        progress = {"embedded": done, "total": total, "eta_ms": eta_ms}
        self._emit(encode_event("progress", {**where, **progress}))


async def upload_events(
    collection: str,
    files: Sequence[UploadedFile],
    names: Sequence[str],
    ingest: IngestOne,
    *,
    heartbeat: float,
) -> AsyncIterator[bytes]:
    """The upload's event stream (see the module doc). `names`: the files' sanitised names."""

    async def run(emit: Callable[[bytes], None]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        # One file after the other, as the JSON form: files of one request never race.
        for index, (upload, name) in enumerate(zip(files, names, strict=True)):
            watch = _Watch(emit, index, name)
            watch.stage("upload")
            outcome = await ingest(index, upload, watch)
            if outcome[0].ok:
                watch.stage("done")
            emit(encode_event("file", {"index": index, "result": _json(outcome[0])}))
            outcomes.append(outcome)
        return outcomes

    followed: Followed[bytes, list[Outcome]] = Followed(run, idle=heartbeat)
    async for event in followed.reports():
        yield _PING if event is None else event
    answer, status = upload_answer(collection, followed.result())
    upload = answer.model_dump(mode="json", exclude={"error"} if status == 200 else None)
    yield encode_event("done", {"upload": upload})


def _json(result: FileIndexed | FileFailed) -> dict[str, Any]:
    return result.model_dump(mode="json")
