"""Knowing when the documents do not hold the answer: the grounded gate.

A turn is **grounded** when its best passage is similar enough to the question: `score >=
threshold`, the score being VSIM's similarity `(1 + cosine) / 2` of passage and question, which
every passage carries whichever leg found it (store/retrieval.py); and, when the question names
codes (part numbers, error codes, versions, clauses: `missing_codes`), when a passage holds one
of them. Otherwise ragis does not let the model answer from its own memory: it says that the
documents do not hold the answer (and shows the closest passages, marked as such), with or
without an LLM.

The threshold is the collection's own `min_score` when it has one, else RAGIS_MIN_SCORE. Its
default, `MIN_SCORE`, comes from the calibration of `ragis eval --calibrate` on both evaluation
sets in bench/eval/ with the default embedding model (all-MiniLM-L6-v2; docs/benchmarks.md,
section 11): 0.6657 kept all 93 answerable questions (the lowest scored 0.674) and refused 22
of the 27 unanswerable ones by score (the highest refused scored 0.658), 25 with the codes.
Rounded down to 0.66, the lenient side of that gap, because an over-strict gate (refusing what
the documents do answer) is the worse failure for a user. Another embedding model has another
scale of similarities: calibrate again (`ragis eval --calibrate`) and set it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ragis.lexical import tokenizer
from ragis.store import Citation, CollectionInfo, RetrievedChunk

__all__ = [
    "MIN_SCORE",
    "NOT_FOUND",
    "Grounding",
    "ground",
    "ground_cited",
    "missing_codes",
    "not_found_text",
]

#: Calibrated on bench/eval (see above). 0 leaves only "no passage at all" and missing codes.
MIN_SCORE = 0.66

#: What ragis answers when the gate closes (the UI shows it as "not found in your documents").
NOT_FOUND = (
    "I could not find the answer to this question in your documents: no passage is close "
    "enough to it. The closest passages are listed below, in case they help; rephrase the "
    "question, or upload a document that covers it."
)


def not_found_text(missing: Sequence[str] = ()) -> str:
    """NOT_FOUND, naming the codes the question asked about that no passage holds."""
    if not missing:
        return NOT_FOUND
    named = ", ".join(f"`{code}`" for code in missing[:5])
    return (
        f"I could not find {named} in your documents: no passage mentions it. The closest "
        "passages are listed below, in case they help; check the spelling, or upload a "
        "document that covers it."
    )


@dataclass(frozen=True, slots=True)
class Grounding:
    grounded: bool
    best_score: float | None
    threshold: float
    #: The codes of the question no passage holds (why a close passage was not enough).
    missing: tuple[str, ...] = ()


def ground(
    found: Sequence[RetrievedChunk],
    info: CollectionInfo,
    default: float,
    *,
    question: str = "",
    language: str = "english",
) -> Grounding:
    """Whether the passages `found` for `question` hold enough to answer from."""
    threshold = info.min_score if info.min_score is not None else default
    best = max((r.score for r in found), default=None)
    # No passage at all is never grounded, whatever the threshold (0 lets any passage pass).
    if best is None or best < threshold:
        return Grounding(False, best, threshold)
    missing = missing_codes(question, found, info.lexical or language)
    return Grounding(not missing, best, threshold, missing)


def missing_codes(question: str, found: Sequence[RetrievedChunk], language: str) -> tuple[str, ...]:
    """The codes the question names (`E44-4472`, `v2.3.1`, `§12.3`: Tokenizer.codes) when no
    passage holds any of them; () when it names none or a passage holds one.

    A similarity cannot tell "error E44-4472" from "error E44-4471": their passages read the
    same to an embedding model. But a code is in a passage or it is not: a question about a
    code that no passage found contains is about something the documents do not hold."""
    tok = tokenizer(language)
    codes = tok.codes(question)
    if not codes:
        return ()
    for passage in found:
        terms = tok.index_terms(passage.chunk.text)
        if any(code in terms for code in codes):
            return ()
    return tuple(codes)


def ground_cited(citations: Sequence[Citation]) -> Grounding:
    """A cached answer's grounding: only grounded answers are cached, so it was, with the best
    score its citations record."""
    return Grounding(True, max((c.score for c in citations), default=None), 0.0)
