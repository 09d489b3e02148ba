"""The report of `ragis eval`: a plain-text table (stdout) or one JSON object.

Rows are (kind, mode) pairs, so that the modes of one kind sit next to each other once there is
more than one; columns are the metrics.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragis.client.eval.metrics import HITS_AT, NOT_FOUND_PHRASES, Outcome, Scores
from ragis.client.table import format_table

__all__ = ["NOTE_NOT_FOUND", "format_summary", "report_json"]

NOTE_NOT_FOUND = (
    "not-found: ragis has no refusal signal yet; an unanswerable question counts as refused "
    "when the answer says one of the documented phrases (ragis.client.eval.NOT_FOUND_PHRASES)."
)
NOTE_NO_LLM = "answer and not-found: no LLM answered (provider none), so they are not measured."
NOTE_CACHE = "{n} answer(s) came from the semantic cache: their latency is not retrieval's."

_COLUMNS: tuple[tuple[str, str], ...] = (
    *((f"doc@{k}", f"doc_hit@{k}") for k in HITS_AT),
    *((f"page@{k}", f"page_hit@{k}") for k in HITS_AT),
    ("MRR", "mrr"),
    ("recall", "passage_recall"),
    ("answer", "answer_accuracy"),
    ("not-found", "said_not_found"),
    ("cite p50", "ms_to_citations_p50"),
    ("cite p95", "ms_to_citations_p95"),
    ("total p50", "ms_total_p50"),
    ("total p95", "ms_total_p95"),
)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.startswith("ms_"):
        return f"{value:.0f} ms"
    if key == "mrr":
        return f"{value:.3f}"
    return f"{value * 100:.0f}%"


def notes(outcomes: Sequence[Outcome]) -> list[str]:
    found = [NOTE_NOT_FOUND]
    if not any(o.llm_answered for o in outcomes):
        found.append(NOTE_NO_LLM)
    cached = sum(o.cache_hit for o in outcomes)
    if cached:
        found.append(NOTE_CACHE.format(n=cached))
    return found


def format_summary(
    summary: dict[str, dict[str, dict[str, Any]]], outcomes: Sequence[Outcome]
) -> list[str]:
    headers = ["kind", "mode", "n", "errors", *(label for label, _ in _COLUMNS)]
    groups = list(dict.fromkeys(g for by_group in summary.values() for g in by_group))
    rows = [
        [group, mode, m["n"], m["errors"], *(_cell(key, m[key]) for _, key in _COLUMNS)]
        for group in groups
        for mode, by_group in summary.items()
        if (m := by_group.get(group)) is not None
    ]
    return [*format_table(headers, rows), "", *notes(outcomes)]


def report_json(
    summary: dict[str, dict[str, dict[str, Any]]],
    outcomes: Sequence[Outcome],
    *,
    path: Path,
    collection: str | None,
    top_k: int | None,
) -> str:
    results = []
    for o in outcomes:
        s = Scores.of(o)
        results.append(
            {
                "question": o.question.question,
                "kind": o.question.group,
                "mode": o.mode,
                "doc": o.question.doc,
                "doc_rank": s.doc_rank,
                "page_rank": s.page_rank,
                "passage_recall": s.passage_recall,
                "answer_correct": s.answer_correct,
                "said_not_found": s.said_not_found,
                "cited": [c.filename for c in o.cited],
                "ms_to_citations": o.ms_to_citations,
                "ms_total": o.ms_total,
                "cache_hit": o.cache_hit,
                "error": o.error,
            }
        )
    return json.dumps(
        {
            "file": str(path),
            "collection": collection,
            "top_k": top_k,
            "providers": sorted({o.provider for o in outcomes if o.error is None}),
            "modes": summary,
            "not_found_phrases": list(NOT_FOUND_PHRASES),
            "notes": notes(outcomes),
            "results": results,
        }
    )
