"""The RAG service builds the keyword index of older collections in the background.

At start, after the migration and the recovery sweep, a task walks every workspace's
collections and builds the keyword index of those made before it existed (store/backfill.py).
The service serves meanwhile: such a collection is searched by its vectors until its index is
built. If Redis fails midway, the task tries again a minute later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ragis.store import Store

__all__ = ["RETRY_SECONDS", "backfill_every_workspace", "start_backfill", "stop_backfill"]

log = logging.getLogger("ragis.rag")

RETRY_SECONDS = 60.0


async def backfill_every_workspace(store: Store) -> int:
    """Build every pending keyword index of every workspace; how many chunks were indexed."""
    indexed = 0
    for workspace in await store.workspaces.with_data():
        indexed += await store.scoped(workspace).backfill.run_all()
    return indexed


def start_backfill(store: Store, *, retry: float = RETRY_SECONDS) -> asyncio.Task[None]:
    return asyncio.create_task(_run(store, retry), name="lexical-backfill")


async def stop_backfill(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _run(store: Store, retry: float) -> None:
    while True:
        try:
            await backfill_every_workspace(store)
            return
        except Exception as exc:  # Redis away: try again later, keep serving
            log.warning("building keyword indexes failed (retrying in %.0f s): %s", retry, exc)
            await asyncio.sleep(retry)
