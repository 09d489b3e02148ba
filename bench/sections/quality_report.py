"""The report of section 11 (bench/sections/quality.py): its tables, goals and notes, from what
`measure` found. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.report import Goal, Section, Table
from bench.sections.quality import (
    DEFAULT,
    EXACT_GOAL,
    SETS,
    SETTINGS,
    TITLE,
    TOP_K,
    Measured,
    SetResult,
    Setting,
)
from ragis.client.eval import Outcome, Scores, summarize
from ragis.client.eval.calibrate import RULE, Calibration

__all__ = ["section"]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _answerable_n(groups: dict[str, dict[str, Any]], group: str) -> int:
    n = int(groups[group]["n"])
    if group == "all" and "unanswerable" in groups:
        n -= int(groups["unanswerable"]["n"])
    return n


def _set_table(result: SetResult) -> Table:
    summary = summarize(result.of())
    rows = []
    for group in ("all", "natural", "exact", "unanswerable"):
        for setting in SETTINGS:
            groups = summary[setting.label]
            if group not in groups:
                continue
            m = groups[group]
            # An answerable row's refusals are its own; the unanswerable ones have their row.
            not_found = None if group == "all" else m["not_found"]
            rows.append(
                [
                    "answerable" if group == "all" else group, setting.label,
                    _answerable_n(groups, group), _pct(m["doc_hit@1"]), _pct(m["doc_hit@3"]),
                    _pct(m["doc_hit@5"]), _num(m["mrr"]), _pct(m["passage_hit@1"]),
                    _pct(m["passage_recall"]), _pct(m["refused"]), _pct(not_found),
                    _num(m["ms_total_p50"], 1),
                ]
            )  # fmt: skip
    s = result.eval_set
    return Table(
        f"{s.label}: {result.documents} documents, {result.chunks} chunks (indexed in "
        f"{result.ingest_s:.0f} s); top {TOP_K}, in-process retrieval, the gate at "
        f"{result.threshold or 0:.4f}",
        ["questions", "setting", "n", "doc@1", "doc@3", "doc@5", "MRR", "pass@1", "recall",
         "refused", "not-found", "retrieve p50 ms"],
        rows,
    )  # fmt: skip


def _scores(outcomes: Sequence[Outcome], answerable: bool) -> list[float]:
    return sorted(
        o.best_score
        for o in outcomes
        if o.best_score is not None and o.question.is_answerable == answerable
    )


def _refused(outcomes: Sequence[Outcome], answerable: bool) -> str:
    side = [o for o in outcomes if o.question.is_answerable == answerable]
    refused = sum(o.grounded is False for o in side)
    return f"{refused}/{len(side)} ({refused / len(side):.0%})" if side else "-"


def _calibration_tables(measured: Measured) -> list[Table]:
    pooled = [o for r in measured.sets for o in r.of(DEFAULT)]
    groups: list[tuple[str, list[Outcome], Calibration]] = [
        (r.eval_set.label, r.of(DEFAULT), measured.per_set[r.eval_set.collection])
        for r in measured.sets
    ]
    if len(measured.sets) > 1:
        groups.append(("both sets", pooled, measured.calibration))
    dist_rows = []
    for label, outcomes, c in groups:
        for side, answerable, d in (
            ("answerable", True, c.answerable),
            ("unanswerable", False, c.unanswerable),
        ):
            scores = _scores(outcomes, answerable)
            dist_rows.append(
                [
                    label, side, d.n, _num(scores[0] if scores else None), _num(d.p5),
                    _num(d.p50), _num(d.p95), _num(scores[-1] if scores else None),
                ]
            )  # fmt: skip
    threshold = measured.calibration.threshold
    rule_rows = []
    for label, outcomes, c in groups:
        rule_rows.append(
            [
                label, f"{c.threshold:.4f}",
                f"{c.answerable_refused}/{c.answerable_refused + c.answerable_kept}",
                f"{c.unanswerable_refused}/{c.unanswerable_refused + c.unanswerable_kept}",
                _refused(outcomes, True), _refused(outcomes, False),
            ]
        )  # fmt: skip
    return [
        Table(
            f"best_score (the highest similarity, (1 + cos) / 2, among the {TOP_K} passages of "
            f"{DEFAULT.label}), by side of the gate",
            ["set", "questions", "n", "min", "p5", "p50", "p95", "max"],
            dist_rows,
        ),
        Table(
            f"The threshold by `ragis eval --calibrate`'s rule (by score alone), and the gate "
            f"of rag/grounding.py (score, then the codes the question names) at {threshold:.4f}",
            ["calibrated on", "its threshold", "answerable refused by score",
             "unanswerable refused by score", f"gate at {threshold:.4f}: answerable refused",
             "unanswerable refused"],
            rule_rows,
        ),
    ]  # fmt: skip


_CLI_COLUMNS = (
    ("doc@1", "doc_hit@1"), ("doc@3", "doc_hit@3"), ("doc@5", "doc_hit@5"), ("MRR", "mrr"),
    ("pass@1", "passage_hit@1"), ("recall", "passage_recall"), ("not-found", "not_found"),
    ("refused", "refused"), ("cite p50 ms", "ms_to_citations_p50"),
    ("total p95 ms", "ms_total_p95"),
)  # fmt: skip


def _cli_table(measured: Measured) -> Table:
    modes: dict[str, dict[str, dict[str, Any]]] = measured.cli["modes"]
    groups = list(dict.fromkeys(g for by_group in modes.values() for g in by_group))
    rows = []
    for group in groups:
        for mode, by_group in modes.items():
            m = by_group.get(group)
            if m is None:
                continue
            cells = []
            for _, key in _CLI_COLUMNS:
                value = m[key]
                if key == "mrr":
                    cells.append(_num(value))
                elif key.startswith("ms_"):
                    cells.append(_num(value, 0))
                else:
                    cells.append(_pct(value))
            rows.append([group, mode, m["n"], m["errors"], *cells])
    label = next(s.label for s in SETS.values() if s.collection == measured.cli_set)
    return Table(
        f"`{measured.cli_command}` through the gateway ({label}, retrieval only, no LLM)",
        ["kind", "mode", "n", "errors", *(c for c, _ in _CLI_COLUMNS)],
        rows,
    )


def _metric(result: SetResult, setting: Setting, group: str, key: str) -> float:
    value = summarize(result.of(setting))[setting.label].get(group, {}).get(key)
    return float(value) if value is not None else float("nan")


def _fusion_verdict(measured: Measured) -> str:
    """Which hybrid setting finds the passage first most often over the answerable questions of
    every set, and whether it beats the default on each set."""
    hybrids = [s for s in SETTINGS if s.mode == "hybrid"]

    def score(s: Setting) -> tuple[float, float]:
        return (
            sum(_metric(r, s, "all", "passage_hit@1") for r in measured.sets),
            sum(_metric(r, s, "all", "mrr") for r in measured.sets),
        )

    best = max(hybrids, key=lambda s: (score(s), s.is_default))
    per_set = ", ".join(
        f"{r.eval_set.label} pass@1 {_metric(r, s, 'all', 'passage_hit@1'):.0%}"
        for s in (best,)
        for r in measured.sets
    )
    if best.is_default:
        return (
            f"Fusion: the default ({DEFAULT.label}) is the best hybrid setting here by answerable "
            f"pass@1 summed over the sets, then MRR ({per_set}); no other setting wins clearly."
        )
    wins = [
        _metric(r, best, "all", "passage_hit@1") > _metric(r, DEFAULT, "all", "passage_hit@1")
        for r in measured.sets
    ]
    default = ", ".join(
        f"{r.eval_set.label} {_metric(r, DEFAULT, 'all', 'passage_hit@1'):.0%}"
        for r in measured.sets
    )
    clearly = "wins on every set" if all(wins) else "does not win on every set"
    return (
        f"Fusion: {best.label} has the highest answerable pass@1 summed over the sets ({per_set}; "
        f"the default {default}) and {clearly}."
    )


def _natural_moves(result: SetResult) -> str | None:
    """The natural questions whose expected document is first in one of vector only and the
    default hybrid and not in the other: what the hit@1 difference is made of."""
    vector = {o.question.question: Scores.of(o).doc_rank for o in result.of(SETTINGS[0])}
    lost: list[str] = []
    won: list[str] = []
    for o in result.of(DEFAULT):
        if o.question.kind != "natural":
            continue
        before, after = vector[o.question.question], Scores.of(o).doc_rank
        if (before == 1) != (after == 1):
            shown = f"“{o.question.question}” ({before or '-'} → {after or '-'})"
            (lost if before == 1 else won).append(shown)
    if not lost and not won:
        return None
    return (
        f"{result.eval_set.label}, natural questions whose expected document is first in one "
        f"of vector only and {DEFAULT.label} but not both (its rank in vector → hybrid): "
        f"hybrid loses {'; '.join(lost) or 'none'}; wins {'; '.join(won) or 'none'}."
    )


def _goals(measured: Measured) -> list[Goal]:
    goals = []
    codes = next((r for r in measured.sets if r.eval_set.collection == "errorcodes"), None)
    if codes is not None:
        exact = _metric(codes, DEFAULT, "exact", "passage_hit@1")
        vector = _metric(codes, SETTINGS[0], "exact", "passage_hit@1")
        goals.append(
            Goal(
                "error-code manual, exact-term questions: the asked entry's passage first "
                f"({DEFAULT.label})",
                f"≥ {EXACT_GOAL:.0%}",
                f"{exact:.0%} (vector only {vector:.0%})",
                exact >= EXACT_GOAL,
            )
        )
    parts, met = [], True
    for r in measured.sets:
        got = [
            _metric(r, s, "natural", f"doc_hit@{k}") for s in (DEFAULT, SETTINGS[0]) for k in (1, 3)
        ]
        met = met and got[0] >= got[2] and got[1] >= got[3]
        parts.append(
            f"{r.eval_set.label} {got[0]:.0%} / {got[1]:.0%} (vector {got[2]:.0%} / {got[3]:.0%})"
        )
    goals.append(
        Goal(
            "natural questions: doc hit@1 / @3, hybrid vs vector only",
            "no worse",
            "; ".join(parts),
            met,
        )
    )
    c = measured.calibration
    answerable = c.answerable_kept + c.answerable_refused
    unanswerable = c.unanswerable_kept + c.unanswerable_refused
    goals.append(
        Goal(
            "grounded threshold (RAGIS_MIN_SCORE) for the default embedder, calibrated",
            "refuses ≤ 2% of answerable",
            f"{c.threshold:.4f}: refuses {c.answerable_refused}/{answerable} answerable, "
            f"{c.unanswerable_refused}/{unanswerable} unanswerable",
            c.feasible,
        )
    )
    return goals


def section(measured: Measured, machine: str) -> Section:
    c = measured.calibration
    unanswerable = [o for r in measured.sets for o in r.of(DEFAULT) if not o.question.is_answerable]
    kept = [(o.question.question, o.best_score or 0.0) for o in unanswerable if o.grounded]
    by_codes = [
        (o.question.question, o.best_score or 0.0)
        for o in unanswerable
        if not o.grounded and (o.best_score or 0.0) >= c.threshold
    ]
    notes_moves = [m for m in map(_natural_moves, measured.sets) if m is not None]
    cli_cal = next(
        (x for x in measured.cli.get("calibration", []) if x.get("mode") == "hybrid"), None
    )
    notes = [
        _fusion_verdict(measured),
        *notes_moves,
        f"The grounded threshold: {RULE}. Calibrated on {DEFAULT.label}'s best scores of "
        f"{'both sets' if len(measured.sets) > 1 else 'the set'}: **{c.threshold:.4f}**; the "
        f"gateway's run above served with RAGIS_MIN_SCORE at it.",
        f"Unanswerable questions the gate answers anyway ({DEFAULT.label}; best score in "
        "brackets): "
        + ("; ".join(f"“{q}” ({s:.3f})" for q, s in kept) if kept else "none")
        + ". Refused only because no passage holds the code they name (their score passes): "
        + ("; ".join(f"“{q}” ({s:.3f})" for q, s in by_codes) if by_codes else "none")
        + ". A code one digit off a real one reads to the model as close as the real one: "
        "the score measures relevance, not truth.",
        "pass@1: the first passage holds every keyword of the question (for an error code: "
        "that entry, not a sibling); recall: the five passages together do; doc@k and MRR by "
        "the expected document. `answerable` counts every answerable question; "
        "`retrieve p50 ms` is the store's retrieve() alone (the question embedded before), on "
        f"{machine}, with the other benchmarks and test runs of the day sharing its two "
        "cores: section 10 measures retrieval latency on a quiet store. (A first version read "
        "a lexical hit's similarity as 384 numbers from `VEMB`, which took 86% of a lexical "
        "retrieve in redis-py's parser; it now reads `VEMB ... RAW`, the stored bytes.)",
        "The adaptive fusion (store/fusion.py) lets the words lead (α 0.5) when the question "
        "names a code or the best BM25 score is at least 1.5 times the second, and meaning "
        "lead (α 0.95) otherwise. Its constants were chosen on these same questions (an "
        "offline sweep over the two legs' lists), so these figures are not a held-out test.",
    ]
    if cli_cal is not None:
        notes.append(
            f"`ragis eval --calibrate` through the gateway, hybrid mode, "
            f"{measured.cli_set} set alone: threshold {cli_cal['threshold']:.4f} (the in-process "
            f"calibration of that set: {measured.per_set[measured.cli_set].threshold:.4f})."
        )
    return Section(
        key="quality",
        title=TITLE,
        intro=(
            "The evaluation sets of bench/eval/ (README there): each set's files parsed and "
            "chunked by ragis.ingest with the gateway's defaults, indexed by the RAG service's "
            "IndexService with the default embedder into an embedded Redis 8; every question "
            "embedded once, then searched in every setting over the same store (top 5) and "
            "scored by `ragis eval`'s metrics (ragis.client.eval). Then the grounded threshold, "
            "and the real `ragis eval` through a gateway."
        ),
        tables=[
            *(_set_table(r) for r in measured.sets),
            *_calibration_tables(measured),
            _cli_table(measured),
        ],
        goals=_goals(measured),
        notes=notes,
    )
