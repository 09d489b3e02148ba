from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from ragis.errors import IndexInterrupted, InvalidName, NotFound
from ragis.store import ChunkText, DocumentRecord, DocumentStatus, Store
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


async def test_write_chunks_stores_each_chunk_and_its_vector_with_the_layout_attributes(
    store: Store, redis: Redis
) -> None:
    record = await store.documents.begin(
        "docs",
        DocumentRecord(
            id="d1", filename="a.pdf", content_type="application/pdf", size=1, sha256="s1",
            chunk_count=2, tags=["x", "y"],
        ),
    )  # fmt: skip
    info = await store.collections.ensure("docs", model="test-model", dim=len(unit(1)))
    chunks = [ChunkText("first", 0, 1), ChunkText("second", 1)]
    await store.documents.write_chunks(info, record, chunks, [unit(1), unit(2)])
    shard = store.keys.collection("docs").shard_for("d1", info.shards)
    assert await redis.execute_command("VGETATTR", shard.vectors, "d1:1") == (
        b'{"doc":"d1","src":"a.pdf","pos":1,"tags":["x","y"]}'
    )
    assert await redis.hgetall(shard.chunk("d1:0")) == {
        b"text": b"first",
        b"doc": b"d1",
        b"pos": b"0",
        b"page": b"1",
    }
    assert await redis.hgetall(shard.chunk("d1:1")) == {
        b"text": b"second",
        b"doc": b"d1",
        b"pos": b"1",
    }


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
        store.keys.workspaces,
    }


@pytest.mark.parametrize("bad", ["", "a:b", "../x", "a b", "{tag}", "x" * 200, "-start"])
async def test_document_ids_that_could_escape_their_key_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(InvalidName):
        await store.documents.get("docs", bad)


async def test_collection_names_are_checked_too(store: Store) -> None:
    with pytest.raises(InvalidName):
        await store.documents.list("a}b")


# --- leases and recovery: nothing half-written after a crash -----------------------------------


async def lease_gone(redis: Redis, store: Store, collection: str, doc_id: str) -> None:
    """Wait until a document's lease has expired (it was taken with a lease of a few ms)."""
    key = store.keys.collection(collection).lease(doc_id)
    while await redis.exists(key):
        await asyncio.sleep(0.01)


async def begin_half(
    store: Store, doc_id: str, *, written: int, planned: int, lease_ms: int = 30_000
) -> None:
    """A document begun with `planned` chunks of which the writer wrote `written`, then died."""
    await add_document(store, "docs", doc_id, [unit(i) for i in range(written)], ready=False)
    ck = store.keys.collection("docs")
    # What begin() gives a writer, with the plan and the lease of this test.
    await store.redis.hset(ck.doc(doc_id), "chunk_count", planned)
    await store.redis.set(ck.lease(doc_id), "writer-token", px=lease_ms)


async def test_begin_takes_a_lease_and_mark_ready_releases_it(store: Store, redis: Redis) -> None:
    ck = store.keys.collection("docs")
    await add_document(store, "docs", "d1", [unit(1)], ready=False)
    assert await redis.exists(ck.lease("d1"))
    assert await store.documents.unfinished("docs") == ["d1"]
    await store.documents.mark_ready("docs", "d1")
    assert not await redis.exists(ck.lease("d1"))
    assert await store.documents.unfinished("docs") == []


async def test_only_the_lease_holder_renews_it_or_makes_the_document_ready(
    store: Store, redis: Redis
) -> None:
    await store.collections.ensure("docs", model="test-model", dim=8)
    record = DocumentRecord(id="d1", filename="a.txt", content_type="text/plain", size=1,
                            sha256="s1", chunk_count=0)  # fmt: skip
    await store.documents.begin("docs", record, lease="mine", lease_ms=30_000)
    assert await store.documents.renew("docs", "d1", "mine", 60_000)
    assert 30_000 < await redis.pttl(store.keys.collection("docs").lease("d1")) <= 60_000
    assert not await store.documents.renew("docs", "d1", "theirs", 60_000)
    with pytest.raises(IndexInterrupted):
        await store.documents.mark_ready("docs", "d1", lease="theirs")
    assert (await store.documents.require("docs", "d1")).status is DocumentStatus.INGESTING
    await store.documents.mark_ready("docs", "d1", lease="mine")
    assert (await store.documents.require("docs", "d1")).status is DocumentStatus.READY


async def test_a_writer_whose_lease_expired_can_neither_renew_nor_finish(
    store: Store, redis: Redis
) -> None:
    await store.collections.ensure("docs", model="test-model", dim=8)
    record = DocumentRecord(id="d1", filename="a.txt", content_type="text/plain", size=1,
                            sha256="s1", chunk_count=0)  # fmt: skip
    await store.documents.begin("docs", record, lease="mine", lease_ms=5)
    await lease_gone(redis, store, "docs", "d1")
    assert not await store.documents.renew("docs", "d1", "mine", 60_000)
    with pytest.raises(IndexInterrupted, match="upload it again"):
        await store.documents.mark_ready("docs", "d1", lease="mine")


