"""`ragis reindex --collection C --model M`: move a collection to another embedding model.

Follows the gateway's NDJSON stream (contract/reindex.py) with a progress bar on stderr (redrawn
in place on a terminal, a line per update otherwise, at most one a second), then prints one
summary line. Questions keep being answered from the old vectors while it runs. Ctrl-C (or a
lost connection) stops it; the same command resumes where it stopped.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from ragis.client.api import GatewayClient
from ragis.errors import RagisError

__all__ = ["ReindexFailed", "reindex", "summary"]

#: Seconds between two progress lines when stderr is not a terminal.
_EVERY = 1.0


class ReindexFailed(RagisError):
    """The reindex ended with an error line (the service's sentence)."""

    code = "reindex_failed"


class _Bar:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.shown = False
        self._last = 0.0

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if not self.tty and now - self._last < _EVERY and done < total:
            return
        self._last = now
        width = 24
        filled = int(width * done / total) if total else width
        line = f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} chunks re-embedded"
        self.stream.write(("\r\033[2K" + line) if self.tty else line + "\n")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        if self.tty and self.shown:
            self.stream.write("\n")
            self.stream.flush()


async def reindex(
    client: GatewayClient,
    collection: str,
    model: str | None,
    *,
    restart: bool = False,
    force: bool = False,
    progress: TextIO | None = None,
) -> dict[str, Any]:
    """Run the reindex through the gateway; its result line. `ReindexFailed` for an error line,
    the client's errors for a refusal before the stream."""
    body: dict[str, Any] = {"model": model, "restart": restart, "force": force}
    bar = _Bar(progress if progress is not None else sys.stderr)
    try:
        async for line in client.reindex(collection, body):
            kind = line.get("type")
            if kind == "progress":
                bar.update(int(line["done"]), int(line["total"]))
            elif kind == "result":
                return line
            elif kind == "error":
                error = line.get("error") or {}
                raise ReindexFailed(str(error.get("message") or "The reindex failed."))
    finally:
        bar.end()
    raise ReindexFailed(
        "The gateway ended the reindex stream before its result: run the same command again "
        "to resume."
    )


def summary(result: dict[str, Any]) -> str:
    """One line saying what happened."""
    name = result["collection"]
    if result.get("unchanged"):
        return (
            f"Collection {name} already uses {result['model']}: nothing to do "
            "(--force re-embeds it anyway)."
        )
    seconds = float(result.get("timings", {}).get("total_ms", 0.0)) / 1000
    how = " (resumed)" if result.get("resumed") else ""
    return (
        f"Collection {name} moved from {result['previous_model']} to {result['model']} "
        f"({result['dim']} dims){how}: {result['chunks']} chunks of {result['documents']} "
        f"documents, {result['embedded']} embedded in {seconds:.1f} s."
    )
