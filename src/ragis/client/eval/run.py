"""Ask the gateway every question, as a user would, and time each answer's stream.

Retrieval modes: today the gateway has one (its RAGIS_RETRIEVAL), reported as `default`. When it
accepts a per-request mode, `evaluate(modes=[...])` passes each to `ask_one`, and the report
already puts the modes side by side.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ragis.client.api import GatewayClient
from ragis.client.eval.metrics import Cited, Outcome, summarize
from ragis.client.eval.questions import Question, load_questions
from ragis.client.eval.report import format_summary, report_json
from ragis.errors import InvalidInput, RagisError

__all__ = ["DEFAULT_MODE", "ask_one", "evaluate"]

DEFAULT_MODE = "default"


async def ask_one(
    client: GatewayClient,
    question: Question,
    *,
    mode: str = DEFAULT_MODE,
    collection: str | None = None,
    top_k: int | None = None,
) -> Outcome:
    """One question through the chat stream. An `error` event is this question's failure (kept
    in its Outcome); a refusal of the request itself (401, 404 collection, unreachable) raises,
    as it would fail every other question too."""
    started = time.perf_counter()
    at_citations: float | None = None
    cited: tuple[Cited, ...] = ()
    meta: dict[str, Any] = {}
    answer: list[str] = []
    error: str | None = None
    async for event, data in client.chat(question.question, collection=collection, top_k=top_k):
        if event == "meta":
            meta = data
        elif event == "citations":
            at_citations = time.perf_counter()
            cited = tuple(_cited(c) for c in data.get("citations", []) if isinstance(c, dict))
        elif event == "token":
            answer.append(str(data.get("text", "")))
        elif event == "error":
            error = str(data.get("message", "the answer failed"))[:300]
    finished = time.perf_counter()
    return Outcome(
        question=question,
        mode=mode,
        cited=cited,
        answer="".join(answer),
        provider=str(meta.get("provider", "none")),
        cache_hit=bool(meta.get("cache_hit", False)),
        ms_to_citations=(at_citations - started) * 1000 if at_citations is not None else None,
        ms_total=(finished - started) * 1000,
        error=error,
    )


def _progress(err: TextIO, done: int, total: int) -> None:
    """One line rewritten in place on a terminal; in a log, a line every 10 questions."""
    if err.isatty():
        err.write(f"\rragis eval: {done}/{total} questions" + ("\n" if done == total else ""))
    elif done % 10 == 0 or done == total:
        err.write(f"ragis eval: {done}/{total} questions\n")
    err.flush()


def _cited(c: dict[str, Any]) -> Cited:
    page = c.get("page")
    return Cited(
        filename=str(c.get("filename", "")),
        page=page if isinstance(page, int) else None,
        text=str(c.get("text", "")),
    )


async def evaluate(
    client: GatewayClient,
    path: Path,
    *,
    collection: str | None = None,
    top_k: int | None = None,
    modes: Sequence[str] = (DEFAULT_MODE,),
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the question file against the gateway, print the report; the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    if top_k is not None and not 1 <= top_k <= 50:
        raise InvalidInput("--top-k must be between 1 and 50.")
    questions = load_questions(path)
    await client.health()  # one clear sentence if the gateway is not there, before any question
    outcomes: list[Outcome] = []
    total = len(questions) * len(modes)
    for mode in modes:
        for question in questions:
            outcomes.append(
                await ask_one(client, question, mode=mode, collection=collection, top_k=top_k)
            )
            _progress(err, len(outcomes), total)
    summary = summarize(outcomes)
    if as_json:
        out.write(report_json(summary, outcomes, path=path, collection=collection, top_k=top_k))
        out.write("\n")
    else:
        for line in format_summary(summary, outcomes):
            out.write(line + "\n")
    out.flush()
    failed = [o for o in outcomes if o.error is not None]
    if failed:
        raise RagisError(
            f"{len(failed)} of {len(outcomes)} questions got an error instead of an answer "
            f"(first: {failed[0].error})"
        )
    return 0
