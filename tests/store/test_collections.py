from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from ragis.errors import InvalidInput, ModelMismatch, NotFound
from ragis.store import Store
from support.corpus import MODEL, add_document
from support.vectors import DIM, unit


async def test_the_first_vectors_record_the_model_and_dimension(store: Store) -> None:
    info = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    assert (info.model, info.dim, info.quantization, info.m, info.version) == (
        MODEL, DIM, "Q8", 16, 0
    )  # fmt: skip
    again = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    assert again.created == info.created


async def test_vectors_of_another_model_or_dimension_are_refused(store: Store) -> None:
    await store.collections.ensure("docs", model=MODEL, dim=DIM)
    with pytest.raises(ModelMismatch, match="other-model"):
        await store.collections.ensure("docs", model="other-model", dim=DIM)
    with pytest.raises(ModelMismatch, match="384"):
        await store.collections.ensure("docs", model=MODEL, dim=384)


async def test_get_counts_documents_and_vectors(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1), unit(2)])
    await add_document(store, "docs", "d2", [unit(3)])
    info = await store.collections.get("docs")
    assert info is not None
    assert (info.documents, info.vectors, info.version) == (2, 3, 2)
    assert [c.name for c in await store.collections.list()] == ["docs"]


async def test_an_unknown_collection_is_not_found(store: Store) -> None:
    assert await store.collections.get("nope") is None
    with pytest.raises(NotFound, match="nope"):
        await store.collections.require("nope")
    assert await store.collections.version("nope") == 0


async def test_deleting_a_collection_removes_all_its_keys_and_no_other(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "a", "d1", [unit(1), unit(2)])
    await add_document(store, "b", "d1", [unit(3)])
    removed = await store.collections.delete("a")
    assert removed > 0
    left = {k.decode() async for k in redis.scan_iter(match=f"{prefix}:*")}
    assert all(store.keys.collection("a").base not in k for k in left)
    assert any(store.keys.collection("b").base in k for k in left)
    assert await store.collections.names() == ["b"]


async def test_every_key_of_a_collection_shares_one_hash_tag(
    store: Store, redis: Redis, prefix: str
) -> None:
    await add_document(store, "docs", "d1", [unit(1), unit(2)])
    await store.cache.store(
        "docs", unit(5), question="q", answer="a", citations=[], version=1, model="m",
        prompt_version="1", retrieval="r", terms="x",
    )  # fmt: skip
    keys = [k.decode() async for k in redis.scan_iter(match=store.keys.collection("docs").pattern)]
    assert len(keys) >= 6
    slots = {key_slot(k.encode()) for k in keys}
    assert len(slots) == 1


async def test_a_collection_keeps_its_own_threshold_until_it_is_cleared(store: Store) -> None:
    await store.collections.ensure("docs", model=MODEL, dim=DIM)
    assert (await store.collections.require("docs")).min_score is None
    assert await store.collections.set_min_score("docs", 0.75) == 1
    info = await store.collections.require("docs")
    assert (info.min_score, info.version) == (0.75, 1)
    got = await store.collections.get("docs")
    assert got is not None
    assert got.min_score == 0.75
    assert await store.collections.set_min_score("docs", None) == 2
    assert (await store.collections.require("docs")).min_score is None


async def test_setting_the_same_threshold_again_leaves_the_version(store: Store) -> None:
    # The version keys the semantic cache: only a real change may invalidate it.
    await store.collections.ensure("docs", model=MODEL, dim=DIM)
    assert await store.collections.set_min_score("docs", 0.5) == 1
    assert await store.collections.set_min_score("docs", 0.5) == 1
    assert await store.collections.set_min_score("docs", None) == 2
    assert await store.collections.set_min_score("docs", None) == 2
    assert await store.collections.set_min_score("docs", 0.0) == 3
    assert (await store.collections.require("docs")).min_score == 0.0


async def test_a_threshold_for_an_unknown_collection_is_not_found_and_writes_nothing(
    store: Store, redis: Redis, prefix: str
) -> None:
    with pytest.raises(NotFound, match="nope"):
        await store.collections.set_min_score("nope", 0.5)
    with pytest.raises(NotFound, match="nope"):
        await store.collections.set_min_score("nope", None)
    assert [k async for k in redis.scan_iter(match=f"{prefix}:*")] == []


@pytest.mark.parametrize("value", [-0.1, 1.5, float("nan"), float("inf"), float("-inf")])
async def test_a_threshold_outside_0_to_1_is_refused(store: Store, value: float) -> None:
    await store.collections.ensure("docs", model=MODEL, dim=DIM)
    with pytest.raises(InvalidInput, match="0 to 1"):
        await store.collections.set_min_score("docs", value)
    info = await store.collections.require("docs")
    assert (info.min_score, info.version) == (None, 0)
