"""Folder sync: what re-syncing an unchanged folder costs, against its first sync.

A folder of small text files (1,000; 50 in quick mode), each with words of its own, is synced
into an empty collection with `ragis sync`'s own code (`sync_folder` over `GatewayClient`):
every file is hashed, uploaded, parsed, chunked, embedded and indexed. Then the same folder is
synced again, unchanged: every file is hashed again, the collection is listed once, and nothing
is sent. The goal is the issue's: the unchanged re-sync takes at most 5% of the first.

Run alone with `python -m bench.sections.sync [--quick] [--out docs]`: it starts its own stack,
then replaces this section in docs/benchmarks.md and leaves the rest of the report as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.context import Context
from bench.report import Goal, Section, Table, replace_section
from bench.servers import Stack, start_stack
from ragis.client.api import GatewayClient
from ragis.client.sync.run import SyncSummary, sync_folder
from ragis.embedding.cpu import detect_cpu

__all__ = ["GOAL_RATIO", "TITLE", "measure", "run"]

TITLE = "14. Folder sync: an unchanged re-sync against the first"  # as in TITLES
GOAL_RATIO = 0.05
COLLECTION = "bench-sync"
_ANIMALS = ("otter", "heron", "badger", "lynx", "marten", "stoat", "vole", "wren", "ibis", "newt")


def run(ctx: Context) -> Section:
    assert ctx.stack is not None, "the sync section runs inside the benchmark's stack"
    files = 50 if ctx.quick else 1_000
    return _section(asyncio.run(measure(ctx.stack, ctx.work / "sync-folder", files=files)))


def make_folder(folder: Path, files: int) -> int:
    """`files` small text files in a few subfolders, each unlike the others; their bytes."""
    total = 0
    for i in range(files):
        animal = _ANIMALS[i % len(_ANIMALS)]
        path = folder / f"shelf{i % 20:02}" / f"note-{i:05}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        text = (
            f"Field note {i}: the {animal} number {i} was seen near marker {i * 7919 % 10007}. "
            f"It ate {i % 13} times and slept {i % 9} hours; observer code {i:05}.\n"
        )
        path.write_text(text * 3)
        total += len(text) * 3
    return total


async def measure(stack: Stack, folder: Path, *, files: int) -> dict[str, Any]:
    """The summaries and wall times of a first sync and an unchanged re-sync."""
    size = make_folder(folder, files)
    async with GatewayClient(stack.gateway_url, timeout=600) as client:
        started = time.perf_counter()
        first = await sync_folder(client, folder, collection=COLLECTION, stream=io.StringIO())
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = await sync_folder(client, folder, collection=COLLECTION, stream=io.StringIO())
        again_s = time.perf_counter() - started
    return {"files": files, "bytes": size, "first": (first, first_s), "again": (again, again_s)}


def _section(result: dict[str, Any]) -> Section:
    first, first_s = result["first"]
    again, again_s = result["again"]
    assert isinstance(first, SyncSummary)
    assert isinstance(again, SyncSummary)
    files = result["files"]
    if first.failed or again.failed or first.added != files or again.unchanged != files:
        raise RuntimeError(
            f"the sync did not converge: first {first.lines()[0]}; again {again.lines()[0]}"
        )
    ratio = again_s / first_s
    return Section(
        key="sync",
        title=TITLE,
        intro=(
            f"`ragis sync` (its own code over the gateway's API, 3 uploads at once) of a folder "
            f"of {files:,} small text files ({result['bytes'] / 1024:.0f} KiB) into an empty "
            f"collection, then of the same folder unchanged, on {_cpu()}."
        ),
        tables=[
            Table(
                "Wall time of a sync",
                ["sync", "files sent", "seconds", "ms per file"],
                [
                    ["first (all new)", first.added, f"{first_s:.2f}", _per(first_s, files)],
                    ["again, unchanged", 0, f"{again_s:.3f}", _per(again_s, files)],
                ],
            )
        ],
        goals=[
            Goal(
                f"re-sync of an unchanged folder of {files:,} files vs its first sync",
                f"≤ {GOAL_RATIO:.0%}",
                f"{ratio:.1%} ({again_s:.2f} s vs {first_s:.1f} s)",
                ratio <= GOAL_RATIO,
            )
        ],
        notes=[
            "An unchanged re-sync hashes every file (in 8 threads), lists the collection once "
            "and sends nothing else; the first sync also parses, chunks, embeds and indexes "
            "every file on the server, which is most of its time.",
        ],
    )


def _per(seconds: float, files: int) -> str:
    return f"{seconds * 1000 / files:.2f}"


def _cpu() -> str:
    cpu = detect_cpu()
    return f"{cpu.model} ({cpu.arch}, {cpu.cores} cores)"


def main(argv: Sequence[str] | None = None) -> int:
    from ragis.embedding.select import load_embedder

    parser = argparse.ArgumentParser(prog="python -m bench.sections.sync")
    parser.add_argument("--quick", action="store_true", help="50 files instead of 1,000")
    parser.add_argument("--out", type=Path, default=Path("docs"), help="report folder (docs)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ragis-bench-sync-") as work:
        embedder = load_embedder("torch-fp32", cache_dir=Path(work) / "models")
        with start_stack(Path(work), embedder, llm_base_url=None) as stack:
            files = 50 if args.quick else 1_000
            result = asyncio.run(measure(stack, Path(work) / "folder", files=files))
    section = _section(result)
    section.seconds = time.perf_counter() - started
    print(replace_section(args.out / "benchmarks.md", section))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
