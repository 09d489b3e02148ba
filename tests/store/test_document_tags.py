"""Editing a document's tags (store/tags.py): the record, every chunk's filter attributes and the
keyword leg's view change at once, without re-embedding; the collection version moves so no
cached answer filtered by the old tags outlives the edit."""

from __future__ import annotations

import json

import pytest
from redis.asyncio import Redis

from ragis.errors import NotFound
from ragis.store import SearchFilter, Store
from support.corpus import add_document
from support.vectors import unit


async def found_docs(store: Store, tag: str, *, mode: str = "vector") -> set[str]:
    hits = await store.retriever.retrieve(
        "docs", unit(1), k=10, flt=SearchFilter(tags=(tag,)), mode=mode, query="pump"
    )
    return {h.chunk.doc_id for h in hits.chunks}


async def test_new_tags_reach_the_record_every_chunk_and_both_search_legs_at_once(
    store: Store, redis: Redis
) -> None:
    texts = ["the pump seal", "the pump shaft", "the pump motor"]
    await add_document(store, "docs", "d1", [unit(1), unit(2), unit(3)], tags=["old"], texts=texts)
    await add_document(store, "docs", "d2", [unit(4)], tags=["other"], texts=["pump spares"])
    before = await store.collections.version("docs")

    record = await store.documents.set_tags("docs", "d1", ["new", "manuals"])

    assert record.tags == ["new", "manuals"]
    assert (await store.documents.require("docs", "d1")).tags == ["new", "manuals"]
    info = await store.collections.require("docs")
    shard = store.keys.collection("docs").shard_for("d1", info.shards)
    for position in range(3):
        raw = await redis.execute_command("VGETATTR", shard.vectors, f"d1:{position}")
        assert json.loads(raw) == {"doc": "d1", "src": "doc.txt", "pos": position,
                                   "tags": ["new", "manuals"]}  # fmt: skip
    for mode in ("vector", "hybrid", "lexical"):
        assert await found_docs(store, "new", mode=mode) == {"d1"}, mode
        assert await found_docs(store, "old", mode=mode) == set(), mode
        assert await found_docs(store, "other", mode=mode) == {"d2"}, mode
    assert await store.collections.version("docs") > before


async def test_empty_tags_remove_them_all(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)], tags=["a", "b"])
    assert (await store.documents.set_tags("docs", "d1", [])).tags == []
    assert await found_docs(store, "a") == set()


async def test_the_semantic_cache_of_the_collection_is_dropped(store: Store, redis: Redis) -> None:
    await add_document(store, "docs", "d1", [unit(1)], tags=["a"])
    cache = store.keys.collection("docs").cache
    await redis.execute_command("VADD", cache, "VALUES", 2, 1.0, 0.0, "q1")
    await store.documents.set_tags("docs", "d1", ["b"])
    assert not await redis.exists(cache)


async def test_a_sharded_collection_writes_the_attributes_in_the_documents_shard(
    store: Store, redis: Redis
) -> None:
    info = await store.collections.ensure("docs", model="test-model", dim=len(unit(1)), shards=3)
    for doc_id in ("d1", "d2", "d3", "d4"):
        await add_document(store, "docs", doc_id, [unit(1), unit(2)], tags=["old"])
    await store.documents.set_tags("docs", "d3", ["new"])
    shard = store.keys.collection("docs").shard_for("d3", info.shards)
    raw = await redis.execute_command("VGETATTR", shard.vectors, "d3:1")
    assert json.loads(raw)["tags"] == ["new"]
    assert await found_docs(store, "new") == {"d3"}
    assert await found_docs(store, "old") == {"d1", "d2", "d4"}


async def test_a_document_that_is_not_ready_or_unknown_is_not_found(store: Store) -> None:
    await add_document(store, "docs", "busy", [unit(1)], tags=["a"], ready=False)
    before = await store.collections.version("docs")
    with pytest.raises(NotFound):
        await store.documents.set_tags("docs", "busy", ["b"])
    with pytest.raises(NotFound):
        await store.documents.set_tags("docs", "nothing", ["b"])
    assert (await store.documents.require("docs", "busy")).tags == ["a"]
    assert await store.collections.version("docs") == before


async def test_hostile_tags_stay_string_literals_of_the_filter(store: Store) -> None:
    """A tag that looks like a filter expression, JSON or another script is only a tag, and is
    found by its own name (non-ASCII ones too: stored as UTF-8, not `\\u` escapes)."""
    hostile = ['" or 1 or "', '"]', "it's", "x' or '1", '{"a": [1]}', "Qualität", "日本語"]
    await add_document(store, "docs", "d1", [unit(1)], tags=["plain"])
    await add_document(store, "docs", "d2", [unit(2)], tags=["plain", "Qualität"])
    await store.documents.set_tags("docs", "d1", hostile)
    for tag in hostile:
        expected = {"d1", "d2"} if tag == "Qualität" else {"d1"}
        assert await found_docs(store, tag) == expected, tag
    assert await found_docs(store, "plain") == {"d2"}


async def test_a_tag_a_filter_cannot_spell_finds_nothing_instead_of_failing(
    store: Store,
) -> None:
    await add_document(store, "docs", "d1", [unit(1)], tags=["a"])
    for tag in ("back\\slash", "both ' and \""):
        assert await found_docs(store, tag) == set(), tag
