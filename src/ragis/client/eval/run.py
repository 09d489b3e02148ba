"""Ask the gateway every question, as a user would, and time each answer's stream.

Retrieval modes: with none asked, one run sends no mode (the service's RAGIS_RETRIEVAL decides)
and is reported as `default`; `--retrieval hybrid,vector,lexical` runs the questions once per mode,
each request carrying its `retrieval`, and the report puts the modes side by side. An answer
whose meta names another mode than the one asked is that question's error, not a silent mislabel.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from ragis.client.api import GatewayClient
from ragis.client.eval.calibrate import calibrate, check_calibratable, format_calibration
from ragis.client.eval.metrics import Cited, Outcome, summarize
from ragis.client.eval.questions import Question, load_questions
from ragis.client.eval.report import format_summary, report_json
from ragis.errors import InvalidInput, RagisError

__all__ = ["DEFAULT_MODE", "MODES", "ask_one", "evaluate", "parse_modes"]

DEFAULT_MODE = "default"  # no mode sent: the service's own
MODES = ("hybrid", "vector", "lexical")


def parse_modes(text: str) -> list[str]:
    """`--retrieval`'s comma list, in the order given; `InvalidInput` for an empty list, an
    unknown or a repeated mode."""
    modes = [part.strip().lower() for part in text.split(",")]
    if not any(modes):
        raise InvalidInput(f"--retrieval needs at least one mode of {', '.join(MODES)}.")
    for mode in modes:
        if mode not in MODES:
            shown = repr(mode[:40]) if mode else "an empty mode"
            raise InvalidInput(
                f"--retrieval: {shown} is not a retrieval mode; use {', '.join(MODES)} "
                "(comma-separated)."
            )
    if len(set(modes)) != len(modes):
        twice = next(m for m in modes if modes.count(m) > 1)
        raise InvalidInput(f"--retrieval names {twice} twice; name each mode once.")
    return modes


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
    retrieval = None if mode == DEFAULT_MODE else mode
    async for event, data in client.chat(
        question.question, collection=collection, top_k=top_k, retrieval=retrieval
    ):
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
    used = meta.get("retrieval")
    used = str(used)[:40] if used is not None else None
    if error is None and retrieval is not None and used is not None and used != retrieval:
        error = f"asked for retrieval {retrieval}, the service used {used}"
    grounded = meta.get("grounded")
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
        grounded=grounded if isinstance(grounded, bool) else None,
        best_score=_score(meta.get("best_score")),
        retrieval=used,
    )


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


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
    calibrate_threshold: bool = False,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run the question file against the gateway, print the report; the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    if top_k is not None and not 1 <= top_k <= 50:
        raise InvalidInput("--top-k must be between 1 and 50.")
    unknown = [m for m in modes if m not in (DEFAULT_MODE, *MODES)]
    if unknown or not modes or len(set(modes)) != len(modes):
        raise InvalidInput(f"Retrieval modes must be distinct ones of {', '.join(MODES)}.")
    questions = load_questions(path)
    if calibrate_threshold:
        answerable = sum(q.is_answerable for q in questions)
        check_calibratable(answerable, len(questions) - answerable)
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
    calibration, not_calibrated = None, None
    if calibrate_threshold:
        try:
            calibration = calibrate(outcomes)
        except RagisError as exc:  # the report is still worth printing
            not_calibrated = exc
    if as_json:
        out.write(
            report_json(
                summary,
                outcomes,
                path=path,
                collection=collection,
                top_k=top_k,
                calibration=calibration,
            )
        )
        out.write("\n")
    else:
        lines = format_summary(summary, outcomes)
        if calibration is not None:
            lines.extend(format_calibration(calibration))
        for line in lines:
            out.write(line + "\n")
    out.flush()
    if not_calibrated is not None:
        raise not_calibrated
    failed = [o for o in outcomes if o.error is not None]
    if failed:
        raise RagisError(
            f"{len(failed)} of {len(outcomes)} questions got an error instead of an answer "
            f"(first: {failed[0].error})"
        )
    return 0
