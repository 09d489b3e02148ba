"""Running recovery in the RAG service: once at start, then every lease period.

The store's `Recovery` removes documents whose writer is gone (see store/recovery.py). At start
the service sweeps every collection, reading every record (data of an older ragis had no
`ingesting` set), so a document left by a writer killed earlier, whose lease has expired, is
gone before the service answers. A writer killed moments before may still hold a live lease at
that point, and Redis restarted under a running service leaves its documents without a writer
too: a background task sweeps again every `RAGIS_INDEX_LEASE` seconds, so no document stays
`ingesting` longer than about two lease periods after its writer is gone. Listing documents or
collections and indexing also sweep the collection first (rag/routes/collections.py, indexing).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ragis.store import Store

__all__ = ["start_recovery", "stop_recovery", "sweep_every_workspace"]

log = logging.getLogger("ragis.rag")


async def start_recovery(store: Store, *, every: float) -> asyncio.Task[None]:
    """Sweep every collection now, then in a background task every `every` seconds."""
    await _sweep(store, full=True)
    return asyncio.create_task(_keep_sweeping(store, every), name="recovery")


async def stop_recovery(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _keep_sweeping(store: Store, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        await _sweep(store, full=False)


async def sweep_every_workspace(store: Store, *, full: bool) -> int:
    """Sweep every collection of every workspace; how many documents were removed."""
    removed = 0
    for workspace in await store.workspaces.with_data():
        removed += len(await store.scoped(workspace).recovery.sweep_all(full=full))
    return removed


async def _sweep(store: Store, *, full: bool) -> None:
    try:
        removed = await sweep_every_workspace(store, full=full)
    except Exception as exc:  # Redis away: the next sweep tries again
        log.warning("recovery could not run: %s", exc)
        return
    if removed:
        log.warning("recovery removed %d interrupted document(s)", removed)
