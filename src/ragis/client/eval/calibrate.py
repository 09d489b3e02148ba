"""`ragis eval --calibrate`: the grounded threshold (RAGIS_MIN_SCORE) a question set suggests.

Every answer's `meta.best_score` is the best similarity (0..1) between the question and a cited
passage. A threshold `t` refuses a question when its best score is below `t` (and always when no
passage came back: no score). The rule, printed with the result:

    the threshold that maximises (answerable questions kept) + (unanswerable questions refused),
    refusing at most 2% of the answerable questions (rounded down, those without any passage
    included); among equals, the one refusing the fewest answerable ones, then the lowest.

The reported threshold lies halfway between the highest refused score and the lowest kept one,
so it does not sit on a measured score. Per mode, since each mode cites other passages. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from ragis.client.eval.metrics import Outcome, percentile
from ragis.client.table import format_table
from ragis.errors import InvalidInput, RagisError

__all__ = [
    "MAX_REFUSED_ANSWERABLE",
    "RULE",
    "Calibration",
    "Distribution",
    "calibrate",
    "check_calibratable",
    "format_calibration",
]

MAX_REFUSED_ANSWERABLE = 0.02
RULE = (
    "refuse when best_score < threshold; the threshold maximises answerable kept + "
    f"unanswerable refused, refusing at most {MAX_REFUSED_ANSWERABLE:.0%} of the answerable "
    "questions (rounded down, those without any passage included)"
)


@dataclass(frozen=True)
class Distribution:
    n: int  # questions with a best score
    no_passage: int  # questions the service found no passage for (no score)
    p5: float | None
    p50: float | None
    p95: float | None

    @classmethod
    def of(cls, scores: Sequence[float], no_passage: int) -> Distribution:
        return cls(
            n=len(scores),
            no_passage=no_passage,
            p5=percentile(scores, 5),
            p50=percentile(scores, 50),
            p95=percentile(scores, 95),
        )


@dataclass(frozen=True)
class Calibration:
    mode: str
    threshold: float
    feasible: bool  # False: more answerable questions got no passage than the 2% allow
    answerable_kept: int
    answerable_refused: int
    unanswerable_refused: int
    unanswerable_kept: int
    answerable: Distribution
    unanswerable: Distribution

    def as_dict(self) -> dict[str, object]:
        return {"rule": RULE, **asdict(self)}


def check_calibratable(answerable: int, unanswerable: int) -> None:
    """Before anything is sent: a threshold needs both sides of the gate."""
    if not unanswerable or not answerable:
        missing = "unanswerable" if not unanswerable else "answerable"
        raise InvalidInput(
            f"--calibrate needs both answerable and unanswerable questions; the file has no "
            f'{missing} ones (an unanswerable line says "answerable": false or '
            '"kind": "unanswerable").'
        )


def calibrate(outcomes: Iterable[Outcome]) -> list[Calibration]:
    """One calibration per mode, in the order the modes were run. `RagisError` when the service
    sent no best score at all (a ragis from before issue 15)."""
    by_mode: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.error is None:
            by_mode.setdefault(outcome.mode, []).append(outcome)
    return [_one(mode, answered) for mode, answered in by_mode.items()]


def _one(mode: str, outcomes: list[Outcome]) -> Calibration:
    if all(o.best_score is None and o.grounded is None for o in outcomes):
        raise RagisError(
            "--calibrate: the service sent no best_score in its answers' meta; it needs a ragis "
            "that reports one (issue 15)."
        )
    answerable = [o.best_score for o in outcomes if o.question.is_answerable]
    unanswerable = [o.best_score for o in outcomes if not o.question.is_answerable]
    check_calibratable(len(answerable), len(unanswerable))
    a = sorted(s for s in answerable if s is not None)
    u = sorted(s for s in unanswerable if s is not None)
    a_none, u_none = len(answerable) - len(a), len(unanswerable) - len(u)
    budget = math.floor(MAX_REFUSED_ANSWERABLE * len(answerable))
    scores = sorted(set(a) | set(u))
    if not scores:
        raise RagisError("--calibrate: no question got any passage, so there is no score to use.")
    best: tuple[tuple[int, int, float], int] | None = None
    for i, cut in enumerate(scores):  # refuse every score below `cut`
        a_refused = a_none + _below(a, cut)
        u_refused = u_none + _below(u, cut)
        if a_refused > budget and i > 0:
            break  # a higher cut only refuses more answerable questions
        key = (len(answerable) - a_refused + u_refused, -a_refused, -cut)
        if best is None or key > best[0]:
            best = (key, i)
    assert best is not None
    i = best[1]
    threshold = scores[0] if i == 0 else (scores[i - 1] + scores[i]) / 2
    a_refused = a_none + _below(a, scores[i])
    u_refused = u_none + _below(u, scores[i])
    return Calibration(
        mode=mode,
        threshold=threshold,
        feasible=a_none <= budget,
        answerable_kept=len(answerable) - a_refused,
        answerable_refused=a_refused,
        unanswerable_refused=u_refused,
        unanswerable_kept=len(unanswerable) - u_refused,
        answerable=Distribution.of(a, a_none),
        unanswerable=Distribution.of(u, u_none),
    )


def _below(ordered: list[float], cut: float) -> int:
    return sum(1 for s in ordered if s < cut)


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_calibration(calibrations: Sequence[Calibration]) -> list[str]:
    lines = ["", f"Calibration of the grounded threshold ({RULE}):"]
    for c in calibrations:
        answerable = c.answerable_kept + c.answerable_refused
        unanswerable = c.unanswerable_refused + c.unanswerable_kept
        lines.append("")
        lines.append(f"mode {c.mode}: RAGIS_MIN_SCORE={c.threshold:.4f}")
        lines.append(
            f"  at it: answerable kept {c.answerable_kept}/{answerable}, "
            f"unanswerable refused {c.unanswerable_refused}/{unanswerable}"
        )
        if not c.feasible:
            lines.append(
                f"  more than {MAX_REFUSED_ANSWERABLE:.0%} of the answerable questions got no "
                "passage at all: no threshold keeps the limit; this one refuses none by score."
            )
        rows = [
            [name, d.n, d.no_passage, _score(d.p5), _score(d.p50), _score(d.p95)]
            for name, d in (("answerable", c.answerable), ("unanswerable", c.unanswerable))
        ]
        table = format_table(["best_score", "n", "no passage", "p5", "p50", "p95"], rows)
        lines.extend("  " + line for line in table)
    return lines
