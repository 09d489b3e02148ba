"""Hybrid retrieval on a real Redis: the keyword index is written and removed with the vectors,
both legs are fused, every passage says which legs found it, and a filter holds for both."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ragis.settings import Quantization, Settings
from ragis.store import SearchFilter, Store
from support.corpus import add_document
from support.vectors import near, unit

ENTRY = (
    "Error {code}: the feed pump overheated. Switch the unit off, let the pump cool down, "
    "check the coolant level and restart it."
)
CODES = [f"E44-44{n:02d}" for n in range(60, 90)]


async def manual(store: Store, collection: str = "docs") -> None:
    """Thirty near-identical entries whose vectors a model could not tell apart."""
    base = unit(1)
    await add_document(
        store, collection, "manual",
        [near(base, i, 0.02) for i in range(len(CODES))],
        texts=[ENTRY.format(code=code) for code in CODES],
        filename="manual.md",
    )  # fmt: skip


async def lex_keys(redis: Redis, prefix: str) -> list[str]:
    return sorted([k.decode() async for k in redis.scan_iter(match=f"{prefix}:*:lex:*")])


async def test_the_entry_with_the_asked_code_comes_first_in_hybrid_and_lexical(
    store: Store,
) -> None:
    await manual(store)
    for n, code in [(0, "E44-4460"), (13, "E44-4473"), (29, "E44-4489")]:
        question = f"What does error {code} mean?"
        for mode in ("hybrid", "lexical"):
            found = await store.retriever.retrieve("docs", unit(1), k=3, mode=mode, query=question)
            assert found.mode == mode
            assert found.chunks[0].chunk.id == f"manual:{n}", (mode, code)
            assert "lexical" in found.chunks[0].legs


async def test_every_passage_says_which_legs_found_it_and_its_similarity(store: Store) -> None:
    await add_document(
        store, "docs", "a", [unit(1), unit(2)],
        texts=["The boiler valve V-12 is red.", "Nothing about valves here at all."],
    )  # fmt: skip
    # The vector leg finds chunk 1 (its vector), the lexical leg chunk 0 (its words).
    found = await store.retriever.retrieve("docs", unit(2), k=2, mode="hybrid", query="valve V-12")
    legs = {r.chunk.id: r.legs for r in found.chunks}
    assert legs["a:0"] == ("lexical",) or set(legs["a:0"]) == {"vector", "lexical"}
    assert "vector" in legs["a:1"]
    # A lexical hit's score is its similarity to the question, as VSIM would give it.
    by_vector = {r.chunk.id: r.score for r in await store.retriever.search("docs", unit(2), k=2)}
    lexical = await store.retriever.retrieve("docs", unit(2), k=2, mode="lexical", query="V-12")
    assert [r.chunk.id for r in lexical.chunks] == ["a:0"]
    assert abs(lexical.chunks[0].score - by_vector["a:0"]) < 0.02
    assert lexical.chunks[0].legs == ("lexical",)


async def test_a_deleted_or_replaced_document_leaves_no_lexical_hit_and_no_key(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "a", [unit(1)], texts=["Clause 7.3.1 of the lease."])
    assert await lex_keys(redis, prefix)
    await store.documents.delete("docs", "a")
    found = await store.retriever.retrieve("docs", unit(1), k=5, mode="lexical", query="7.3.1")
    assert found.chunks == []
    assert await lex_keys(redis, prefix) == []
    # Replaced (deleted, then written again under its id with other text): the old term is gone.
    await add_document(store, "docs", "b", [unit(1)], texts=["Ticket OPS-1234 is open."])
    await store.documents.delete("docs", "b")
    await add_document(store, "docs", "b", [unit(1)], texts=["Ticket OPS-9999 is closed."])
    old = await store.retriever.retrieve("docs", unit(1), k=5, mode="lexical", query="1234")
    new = await store.retriever.retrieve("docs", unit(1), k=5, mode="lexical", query="9999")
    assert old.chunks == []
    assert [r.chunk.id for r in new.chunks] == ["b:0"]


async def test_a_half_written_document_is_never_found_by_either_leg(store: Store) -> None:
    await add_document(store, "docs", "done", [unit(3)], texts=["Nothing to see."])
    await add_document(
        store, "docs", "pending", [unit(1)], texts=["Part P/N 7731-02 fits."], ready=False
    )
    for mode in ("hybrid", "lexical", "vector"):
        found = await store.retriever.retrieve("docs", unit(1), k=5, mode=mode, query="7731-02")
        assert "pending" not in {r.chunk.doc_id for r in found.chunks}, mode
    await store.documents.mark_ready("docs", "pending")
    found = await store.retriever.retrieve("docs", unit(1), k=5, mode="lexical", query="7731-02")
    assert [r.chunk.doc_id for r in found.chunks] == ["pending"]


async def test_filters_hold_for_lexical_hits(store: Store) -> None:
    await add_document(
        store, "docs", "hr", [unit(1)], texts=["Form HR-17 covers leave."], tags=["hr"]
    )
    await add_document(
        store, "docs", "legal", [unit(2)], texts=["Form HR-17 is archived."], tags=["legal"]
    )
    for mode in ("hybrid", "lexical"):
        by_tag = await store.retriever.retrieve(
            "docs", unit(2), k=5, mode=mode, query="HR-17", flt=SearchFilter(tags=("hr",))
        )
        assert {r.chunk.doc_id for r in by_tag.chunks} == {"hr"}, mode
        by_doc = await store.retriever.retrieve(
            "docs", unit(1), k=5, mode=mode, query="HR-17", flt=SearchFilter(doc_ids=("legal",))
        )
        assert {r.chunk.doc_id for r in by_doc.chunks} == {"legal"}, mode


async def test_a_collection_without_a_keyword_index_is_searched_by_its_vectors(
    store: Store, redis: Redis
) -> None:
    await add_document(store, "docs", "a", [unit(1)], texts=["Valve V-12."])
    # As a collection created before the keyword index existed: no `lexical` in its meta.
    await redis.hdel(store.keys.collection("docs").meta, "lexical")
    found = await store.retriever.retrieve("docs", unit(1), k=5, mode="hybrid", query="V-12")
    assert found.mode == "vector"
    assert [r.chunk.id for r in found.chunks] == ["a:0"]
    assert found.chunks[0].legs == ("vector",)


async def test_a_question_of_stopwords_is_answered_by_the_vector_leg(store: Store) -> None:
    await add_document(store, "docs", "a", [unit(1)], texts=["Valve V-12."])
    hybrid = await store.retriever.retrieve("docs", unit(1), k=5, mode="hybrid", query="what is it")
    assert [r.chunk.id for r in hybrid.chunks] == ["a:0"]
    lexical = await store.retriever.retrieve(
        "docs", unit(1), k=5, mode="lexical", query="what is it"
    )
    assert lexical.chunks == []


async def test_hybrid_over_a_sharded_collection(store: Store) -> None:
    await store.collections.ensure("sharded", model="test-model", dim=len(unit(1)), shards=4)
    for i, code in enumerate(CODES[:12]):
        await add_document(
            store, "sharded", f"doc{i}", [near(unit(1), i, 0.02)], texts=[ENTRY.format(code=code)]
        )
    found = await store.retriever.retrieve(
        "sharded", unit(1), k=3, mode="hybrid", query="error E44-4467"
    )
    assert found.chunks[0].chunk.doc_id == "doc7"
    assert not found.partial


@pytest.mark.parametrize("quantization", list(Quantization))
async def test_a_lexical_hit_s_similarity_matches_vsim_in_every_quantization(
    redis: Redis, settings: Settings, quantization: Quantization
) -> None:
    store = Store.create(redis, settings.model_copy(update={"quantization": quantization}))
    await add_document(
        store, "q", "a", [near(unit(1), 3, 0.3), unit(2)], texts=["Valve V-12.", "Pump P-7."]
    )
    query = near(unit(1), 9, 0.2)
    by_vector = {r.chunk.id: r.score for r in await store.retriever.search("q", query, k=2)}
    lexical = await store.retriever.retrieve("q", query, k=2, mode="lexical", query="V-12")
    assert [r.chunk.id for r in lexical.chunks] == ["a:0"]
    assert lexical.chunks[0].score == pytest.approx(by_vector["a:0"], abs=0.02)
