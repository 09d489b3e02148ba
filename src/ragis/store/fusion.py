"""Fusing the ranked lists of the two legs of retrieval into one (pure: no Redis).

Each leg gives its candidates best first: the vector leg with VSIM's similarity (0..1), the
lexical leg with BM25 (unbounded). Two ways to fuse them:

- **RRF** (reciprocal rank fusion): `sum over legs of 1 / (60 + rank)`. It needs no scores,
  only ranks, which is its strength and its weakness: a passage the lexical leg ranks first by a
  wide margin (the one holding the asked error code) weighs no more than one it ranks first by a
  hair, and among near-identical passages the vector leg's first is a coin toss.
- **Convex** combination of normalised scores: `alpha * similarity + (1 - alpha) * bm25 / best
  bm25`. The similarity keeps its own scale (not min-max stretched: among near-identical passages
  that would turn noise into a full point), BM25 is scaled by the query's best, so a passage that
  holds a rare term the others lack keeps its lead. A candidate only one leg found gets the
  other leg's score when it is known (the similarity of a lexical hit is always computed,
  store/retrieval.py) and 0 otherwise.

- **Adaptive** (ragis's default): the convex combination with an `alpha` chosen per question
  by how decisive the lexical leg is. When the question names a code (`E44-4471`, `v2.3.1`:
  `Tokenizer.codes`) or the best BM25 score stands out (at least `DECISIVE_RATIO` times the
  second), the words know which passage is meant: `alpha` = 0.5, and BM25 leads. Otherwise the
  lexical scores are diffuse (everyday words spread over many passages) and meaning leads:
  `alpha` = 0.95, the words breaking near-ties. A fixed `alpha` cannot do both: 0.5 lost
  natural-language questions to keyword noise (Debian Reference, hit@1 26/30 against the
  vector leg's 28/30), 0.95 lost the error codes (20/30 passages first against 30/30).

Which one ragis uses is measured on the evaluation sets (docs/benchmarks.md, section 11); the
three constants below were chosen there, on 93 answerable questions of two sets, so a corpus
unlike both may want others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "ALPHA_DECISIVE",
    "ALPHA_DIFFUSE",
    "DECISIVE_RATIO",
    "RRF_K",
    "Candidate",
    "adaptive_alpha",
    "convex",
    "rrf",
]

RRF_K = 60
#: The similarity's weight when the lexical leg is decisive, and when it is diffuse.
ALPHA_DECISIVE = 0.5
ALPHA_DIFFUSE = 0.95
#: How far the best BM25 score must stand above the second for the lexical leg to be decisive.
DECISIVE_RATIO = 1.5


@dataclass(frozen=True, slots=True)
class Candidate:
    """A fused candidate: its id, its fused score and the legs that found it."""

    id: str
    score: float
    legs: tuple[str, ...]


def _legs(id_: str, vector: Mapping[str, float], lexical: Mapping[str, float]) -> tuple[str, ...]:
    return tuple(leg for leg, hits in (("vector", vector), ("lexical", lexical)) if id_ in hits)


def rrf(
    vector: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    *,
    k: int = RRF_K,
    weights: tuple[float, float] = (1.0, 1.0),
) -> list[Candidate]:
    """Reciprocal rank fusion of two lists of (id, score), each best first."""
    fused: dict[str, float] = {}
    for weight, hits in zip(weights, (vector, lexical), strict=True):
        for rank, (id_, _) in enumerate(hits, start=1):
            fused[id_] = fused.get(id_, 0.0) + weight / (k + rank)
    by_vector, by_lexical = dict(vector), dict(lexical)
    return _ranked(fused, by_vector, by_lexical)


def convex(
    vector: Sequence[tuple[str, float]],
    lexical: Sequence[tuple[str, float]],
    *,
    alpha: float = 0.5,
    similarity: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """`alpha * similarity + (1 - alpha) * bm25 / max bm25` over the union of both lists.
    `similarity` gives the similarity of candidates the vector leg did not return."""
    by_vector, by_lexical = dict(vector), dict(lexical)
    best = max(by_lexical.values(), default=0.0)
    known = dict(similarity or {}) | by_vector
    fused: dict[str, float] = {}
    for id_ in dict.fromkeys([*by_vector, *by_lexical]):
        text = by_lexical.get(id_, 0.0) / best if best > 0 else 0.0
        fused[id_] = alpha * known.get(id_, 0.0) + (1 - alpha) * text
    return _ranked(fused, by_vector, by_lexical)


def adaptive_alpha(lexical: Sequence[tuple[str, float]], *, names_a_code: bool) -> float:
    """The similarity's weight for one question (see the module's docstring)."""
    if names_a_code:
        return ALPHA_DECISIVE
    scores = [score for _, score in lexical[:2]]
    if len(scores) == 1 or (len(scores) == 2 and scores[0] >= DECISIVE_RATIO * scores[1]):
        return ALPHA_DECISIVE
    return ALPHA_DIFFUSE


def _ranked(
    fused: Mapping[str, float], vector: Mapping[str, float], lexical: Mapping[str, float]
) -> list[Candidate]:
    # Ties by id, so the order never depends on dict order.
    order = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    return [Candidate(id_, score, _legs(id_, vector, lexical)) for id_, score in order]
