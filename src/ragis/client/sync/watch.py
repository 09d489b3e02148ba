"""`ragis sync DIR --watch`: sync, then sync again whenever the folder changes, until Ctrl-C.

watchfiles (Rust's notify underneath) reports changes debounced: a burst of writes (a file
being saved, a folder being copied in) becomes one re-sync 1.6 s after it settles. Each re-sync
is a whole sync from a fresh listing, so a change missed or doubled is harmless. Ctrl-C (or
SIGTERM) ends the wait cleanly; a sync under way is cut short, which a next run converges from.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ragis.client.api import GatewayClient
from ragis.client.sync.run import SyncSummary, sync_folder

__all__ = ["watch_folder"]

DEBOUNCE_MS = 1600
#: How often the watcher's thread answers when nothing changed (only its first answer is used).
WATCH_TICK_MS = 500


def _not_hidden(root: Path) -> Callable[[object, str], bool]:
    def keep(_change: object, path: str) -> bool:
        try:
            parts = Path(path).relative_to(root).parts
        except ValueError:
            return True
        return not any(part.startswith(".") for part in parts)

    return keep


async def watch_folder(
    client: GatewayClient,
    root: Path,
    *,
    collection: str,
    keep_deleted: bool = False,
    out: TextIO | None = None,
    on_summary: Callable[[SyncSummary], None] | None = None,
) -> SyncSummary:
    """Sync now and after every change until SIGINT/SIGTERM; the last sync's summary."""
    from watchfiles import awatch

    out = out or sys.stdout
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    summary = SyncSummary()
    watching = False
    try:
        # The watcher starts with the first iteration, in a thread of its own, and says nothing
        # when it is live: with `yield_on_timeout` its first (empty) answer comes once it is.
        # The first sync runs then, so nothing written before it is missed, nor after.
        async for changes in awatch(
            root,
            watch_filter=_not_hidden(await asyncio.to_thread(root.resolve)),
            debounce=DEBOUNCE_MS,
            stop_event=stop,
            recursive=True,
            rust_timeout=WATCH_TICK_MS,
            yield_on_timeout=True,
        ):
            if watching and not changes:
                continue
            summary = await _once(client, root, collection, keep_deleted, out, on_summary, stop)
            if not watching:
                watching = True
                out.write(f"watching {root} (Ctrl-C to stop)\n")
                out.flush()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return summary


async def _once(
    client: GatewayClient,
    root: Path,
    collection: str,
    keep_deleted: bool,
    out: TextIO,
    on_summary: Callable[[SyncSummary], None] | None,
    stop: asyncio.Event,
) -> SyncSummary:
    """One sync, cut short (with an empty summary) if a stop signal comes in the middle."""
    task = asyncio.ensure_future(
        sync_folder(client, root, collection=collection, keep_deleted=keep_deleted)
    )
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return SyncSummary()
    summary = task.result()
    for line in summary.lines():
        out.write(line + "\n")
    out.flush()
    if on_summary:
        on_summary(summary)
    return summary
