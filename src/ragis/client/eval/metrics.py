"""What `ragis eval` computes: one question's scores, and their aggregates per group (pure).

Per question: the rank of the first passage from the expected document (and page), the rank of
the first passage that holds all its keywords, whether the cited passages together hold them
(passage recall), whether the answer does (answer accuracy, only when an LLM answered), and
whether ragis refused it: `meta.grounded` is false (the service's own signal, with or without an
LLM); only when the service sends no `grounded`, an LLM answer that says one of NOT_FOUND_PHRASES.
Per group: hit@1/3/5 by document and by page, passage@1, MRR, the shares of those, the refusals
on both sides of the gate (unanswerable ones refused: "not found"; answerable ones refused:
"refused"), and latency p50/p95. A metric with no question to measure it is `None`, printed as
"-", never 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ragis.client.eval.questions import Question

__all__ = [
    "HITS_AT",
    "NOT_FOUND_PHRASES",
    "Cited",
    "Outcome",
    "RefusalSource",
    "Scores",
    "percentile",
    "summarize",
]

HITS_AT = (1, 3, 5)

#: The fallback for a service that sends no `grounded` in its meta (before issue 15, part 3): an
#: LLM answer counts as a refusal when it says one of these (case-insensitive). The report says
#: when it was used, so nobody mistakes it for the service's own signal.
NOT_FOUND_PHRASES = (
    "not found",
    "no information",
    "not mentioned",
    "does not mention",
    "do not mention",
    "doesn't mention",
    "don't mention",
    "not in the provided",
    "not in the documents",
    "not contain",
    "don't contain",
    "doesn't contain",
    "cannot find",
    "can't find",
    "could not find",
    "couldn't find",
    "no relevant",
    "i don't know",
    "i do not know",
    "unable to answer",
    "cannot answer",
    "can't answer",
)


@dataclass(frozen=True)
class Cited:
    filename: str
    page: int | None
    text: str


@dataclass(frozen=True)
class Outcome:
    """What the gateway answered one question, in one retrieval mode."""

    question: Question
    mode: str
    cited: tuple[Cited, ...] = ()
    answer: str = ""
    provider: str = "none"
    cache_hit: bool = False
    ms_to_citations: float | None = None
    ms_total: float | None = None
    error: str | None = None
    grounded: bool | None = None  # meta.grounded; None: the service sent none
    best_score: float | None = None  # meta.best_score: best similarity of a passage
    retrieval: str | None = None  # meta.retrieval: the mode the service used

    @property
    def llm_answered(self) -> bool:
        return self.error is None and self.provider != "none"


#: Where a refusal was read from: the service's `grounded`, or the phrases of an LLM's answer.
RefusalSource = Literal["grounded", "phrases"]


@dataclass(frozen=True)
class Scores:
    doc_rank: int | None  # 1-based; None: expected document not cited (or none expected)
    page_rank: int | None
    passage_rank: int | None  # first passage holding all keywords; None: none does (or no keywords)
    passage_recall: bool | None
    answer_correct: bool | None
    refused: bool | None  # None: not measurable (no `grounded`, no LLM answer)
    refused_from: RefusalSource | None

    @classmethod
    def of(cls, outcome: Outcome) -> Scores:
        q = outcome.question
        doc_rank = page_rank = None
        for rank, cited in enumerate(outcome.cited, start=1):
            if q.doc is not None and _same_file(cited.filename, q.doc):
                doc_rank = doc_rank or rank
                if q.page is not None and cited.page == q.page:
                    page_rank = page_rank or rank
        passages = " ".join(c.text for c in outcome.cited)
        scored = q.is_answerable and bool(q.keywords)
        passage_rank = None
        if scored:
            passage_rank = next(
                (r for r, c in enumerate(outcome.cited, 1) if _contains_all(c.text, q.keywords)),
                None,
            )
        refused, refused_from = _refusal(outcome)
        return cls(
            doc_rank=doc_rank,
            page_rank=page_rank,
            passage_rank=passage_rank,
            passage_recall=_contains_all(passages, q.keywords) if scored else None,
            answer_correct=(
                _contains_all(outcome.answer, q.keywords)
                if scored and outcome.llm_answered
                else None
            ),
            refused=refused,
            refused_from=refused_from,
        )


def _refusal(outcome: Outcome) -> tuple[bool | None, RefusalSource | None]:
    if outcome.error is not None:
        return None, None
    if outcome.grounded is not None:
        return not outcome.grounded, "grounded"
    if outcome.llm_answered:
        return _says_not_found(outcome.answer), "phrases"
    return None, None


def _same_file(cited: str, expected: str) -> bool:
    # The question file names a file; the gateway knows it by its uploaded name (no folder).
    return cited.rsplit("/", 1)[-1] == expected.rsplit("/", 1)[-1]


def _contains_all(text: str, keywords: Iterable[str]) -> bool:
    folded = text.casefold()
    return all(k.casefold() in folded for k in keywords)


def _says_not_found(answer: str) -> bool:
    folded = answer.casefold().replace("\u2019", "'")
    return any(p in folded for p in NOT_FOUND_PHRASES)


@dataclass
class _Share:
    hits: int = 0
    of: int = 0

    def add(self, hit: bool | None) -> None:
        if hit is not None:
            self.of += 1
            self.hits += hit

    @property
    def value(self) -> float | None:
        return self.hits / self.of if self.of else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class _Group:
    n: int = 0
    errors: int = 0
    cache_hits: int = 0
    doc_hits: dict[int, _Share] = field(default_factory=lambda: {k: _Share() for k in HITS_AT})
    page_hits: dict[int, _Share] = field(default_factory=lambda: {k: _Share() for k in HITS_AT})
    passage_first: _Share = field(default_factory=_Share)
    reciprocal: list[float] = field(default_factory=list)
    recall: _Share = field(default_factory=_Share)
    answer: _Share = field(default_factory=_Share)
    not_found: _Share = field(default_factory=_Share)  # unanswerable ones refused (right)
    refused: _Share = field(default_factory=_Share)  # answerable ones refused (wrong)
    to_citations: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.n += 1
        self.cache_hits += outcome.cache_hit
        if outcome.error is not None:
            self.errors += 1
            return
        q, s = outcome.question, Scores.of(outcome)
        if q.is_answerable and q.doc is not None:
            for k in HITS_AT:
                self.doc_hits[k].add(s.doc_rank is not None and s.doc_rank <= k)
            self.reciprocal.append(1 / s.doc_rank if s.doc_rank else 0.0)
            if q.page is not None:
                for k in HITS_AT:
                    self.page_hits[k].add(s.page_rank is not None and s.page_rank <= k)
        if s.passage_recall is not None:
            self.passage_first.add(s.passage_rank == 1)
        self.recall.add(s.passage_recall)
        self.answer.add(s.answer_correct)
        (self.refused if q.is_answerable else self.not_found).add(s.refused)
        if outcome.ms_to_citations is not None:
            self.to_citations.append(outcome.ms_to_citations)
        if outcome.ms_total is not None:
            self.total.append(outcome.ms_total)

    def as_dict(self) -> dict[str, Any]:
        metrics: dict[str, Any] = {
            "n": self.n,
            "errors": self.errors,
            "cache_hits": self.cache_hits,
        }
        for k in HITS_AT:
            metrics[f"doc_hit@{k}"] = self.doc_hits[k].value
        for k in HITS_AT:
            metrics[f"page_hit@{k}"] = self.page_hits[k].value
        metrics["passage_hit@1"] = self.passage_first.value
        metrics["mrr"] = sum(self.reciprocal) / len(self.reciprocal) if self.reciprocal else None
        metrics["passage_recall"] = self.recall.value
        metrics["answer_accuracy"] = self.answer.value
        metrics["not_found"] = self.not_found.value
        metrics["refused"] = self.refused.value
        metrics["ms_to_citations_p50"] = percentile(self.to_citations, 50)
        metrics["ms_to_citations_p95"] = percentile(self.to_citations, 95)
        metrics["ms_total_p50"] = percentile(self.total, 50)
        metrics["ms_total_p95"] = percentile(self.total, 95)
        return metrics


GROUPS = ("all", "natural", "exact", "unanswerable")


def summarize(outcomes: Iterable[Outcome]) -> dict[str, dict[str, dict[str, Any]]]:
    """`{mode: {group: metrics}}`, groups in GROUPS order (a group without questions omitted)."""
    groups: dict[str, dict[str, _Group]] = {}
    for outcome in outcomes:
        by_group = groups.setdefault(outcome.mode, {})
        for name in ("all", outcome.question.group):
            by_group.setdefault(name, _Group()).add(outcome)
    return {
        mode: {g: by_group[g].as_dict() for g in GROUPS if g in by_group}
        for mode, by_group in groups.items()
    }
