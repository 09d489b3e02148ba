from __future__ import annotations

import numpy as np
import pytest
from redis.asyncio import Redis

from ragis.errors import InvalidVector
from ragis.store import Store, VectorItem
from ragis.store.filters import filter_expression
from ragis.store.models import SearchFilter
from support.corpus import MODEL
from support.vectors import DIM, near, unit


async def test_add_then_search_finds_the_nearest_first(store: Store) -> None:
    info = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    items = [VectorItem(f"d:{i}", unit(i), {"doc": "d", "pos": i}) for i in range(20)]
    assert await store.vectors.add(info, items) == 20
    hits = await store.vectors.search(info, near(unit(7), 99), k=3)
    assert hits[0].id == "d:7"
    assert hits[0].score > 0.99
    assert hits[0].attributes == {"doc": "d", "pos": 7}
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_vectors_go_over_the_wire_as_fp32_with_the_collection_quantization(
    store: Store, redis: Redis
) -> None:
    info = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    await store.vectors.add(info, [VectorItem("d:0", unit(1), {"doc": "d"})])
    vinfo = await redis.execute_command("VINFO", store.keys.collection("docs").vectors)
    flat = dict(zip(vinfo[::2], vinfo[1::2], strict=True)) if isinstance(vinfo, list) else vinfo
    assert flat[b"quant-type"] == b"int8"
    assert flat[b"hnsw-m"] == 16
    assert flat[b"vector-dim"] == DIM


async def test_search_on_an_empty_collection_returns_nothing(store: Store) -> None:
    info = await store.collections.ensure("empty", model=MODEL, dim=DIM)
    assert await store.vectors.search(info, unit(1), k=5) == []


@pytest.mark.parametrize(
    ("vector", "reason"),
    [
        (np.ones(DIM + 1, dtype=np.float32), "dimension"),
        (np.ones(DIM - 1, dtype=np.float32), "dimension"),
        (np.array([np.nan] + [1.0] * (DIM - 1), dtype=np.float32), "NaN"),
        (np.array([np.inf] + [1.0] * (DIM - 1), dtype=np.float32), "NaN or infinite"),
        (np.zeros(DIM, dtype=np.float32), "zeros"),
        (np.ones((2, DIM), dtype=np.float32), "dimension"),
    ],
)
async def test_a_bad_vector_is_refused_before_anything_reaches_redis(
    store: Store, redis: Redis, vector: np.ndarray, reason: str
) -> None:
    info = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    good = VectorItem("d:0", unit(1), {"doc": "d"})
    with pytest.raises(InvalidVector, match=reason):
        await store.vectors.add(info, [good, VectorItem("d:1", vector, {"doc": "d"})])
    # The good vector of the same call was not written either.
    assert not await redis.exists(store.keys.collection("docs").vectors)
    with pytest.raises(InvalidVector):
        await store.vectors.search(info, vector, k=3)


async def test_filter_restricts_to_documents_and_tags(store: Store) -> None:
    info = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    await store.vectors.add(
        info,
        [
            VectorItem("a:0", unit(1), {"doc": "a", "tags": ["red"]}),
            VectorItem("b:0", near(unit(1), 5), {"doc": "b", "tags": ["blue", "green"]}),
            VectorItem("c:0", near(unit(1), 6), {"doc": "c", "tags": []}),
        ],
    )
    by_doc = await store.vectors.search(
        info, unit(1), k=5, filter_expr=filter_expression(SearchFilter(doc_ids=("b", "c")))
    )
    assert {h.id for h in by_doc} == {"b:0", "c:0"}
    by_tag = await store.vectors.search(
        info, unit(1), k=5, filter_expr=filter_expression(SearchFilter(tags=("green", "red")))
    )
    assert {h.id for h in by_tag} == {"a:0", "b:0"}


async def test_a_hostile_filter_value_stays_a_string_literal(store: Store) -> None:
    info = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    await store.vectors.add(info, [VectorItem("a:0", unit(1), {"doc": "a"})])
    evil = SearchFilter(doc_ids=('x"] or .doc == "a', "y"))
    assert await store.vectors.search(info, unit(1), k=5, filter_expr=filter_expression(evil)) == []


async def test_remove_deletes_elements_and_the_empty_set(store: Store, redis: Redis) -> None:
    info = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    await store.vectors.add(info, [VectorItem(f"a:{i}", unit(i), {"doc": "a"}) for i in range(3)])
    assert await store.vectors.count(info) == 3
    assert await store.vectors.remove(info, ["a:0", "a:1", "a:2", "a:9"]) == 3
    assert await store.vectors.count(info) == 0
    assert not await redis.exists(store.keys.collection("docs").vectors)


async def test_explicit_ef_is_accepted(store: Store) -> None:
    info = await store.collections.ensure("docs", model=MODEL, dim=DIM)
    await store.vectors.add(info, [VectorItem(f"a:{i}", unit(i), {"doc": "a"}) for i in range(30)])
    hits = await store.vectors.search(info, unit(3), k=5, ef=200)
    assert hits[0].id == "a:3"
