"""Building the keyword index of a collection made before it existed (store/backfill.py)."""

from __future__ import annotations

from redis.asyncio import Redis

from ragis.store import Store
from support.corpus import add_document
from support.vectors import unit


async def make_legacy(store: Store, redis: Redis, prefix: str, collection: str = "docs") -> None:
    """What a collection of the previous release looks like: vectors and texts, no keyword
    index and no `lexical` in its meta."""
    async for key in redis.scan_iter(match=f"{prefix}:*:lex:*"):
        await redis.delete(key)
    await redis.hdel(store.keys.collection(collection).meta, "lexical")


async def test_a_legacy_collection_is_searched_by_vectors_until_backfilled(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "a", [unit(1), unit(2)], texts=["Valve V-12.", "Pump P-7."])
    await add_document(store, "docs", "b", [unit(3)], texts=["Fuse F-3."], ready=False)
    await make_legacy(store, redis, prefix)
    assert await store.backfill.pending() == ["docs"]
    before = await store.retriever.retrieve("docs", unit(5), k=5, mode="lexical", query="P-7")
    assert before.mode == "vector"

    assert await store.backfill.run_all() == 2  # the ready document's two chunks
    assert await store.backfill.pending() == []
    info = await store.collections.require("docs")
    assert info.lexical == "english"
    after = await store.retriever.retrieve("docs", unit(5), k=5, mode="lexical", query="P-7")
    assert after.mode == "lexical"
    assert [r.chunk.id for r in after.chunks] == ["a:1"]
    # Again: nothing to do, and nothing counted twice.
    n, total = await store.lexical.stats(store.keys.collection("docs").shard(0, 1))
    assert await store.backfill.run_all() == 0
    assert await store.lexical.stats(store.keys.collection("docs").shard(0, 1)) == (n, total)


async def test_a_document_deleted_before_the_backfill_leaves_nothing(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "a", [unit(1)], texts=["Valve V-12."])
    await add_document(store, "docs", "gone", [unit(2)], texts=["Clause 9.9."])
    await make_legacy(store, redis, prefix)
    await store.documents.delete("docs", "gone")
    await store.backfill.run_all()
    keys = sorted([k.decode() async for k in redis.scan_iter(match=f"{prefix}:*:lex:*")])
    assert not any("gone" in k or k.endswith(":9.9") for k in keys)
    found = await store.retriever.retrieve("docs", unit(2), k=5, mode="lexical", query="9.9")
    assert found.chunks == []


async def test_a_collection_deleted_meanwhile_is_not_brought_back(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "a", [unit(1)], texts=["Valve V-12."])
    await make_legacy(store, redis, prefix)
    await store.collections.delete("docs")
    assert await store.backfill.collection("docs") == 0
    assert [k async for k in redis.scan_iter(match=f"{prefix}:*docs*")] == []
