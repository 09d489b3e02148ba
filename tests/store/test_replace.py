"""Replacing a document (never both versions, never neither), renaming its source, the source
index, and recovery of a retired version whose writer died before removing it."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from ragis.errors import NotFound, SourceTaken
from ragis.store import DocumentStatus, Store
from support.corpus import add_document
from support.vectors import near, unit


async def keys_of(redis: Redis, prefix: str) -> set[str]:
    return {k.decode() async for k in redis.scan_iter(match=f"{prefix}:*", count=1000)}


async def with_source(store: Store, collection: str, doc_id: str, source: str) -> None:
    """Give a document a source the way an upload does: on its record before it is ready."""
    ck = store.keys.collection(collection)
    await store.redis.hset(ck.doc(doc_id), "source", source)


@pytest.mark.parametrize("mode", ["vector", "hybrid"])
async def test_every_search_during_a_replacement_finds_exactly_one_version(
    store: Store, mode: str
) -> None:
    query = unit(7)
    await add_document(store, "docs", "old", [near(query, i) for i in range(6)], texts=["pump"] * 6)
    await add_document(
        store, "docs", "new", [near(query, 10 + i) for i in range(6)], texts=["pump"] * 6,
        ready=False,
    )  # fmt: skip
    seen: list[set[str]] = []
    flipped = asyncio.Event()

    async def search_until_replaced() -> None:
        # A tight loop: every await of the flip and of the removal lets searches in between.
        after = 0
        while after < 20:
            found = await store.retriever.search("docs", query, k=12, mode=mode, query="pump")
            seen.append({c.chunk.doc_id for c in found})
            if flipped.is_set():
                after += 1
            await asyncio.sleep(0)

    searching = asyncio.create_task(search_until_replaced())
    while not seen and not searching.done():
        await asyncio.sleep(0)
    flip = await store.documents.flip("docs", "new", replaces="old")
    assert flip.retired is not None
    assert flip.retired.status is DocumentStatus.RETIRED
    await store.documents.discard("docs", flip.retired)
    flipped.set()
    await searching
    assert all(s in ({"old"}, {"new"}) for s in seen), [s for s in seen if len(s) != 1]
    assert seen[0] == {"old"}
    assert seen[-1] == {"new"}
    assert await store.documents.get("docs", "old") is None


async def test_a_replacement_leaves_only_the_new_version_s_keys(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "keep", [unit(1)])
    await add_document(store, "docs", "new", [unit(2), unit(3)], sha256="s-new", ready=False)
    await with_source(store, "docs", "new", "a/b.pdf")
    await store.documents.mark_ready("docs", "new")
    before = await keys_of(redis, prefix)
    await add_document(store, "docs", "old", [unit(i) for i in range(4, 9)], ready=False)
    await with_source(store, "docs", "old", "a/b.pdf")
    await store.documents.mark_ready("docs", "old")
    # Now `old` is the ready version of a/b.pdf: replace it with a fresh copy of `new`'s shape.
    await store.documents.delete("docs", "new")
    await add_document(store, "docs", "new", [unit(2), unit(3)], sha256="s-new", ready=False)
    await with_source(store, "docs", "new", "a/b.pdf")
    flip = await store.documents.flip("docs", "new", replaces="old")
    assert flip.retired is not None
    await store.documents.discard("docs", flip.retired)
    assert await keys_of(redis, prefix) == before
    found = await store.documents.find_by_source("docs", "a/b.pdf")
    assert found is not None
    assert found.id == "new"
    assert found.source == "a/b.pdf"


async def test_replacing_a_document_that_is_not_ready_still_makes_the_new_one_ready(
    store: Store,
) -> None:
    await add_document(store, "docs", "half", [unit(1)], ready=False)
    await add_document(store, "docs", "new", [unit(2)], ready=False)
    flip = await store.documents.flip("docs", "new", replaces="half")
    assert flip.retired is None
    assert (await store.documents.require("docs", "new")).status is DocumentStatus.READY
    assert (await store.documents.require("docs", "half")).status is DocumentStatus.INGESTING
    await add_document(store, "docs", "newer", [unit(3)], ready=False)
    assert (await store.documents.flip("docs", "newer", replaces="gone-long-ago")).retired is None
    assert (await store.documents.require("docs", "newer")).status is DocumentStatus.READY


async def test_a_retired_version_left_by_a_crash_is_removed_by_recovery(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "keep", [unit(1)])
    await add_document(store, "docs", "new", [unit(2)], ready=False)
    before_old = await keys_of(redis, prefix)
    await add_document(store, "docs", "old", [unit(i) for i in range(3, 7)])
    await store.documents.flip("docs", "new", replaces="old")
    # The writer dies here: no discard. The retired record stays, never searched.
    assert (await store.documents.require("docs", "old")).status is DocumentStatus.RETIRED
    found = await store.retriever.search("docs", unit(4), k=10)
    assert "old" not in {c.chunk.doc_id for c in found}
    removed = await store.recovery.sweep("docs")
    assert [r.id for r in removed] == ["old"]
    assert await store.documents.get("docs", "old") is None
    # Nothing of `old` is left: only keys that existed before it (less `new`'s finished lease).
    assert await keys_of(redis, prefix) <= before_old


async def test_a_full_sweep_finds_a_retired_record_missing_from_the_set(store: Store) -> None:
    await add_document(store, "docs", "new", [unit(2)], ready=False)
    await add_document(store, "docs", "old", [unit(3)])
    await store.documents.flip("docs", "new", replaces="old")
    await store.redis.srem(store.keys.collection("docs").ingesting, "old")
    assert await store.recovery.sweep("docs") == []
    assert [r.id for r in await store.recovery.sweep("docs", full=True)] == ["old"]


async def test_rename_moves_the_source_index_without_touching_chunks_or_the_version(
    store: Store,
) -> None:
    await add_document(store, "docs", "d1", [unit(1)], ready=False)
    await with_source(store, "docs", "d1", "old/name.pdf")
    await store.documents.mark_ready("docs", "d1")
    version = await store.collections.version("docs")
    renamed = await store.documents.rename("docs", "d1", "new/name.pdf")
    assert renamed.source == "new/name.pdf"
    assert await store.documents.find_by_source("docs", "old/name.pdf") is None
    found = await store.documents.find_by_source("docs", "new/name.pdf")
    assert found is not None
    assert found.id == "d1"
    assert await store.collections.version("docs") == version
    assert len(await store.retriever.search("docs", unit(1), k=5)) == 1


async def test_rename_to_a_source_another_ready_document_has_is_refused(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)], ready=False)
    await with_source(store, "docs", "d1", "a.pdf")
    await store.documents.mark_ready("docs", "d1")
    await add_document(store, "docs", "d2", [unit(2)])
    with pytest.raises(SourceTaken):
        await store.documents.rename("docs", "d2", "a.pdf")
    assert (await store.documents.require("docs", "d2")).source is None
    # Renaming to its own source again is no conflict.
    assert (await store.documents.rename("docs", "d1", "a.pdf")).source == "a.pdf"


async def test_a_source_whose_document_is_gone_can_be_taken(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)], ready=False)
    await with_source(store, "docs", "d1", "a.pdf")
    await store.documents.mark_ready("docs", "d1")
    await store.documents.delete("docs", "d1")
    assert await store.documents.find_by_source("docs", "a.pdf") is None
    await add_document(store, "docs", "d2", [unit(2)])
    assert (await store.documents.rename("docs", "d2", "a.pdf")).source == "a.pdf"


async def test_rename_of_an_unknown_or_unready_document_is_not_found(store: Store) -> None:
    await add_document(store, "docs", "half", [unit(1)], ready=False)
    with pytest.raises(NotFound):
        await store.documents.rename("docs", "half", "a.pdf")
    with pytest.raises(NotFound):
        await store.documents.rename("docs", "nope", "a.pdf")
    assert await store.documents.find_by_source("docs", "a.pdf") is None


async def test_a_forged_id_in_the_source_index_is_never_made_a_key(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    ck = store.keys.collection("docs")
    await store.redis.hset(ck.sources, "a.pdf", "../../etc:*")
    assert await store.documents.find_by_source("docs", "a.pdf") is None
    assert (await store.documents.rename("docs", "d1", "a.pdf")).source == "a.pdf"


async def test_of_two_writers_of_the_same_bytes_only_the_first_ready_is_kept(store: Store) -> None:
    # Two uploads of one file at once: both passed the duplicate check before either was ready.
    await add_document(store, "docs", "first", [unit(1)], sha256="same", ready=False)
    await add_document(store, "docs", "second", [unit(1)], sha256="same", ready=False)
    assert (await store.documents.flip("docs", "first")).duplicate_of is None
    flip = await store.documents.flip("docs", "second")
    assert flip.duplicate_of == "first"
    second = await store.documents.get("docs", "second")
    assert second is not None
    assert second.status is DocumentStatus.INGESTING
    found = await store.retriever.search("docs", unit(1), k=5, mode="vector", query="")
    assert {c.chunk.doc_id for c in found} == {"first"}
    # A replacement is the caller's choice: the same bytes as another document may replace.
    await add_document(store, "docs", "third", [unit(1)], sha256="same", ready=False)
    flip = await store.documents.flip("docs", "third", replaces="first")
    assert flip.duplicate_of is None
    assert flip.retired is not None
    assert flip.retired.id == "first"


async def test_a_forged_owner_in_the_sha_index_does_not_block_a_document(store: Store) -> None:
    ck = store.keys.collection("docs")
    await add_document(store, "docs", "doc", [unit(1)], sha256="forged", ready=False)
    await store.redis.hset(ck.sha, "forged", "../../etc")
    flip = await store.documents.flip("docs", "doc")
    assert flip.duplicate_of is None
    record = await store.documents.get("docs", "doc")
    assert record is not None
    assert record.status is DocumentStatus.READY
