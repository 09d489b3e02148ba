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

Which one ragis uses is measured on the evaluation sets (docs/benchmarks.md, section 10).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["RRF_K", "Candidate", "convex", "rrf"]

RRF_K = 60


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


def _ranked(
    fused: Mapping[str, float], vector: Mapping[str, float], lexical: Mapping[str, float]
) -> list[Candidate]:
    # Ties by id, so the order never depends on dict order.
    order = sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    return [Candidate(id_, score, _legs(id_, vector, lexical)) for id_, score in order]
