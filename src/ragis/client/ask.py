"""`ragis ask "question"`: stream an answer into the terminal, then its numbered sources."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ragis.client.api import GatewayClient
from ragis.errors import RagisError

__all__ = ["ask"]


async def ask(
    client: GatewayClient,
    question: str,
    *,
    collection: str | None = None,
    session_id: str | None = None,
    top_k: int | None = None,
    retrieval: str | None = None,
    document: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Print the answer as it streams; returns the exit code (0, or 1 after an error event)."""
    # Resolved now, not at import: sys.stdout may have been replaced since (a test's capture).
    out, err = out or sys.stdout, err or sys.stderr
    citations: list[dict[str, Any]] = []
    meta: dict[str, Any] = {}
    done: dict[str, Any] | None = None
    async for event, data in client.chat(
        question, collection=collection, session_id=session_id, top_k=top_k,
        retrieval=retrieval, doc_ids=[document] if document else [],
    ):  # fmt: skip
        if event == "meta":
            meta = data
        elif event == "citations":
            citations = list(data.get("citations", []))
        elif event == "token":
            out.write(str(data.get("text", "")))
            out.flush()
        elif event == "done":
            done = data
        elif event == "error":
            out.write("\n")
            out.flush()
            raise RagisError(str(data.get("message", "the answer failed")))
    out.write("\n")
    if citations:
        grounded = meta.get("grounded", True) is not False
        out.write("\nSources:\n" if grounded else "\nClosest passages (none answers it):\n")
        for c in citations:
            # A locator ("slide 4", "Sheet1, rows 2-41") says more than the page it is on.
            page = (
                f", {c['locator']}" if c.get("locator")
                else f", page {c['page']}" if c.get("page") else ""
            )  # fmt: skip
            legs = "+".join(str(leg) for leg in c.get("legs") or ())
            found_by = f", {legs}" if legs else ""
            out.write(
                f"  [{c['n']}] {c['filename']}{page}  (score {float(c['score']):.2f}{found_by})\n"
            )
    notes = []
    if meta.get("scope") == "document":
        notes.append("read the whole document")
    if meta.get("cache_hit"):
        notes.append("answered from the semantic cache")
    if done and "total" in done.get("timings", {}):
        notes.append(f"{done['timings']['total']:.0f} ms")
    if meta.get("session_id"):
        notes.append(f"continue with --session {meta['session_id']}")
    if notes:
        err.write("(" + "; ".join(notes) + ")\n")
    out.flush()
    return 0
