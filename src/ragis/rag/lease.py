"""The writer's side of a document's lease: renew it while indexing, notice when it is lost.

`begin()` gives a document a lease of `RAGIS_INDEX_LEASE` seconds (store/documents.py). While
the writer embeds and writes, a `Heartbeat` renews it every third of that, so only a writer that
is gone (killed, crashed, or stalled for a whole lease) lets it expire, after which recovery may
remove the document. A writer whose renewal finds the lease no longer its own stops before its
next write (`check()`), and `mark_ready()` refuses it anyway: it never makes ready a document
whose chunks recovery may be removing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType

from ragis.errors import IndexInterrupted
from ragis.store import DocumentRegistry

__all__ = ["Heartbeat"]

log = logging.getLogger("ragis.rag")


class Heartbeat:
    """`async with Heartbeat(...) as beat:` renews the lease until the block ends."""

    def __init__(
        self,
        documents: DocumentRegistry,
        collection: str,
        doc_id: str,
        lease: str,
        lease_ms: int,
        *,
        label: str = "",
    ) -> None:
        self._documents = documents
        self._collection = collection
        self._doc_id = doc_id
        self._lease = lease
        self._lease_ms = lease_ms
        self._label = label or doc_id
        self._task: asyncio.Task[None] | None = None
        self.lost = False

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._run(), name=f"lease {self._doc_id}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def check(self) -> None:
        """Raise `IndexInterrupted` once the lease is known to be lost."""
        if self.lost:
            raise IndexInterrupted(
                f"Indexing {self._label!r} lost its lease (the writer stalled for longer than "
                "RAGIS_INDEX_LEASE, or Redis restarted), so it was stopped and nothing of it is "
                "kept: upload it again."
            )

    async def _run(self) -> None:
        interval = self._lease_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await self._documents.renew(
                    self._collection, self._doc_id, self._lease, self._lease_ms
                )
            except Exception as exc:  # Redis away: the writes fail on their own
                log.warning("could not renew the lease of %s: %s", self._doc_id, exc)
                continue
            if not renewed:
                log.warning("the lease of %s was lost; stopping its ingestion", self._doc_id)
                self.lost = True
                return