async def test_recovery_removes_a_document_whose_writer_is_gone_and_fixes_the_counts(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "keep", [unit(1), unit(2)])
    before = await keys_of(redis, prefix)
    await begin_half(store, "half", written=3, planned=40, lease_ms=5)
    info = await store.collections.require("docs")
    assert await store.vectors.count(info) == 5  # the orphans are counted until recovery
    await lease_gone(redis, store, "docs", "half")

    removed = await store.recovery.sweep("docs")

    assert [r.id for r in removed] == ["half"]
    assert removed[0].status is DocumentStatus.FAILED
    assert "interrupted" in (removed[0].error or "")
    assert await store.documents.get("docs", "half") is None
    assert [d.id for d in await store.documents.list("docs")] == ["keep"]
    assert await store.vectors.count(info) == 2
    collection = await store.collections.get("docs")
    assert collection is not None
    assert (collection.documents, collection.vectors) == (1, 2)
    # Nothing of it is left: no chunk, no lease, no set entry.
    assert await keys_of(redis, prefix) == before
    assert await store.recovery.sweep("docs") == []


async def test_recovery_leaves_a_document_whose_writer_is_alive_alone(
    store: Store, redis: Redis
) -> None:
    await begin_half(store, "busy", written=2, planned=10, lease_ms=60_000)
    assert await store.recovery.sweep("docs") == []
    assert await store.recovery.sweep_all(full=True) == []
    record = await store.documents.require("docs", "busy")
    assert record.status is DocumentStatus.INGESTING
    assert await store.vectors.count(await store.collections.require("docs")) == 2


async def test_recovery_and_a_finishing_writer_never_both_win(store: Store, redis: Redis) -> None:
    await begin_half(store, "late", written=2, planned=2, lease_ms=5)
    await lease_gone(redis, store, "docs", "late")
    claimed = await store.documents.claim_abandoned("docs", "late")
    assert claimed is not None
    # The writer comes back after recovery took its document: it must not make it ready.
    with pytest.raises(IndexInterrupted):
        await store.documents.mark_ready("docs", "late", lease="writer-token")
    with pytest.raises(IndexInterrupted):
        await store.documents.mark_ready("docs", "late")
    # And a ready document is never claimed.
    await add_document(store, "docs", "done", [unit(1)])
    assert await store.documents.claim_abandoned("docs", "done") is None


async def test_recovery_finishes_a_removal_an_earlier_recovery_began(
    store: Store, redis: Redis
) -> None:
    await begin_half(store, "half", written=3, planned=3, lease_ms=5)
    await lease_gone(redis, store, "docs", "half")
    # An earlier recovery claimed it and died before removing anything.
    assert await store.documents.claim_abandoned("docs", "half") is not None
    removed = await store.recovery.sweep("docs")
    assert [r.id for r in removed] == ["half"]
    assert await store.vectors.count(await store.collections.require("docs")) == 0


async def test_a_full_sweep_also_finds_stuck_records_of_an_older_ragis(
    store: Store, redis: Redis
) -> None:
    # Data written before leases existed: an `ingesting` record, no lease, not in the set.
    await begin_half(store, "old", written=4, planned=9)
    ck = store.keys.collection("docs")
    await redis.delete(ck.lease("old"), ck.ingesting)
    assert await store.recovery.sweep("docs") == []
    removed = await store.recovery.sweep_all(full=True)
    assert [r.id for r in removed] == ["old"]
    assert await store.vectors.count(await store.collections.require("docs")) == 0


@pytest.mark.parametrize("hostile", ["a}b", "../x", "x:0", "", "x" * 300, "{c:other}:doc:x"])
async def test_recovery_never_builds_a_key_from_a_hostile_id_in_the_set(
    store: Store, redis: Redis, prefix: str, hostile: str
) -> None:
    await add_document(store, "docs", "keep", [unit(1)])
    ck = store.keys.collection("docs")
    await redis.sadd(ck.ingesting, hostile)
    before = await keys_of(redis, prefix)
    assert await store.recovery.sweep("docs", full=True) == []
    assert await store.documents.unfinished("docs") == []
    assert await keys_of(redis, prefix) == before - {ck.ingesting}
    assert [d.id for d in await store.documents.list("docs")] == ["keep"]


async def test_a_writer_cleaning_up_after_its_collection_was_deleted_leaves_no_key(
    store: Store, redis: Redis, prefix: str
) -> None:
    record = await add_document(store, "docs", "d1", [unit(1), unit(2)], ready=False)
    info = await store.collections.require("docs")
    await store.collections.delete("docs")
    # The writer did not know: it wrote one more batch, then failed and cleaned up.
    await store.documents.write_chunks(info, record, [ChunkText("late", 1)], [unit(2)])
    await store.documents.discard("docs", record, shards=info.shards)
    # Only the set naming the workspace (for the recovery sweep) outlives its collections.
    assert await keys_of(redis, prefix) == {store.keys.workspaces}
    assert await store.collections.get("docs") is None
