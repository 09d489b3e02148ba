"""Originals: a ready document's file kept beside it, and removed with it whatever removes it."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ragis.errors import InvalidName, NotFound
from ragis.store import DocumentStatus, Store
from support.corpus import add_document
from support.vectors import unit

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 4  # every byte value: kept as it is


async def test_a_kept_original_is_read_back_byte_for_byte_and_flags_its_record(
    store: Store,
) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    assert (await store.documents.require("docs", "d1")).original is False
    assert await store.originals.get("docs", "d1") is None
    await store.originals.put("docs", "d1", PDF, "application/pdf")
    original = await store.originals.get("docs", "d1")
    assert original is not None
    assert (original.data, original.content_type) == (PDF, "application/pdf")
    assert (await store.documents.require("docs", "d1")).original is True
    assert [d.original for d in await store.documents.list("docs")] == [True]


async def test_the_original_lives_in_the_slot_of_its_documents_record(store: Store) -> None:
    ck = store.keys.collection("docs")
    tag = ck.doc("d1").split("{", 1)[1].split("}", 1)[0]
    assert ck.original("d1").split("{", 1)[1].split("}", 1)[0] == tag
    assert ck.original("d1").startswith(ck.base + ":")  # a collection's pattern finds it


async def test_an_original_is_refused_for_a_document_that_is_not_ready(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)], ready=False)
    with pytest.raises(NotFound, match="not ready"):
        await store.originals.put("docs", "d1", PDF, "application/pdf")
    assert await store.originals.get("docs", "d1") is None


async def test_an_original_is_refused_for_a_document_that_does_not_exist(
    store: Store, redis: Redis
) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    with pytest.raises(NotFound, match="no document 'ghost'"):
        await store.originals.put("docs", "ghost", PDF, "application/pdf")
    assert not await redis.exists(store.keys.collection("docs").original("ghost"))
    assert not await redis.exists(store.keys.collection("docs").doc("ghost"))


@pytest.mark.parametrize("forged", ["../d1", "d1:x", "{d1}", "", "a" * 200, "d1\r\nDEL"])
async def test_a_forged_document_id_never_becomes_a_key(store: Store, forged: str) -> None:
    with pytest.raises(InvalidName):
        await store.originals.put("docs", forged, PDF, "application/pdf")
    with pytest.raises(InvalidName):
        await store.originals.get("docs", forged)


async def test_deleting_the_document_removes_its_original(store: Store, redis: Redis) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    await store.originals.put("docs", "d1", PDF, "application/pdf")
    await store.documents.delete("docs", "d1")
    assert not await redis.exists(store.keys.collection("docs").original("d1"))
    assert await store.originals.get("docs", "d1") is None


async def test_a_replaced_documents_original_goes_with_its_retired_version(
    store: Store, redis: Redis
) -> None:
    await add_document(store, "docs", "old", [unit(1)])
    await store.originals.put("docs", "old", PDF, "application/pdf")
    await add_document(store, "docs", "new", [unit(2)], ready=False)
    flip = await store.documents.flip("docs", "new", replaces="old")
    assert flip.retired is not None
    assert flip.retired.status is DocumentStatus.RETIRED
    # Retired: no new original is taken for it any more.
    with pytest.raises(NotFound, match="not ready"):
        await store.originals.put("docs", "old", b"late", "text/plain")
    await store.documents.discard("docs", flip.retired)
    assert not await redis.exists(store.keys.collection("docs").original("old"))


async def test_dropping_the_collection_removes_its_originals(store: Store, redis: Redis) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    await store.originals.put("docs", "d1", PDF, "application/pdf")
    await store.collections.delete("docs")
    assert not await redis.exists(store.keys.collection("docs").original("d1"))


async def test_recovery_removes_the_original_of_an_abandoned_document(
    store: Store, redis: Redis
) -> None:
    """A ready document with an original that a replacement retired, its writer then killed
    before it removed it: the sweep removes the retired record and its original together."""
    await add_document(store, "docs", "old", [unit(1)])
    await store.originals.put("docs", "old", PDF, "application/pdf")
    await add_document(store, "docs", "new", [unit(2)], ready=False)
    await store.documents.flip("docs", "new", replaces="old")  # the writer dies here
    removed = await store.recovery.sweep("docs")
    assert [r.id for r in removed] == ["old"]
    assert not await redis.exists(store.keys.collection("docs").original("old"))


async def test_another_workspaces_original_is_not_there(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    await store.originals.put("docs", "d1", PDF, "application/pdf")
    other = store.scoped("team")
    assert await other.originals.get("docs", "d1") is None
    with pytest.raises(NotFound):
        await other.originals.put("docs", "d1", b"x", "text/plain")
    original = await store.originals.get("docs", "d1")
    assert original is not None
    assert original.data == PDF


async def test_removing_the_workspace_removes_its_originals(store: Store, redis: Redis) -> None:
    team = store.scoped("team")
    await add_document(team, "docs", "d1", [unit(1)])
    await team.originals.put("docs", "d1", PDF, "application/pdf")
    await add_document(store, "docs", "d1", [unit(1)])
    await store.originals.put("docs", "d1", b"mine", "text/plain")
    await store.workspaces.delete("team")
    assert not await redis.exists(team.keys.collection("docs").original("d1"))
    kept = await store.originals.get("docs", "d1")
    assert kept is not None
    assert kept.data == b"mine"
