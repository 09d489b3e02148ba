"""The report of `ragis eval`: a plain-text table (stdout) or one JSON object.

Rows are (kind, mode) pairs, so that the modes of one kind sit next to each other; columns are
the metrics. With --calibrate, the calibration follows the table (or is the JSON's "calibration").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragis.client.eval.calibrate import Calibration
from ragis.client.eval.metrics import HITS_AT, NOT_FOUND_PHRASES, Outcome, Scores
from ragis.client.table import clean, format_table

__all__ = ["NOTE_REFUSALS", "format_summary", "report_json"]

NOTE_REFUSALS = (
    "not-found: share of the unanswerable questions ragis refused (meta.grounded false); "
    "refused: share of the answerable ones it refused, wrongly. pass@1: the first passage holds "
    "all the keywords."
)
NOTE_PHRASES = (
    "{n} answer(s) came without meta.grounded: for those, an LLM answer counts as refused when "
    "it says one of ragis.client.eval.NOT_FOUND_PHRASES."
)
NOTE_NO_SIGNAL = (
    "not-found and refused: the service sent no meta.grounded and no LLM answered, "
    "so they are not measured."
)
NOTE_NO_LLM = "answer: no LLM answered (provider none), so answer accuracy is not measured."
NOTE_CACHE = "{n} answer(s) came from the semantic cache: their latency is not retrieval's."
NOTE_DEFAULT = "mode default: no mode was sent; the service used {modes}."

_COLUMNS: tuple[tuple[str, str], ...] = (
    *((f"doc@{k}", f"doc_hit@{k}") for k in HITS_AT),
    *((f"page@{k}", f"page_hit@{k}") for k in HITS_AT),
    ("MRR", "mrr"),
    ("pass@1", "passage_hit@1"),
    ("recall", "passage_recall"),
    ("answer", "answer_accuracy"),
    ("not-found", "not_found"),
    ("refused", "refused"),
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
    found = [NOTE_REFUSALS]
    sources = [Scores.of(o).refused_from for o in outcomes]
    if "phrases" in sources:
        found.append(NOTE_PHRASES.format(n=sources.count("phrases")))
    elif not any(sources):
        found.append(NOTE_NO_SIGNAL)
    if not any(o.llm_answered for o in outcomes):
        found.append(NOTE_NO_LLM)
    used = sorted({o.retrieval for o in outcomes if o.mode == "default" and o.retrieval})
    if used:
        found.append(NOTE_DEFAULT.format(modes=", ".join(clean(m, 20) for m in used)))
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
    calibration: Sequence[Calibration] | None = None,
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
                "passage_rank": s.passage_rank,
                "passage_recall": s.passage_recall,
                "answer_correct": s.answer_correct,
                "refused": s.refused,
                "refused_from": s.refused_from,
                "grounded": o.grounded,
                "best_score": o.best_score,
                "retrieval": o.retrieval,
                "cited": [c.filename for c in o.cited],
                "ms_to_citations": o.ms_to_citations,
                "ms_total": o.ms_total,
                "cache_hit": o.cache_hit,
                "error": o.error,
            }
        )
    report: dict[str, Any] = {
        "file": str(path),
        "collection": collection,
        "top_k": top_k,
        "providers": sorted({o.provider for o in outcomes if o.error is None}),
        "modes": summary,
        "not_found_phrases": list(NOT_FOUND_PHRASES),
        "notes": notes(outcomes),
        "results": results,
    }
    if calibration is not None:
        report["calibration"] = [c.as_dict() for c in calibration]
    return json.dumps(report)
