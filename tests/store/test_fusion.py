"""Fusing the two legs' lists (store/fusion.py): pure functions, known inputs."""

from __future__ import annotations

import pytest

from ragis.store.fusion import (
    ALPHA_DECISIVE,
    ALPHA_DIFFUSE,
    adaptive_alpha,
    convex,
    rrf,
)


def test_rrf_sums_reciprocal_ranks_and_says_the_legs() -> None:
    fused = rrf([("a", 0.9), ("b", 0.8)], [("b", 12.0), ("c", 3.0)])
    assert [c.id for c in fused] == ["b", "a", "c"]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)
    assert {c.id: c.legs for c in fused} == {
        "a": ("vector",), "b": ("vector", "lexical"), "c": ("lexical",),
    }  # fmt: skip


def test_convex_keeps_the_similarity_scale_and_scales_bm25_by_the_best() -> None:
    # Near-identical passages by meaning; the words single one out.
    vector = [("x", 0.801), ("y", 0.800), ("z", 0.799)]
    lexical = [("z", 10.0), ("x", 5.0)]
    fused = convex(vector, lexical, alpha=0.5)
    assert [c.id for c in fused] == ["z", "x", "y"]
    assert fused[0].score == pytest.approx(0.5 * 0.799 + 0.5 * 1.0)
    # A lexical hit the vector leg did not return gets its similarity when it is known.
    only_words = convex([("x", 0.8)], [("w", 10.0)], alpha=0.5, similarity={"w": 0.7})
    assert only_words[0].id == "w"
    assert only_words[0].score == pytest.approx(0.35 + 0.5)
    assert only_words[0].legs == ("lexical",)


def test_ties_are_broken_by_id_not_by_arrival() -> None:
    assert [c.id for c in convex([("b", 0.5), ("a", 0.5)], [], alpha=1.0)] == ["a", "b"]


def test_the_words_lead_when_decisive_and_meaning_leads_otherwise() -> None:
    assert adaptive_alpha([("a", 9.0), ("b", 8.0)], names_a_code=True) == ALPHA_DECISIVE
    assert adaptive_alpha([("a", 15.0), ("b", 9.0)], names_a_code=False) == ALPHA_DECISIVE
    assert adaptive_alpha([("a", 9.0)], names_a_code=False) == ALPHA_DECISIVE
    assert adaptive_alpha([("a", 9.0), ("b", 8.0)], names_a_code=False) == ALPHA_DIFFUSE
    assert adaptive_alpha([], names_a_code=False) == ALPHA_DIFFUSE
