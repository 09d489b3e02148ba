from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ragis.errors import InvalidName, NotFound
from ragis.store import DocumentStatus, Store
from support.corpus import add_document
from support.vectors import unit


async def keys_of(redis: Redis, prefix: str) -> set[str]:
    return {k.decode() async for k in redis.scan_iter(match=f"{prefix}:*", count=1000)}


async def test_a_registered_document_is_ingesting_until_marked_ready(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)], ready=False)
    record = await store.documents.require("docs", "d1")
    assert record.status is DocumentStatus.INGESTING
    version = await store.collections.version("docs")
    assert await store.documents.mark_ready("docs", "d1") == version + 1
    assert (await store.documents.require("docs", "d1")).status is DocumentStatus.READY


async def test_find_by_sha_recognises_the_same_bytes_only_once_ready(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)], sha256="abc", ready=False)
    assert await store.documents.find_by_sha("docs", "abc") is None
    await store.documents.mark_ready("docs", "d1")
    found = await store.documents.find_by_sha("docs", "abc")
    assert found is not None
    assert found.id == "d1"
    assert await store.documents.find_by_sha("other", "abc") is None
    assert await store.documents.find_by_sha("docs", "abd") is None


async def test_list_returns_documents_oldest_first_with_their_fields(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1), unit(2)], filename="a.pdf", tags=["x"])
    await add_document(store, "docs", "d2", [unit(3)], filename="b.md")
    listed = await store.documents.list("docs")
    assert [d.id for d in listed] == ["d1", "d2"]
    assert listed[0].filename == "a.pdf"
    assert listed[0].chunk_count == 2
    assert listed[0].tags == ["x"]
    assert listed[0].created <= listed[1].created
    assert await store.documents.list("nothing-here") == []


async def test_deleting_a_document_leaves_no_key_behind(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "keep", [unit(1)])
    before = await keys_of(redis, prefix)
    await add_document(store, "docs", "gone", [unit(i) for i in range(5)], sha256="s-gone")
    version = await store.collections.version("docs")
    deleted = await store.documents.delete("docs", "gone")
    assert deleted.id == "gone"
    assert await keys_of(redis, prefix) == before
    assert await store.documents.get("docs", "gone") is None
    assert await store.documents.find_by_sha("docs", "s-gone") is None
    assert await store.vectors.count(await store.collections.require("docs")) == 1
    assert await store.collections.version("docs") == version + 1
    with pytest.raises(NotFound):
        await store.documents.delete("docs", "gone")


async def test_deleting_the_last_document_leaves_only_the_collection_meta(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "only", [unit(i) for i in range(3)])
    await store.documents.delete("docs", "only")
    assert await keys_of(redis, prefix) == {
        store.keys.collection("docs").meta,
        store.keys.collections,
    }


async def test_a_failed_document_records_why(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)], ready=False)
    await store.documents.mark_failed("docs", "d1", "embedding crashed")
    record = await store.documents.require("docs", "d1")
    assert record.status is DocumentStatus.FAILED
    assert record.error == "embedding crashed"


@pytest.mark.parametrize("bad", ["", "a:b", "../x", "a b", "{tag}", "x" * 200, "-start"])
async def test_document_ids_that_could_escape_their_key_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(InvalidName):
        await store.documents.get("docs", bad)


async def test_collection_names_are_checked_too(store: Store) -> None:
    with pytest.raises(InvalidName):
        await store.documents.list("a}b")
