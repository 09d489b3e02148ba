"""Carry a sync plan out over the gateway's API, a few requests at a time, with progress.

Renames first (cheap, and they free nothing another action needs), then uploads and
replacements (2-4 at once: one file is parsed while another is embedded), then deletions. Each
step is idempotent against a fresh listing, so a sync cut short anywhere converges when re-run:
a replacement is atomic on the server (the old version is answered until the new one is
searchable), and an upload that finished is listed, next time, as unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from ragis.client.api import GatewayClient
from ragis.client.ingest import Progress
from ragis.client.sync.plan import Action, Plan, make_plan, remote_documents
from ragis.client.sync.scan import Scan, scan_folder
from ragis.errors import Conflict, InvalidInput, NotFound

__all__ = ["SyncSummary", "print_plan", "sync_folder"]

_CONCURRENCY = 3


@dataclass(slots=True)
class SyncSummary:
    added: int = 0
    replaced: int = 0
    renamed: int = 0
    deleted: int = 0
    unchanged: int = 0
    kept: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"{self.added} added, {self.replaced} replaced, {self.renamed} renamed, "
            f"{self.deleted} deleted, {self.unchanged} unchanged, {self.skipped} skipped, "
            f"{len(self.failed)} failed in {self.seconds:.1f} s"
            + (f" ({self.kept} gone from the folder, kept)" if self.kept else "")
        ]
        out += [f"  failed: {name!r}: {reason}" for name, reason in self.failed]
        return out


async def plan_folder(
    client: GatewayClient, root: Path, *, collection: str, keep_deleted: bool
) -> tuple[Scan, Plan]:
    """Scan the folder (hashing in threads) and compare it with one listing of the collection."""
    scan = await asyncio.to_thread(scan_folder, root)
    listing = await client.documents(collection)
    unreadable = [source for source, _ in scan.failed]
    plan = make_plan(
        scan.files, remote_documents(listing), keep_deleted=keep_deleted, unreadable=unreadable
    )
    return scan, plan


def print_plan(scan: Scan, plan: Plan, stream: TextIO) -> None:
    for action in plan.actions:
        stream.write(action.describe() + "\n")
    for source, holder in plan.duplicates.items():
        stream.write(f"same    {source} (the content of {holder})\n")
    for source, why in scan.skipped:
        stream.write(f"skip    {source} ({why})\n")
    for source, why in scan.failed:
        stream.write(f"fail    {source} ({why})\n")
    stream.write(
        f"{len(plan.of('upload'))} to add, {len(plan.of('replace'))} to replace, "
        f"{len(plan.of('rename'))} to rename, {len(plan.of('delete'))} to delete, "
        f"{len(plan.unchanged)} unchanged, {len(scan.skipped)} skipped, "
        f"{len(scan.failed)} unreadable (dry run: nothing changed)\n"
    )


async def sync_folder(
    client: GatewayClient,
    root: Path,
    *,
    collection: str,
    keep_deleted: bool = False,
    dry_run: bool = False,
    concurrency: int = _CONCURRENCY,
    stream: TextIO | None = None,
    out: TextIO | None = None,
) -> SyncSummary:
    """Make `collection` equal to the folder `root`; the summary (nothing done when dry_run:
    the plan is printed to `out` instead)."""
    started = time.monotonic()
    scan, plan = await plan_folder(client, root, collection=collection, keep_deleted=keep_deleted)
    summary = SyncSummary(
        unchanged=len(plan.unchanged),
        kept=len(plan.kept),
        skipped=len(scan.skipped),
        failed=list(scan.failed),
    )
    if dry_run:
        print_plan(scan, plan, out or sys.stdout)
        summary.seconds = time.monotonic() - started
        return summary

    progress = Progress(len(plan.actions), stream or sys.stderr)
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(action: Action, step: Callable[[], Awaitable[str]]) -> None:
        async with gate:
            try:
                outcome = await step()
            except (Conflict, InvalidInput, NotFound) as exc:
                # This one action is refused (a stale listing, a file the gateway rejects);
                # anything else (unreachable, signed out) stops the sync: it would refuse all.
                summary.failed.append((action.source, exc.message))
                outcome = "FAILED"
        progress.update(action.source, outcome)

    def step(action: Action) -> Callable[[], Awaitable[str]]:
        async def run() -> str:
            return await _carry_out(client, action, scan, collection, summary)

        return run

    for kinds in (("rename",), ("upload", "replace"), ("delete",)):
        await asyncio.gather(*(one(a, step(a)) for a in plan.actions if a.kind in kinds))
    summary.seconds = time.monotonic() - started
    return summary


async def _carry_out(
    client: GatewayClient, action: Action, scan: Scan, collection: str, summary: SyncSummary
) -> str:
    if action.kind == "rename":
        assert action.doc_id is not None
        await client.rename_document(action.doc_id, collection, action.source)
        summary.renamed += 1
        return f"renamed from {action.old_source}"
    if action.kind == "delete":
        assert action.doc_id is not None
        with contextlib.suppress(NotFound):  # already gone (another sync, a hand): as wanted
            await client.delete_document(action.doc_id, collection)
        summary.deleted += 1
        return "deleted"
    result = await client.upload(
        scan.paths[action.source],
        collection=collection,
        source=action.source,
        replaces=action.doc_id,
    )
    if not result.get("ok"):
        reason = str(result.get("error", {}).get("message", "failed"))
        summary.failed.append((action.source, reason))
        return "FAILED"
    if action.kind == "replace":
        summary.replaced += 1
        return "replaced"
    summary.added += 1
    return "duplicate content (already in the collection)" if result.get("duplicate") else "added"
