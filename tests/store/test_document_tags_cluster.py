"""Editing a document's tags on a real Redis Cluster with a sharded collection: the record (the
collection's slot) and the chunks' attributes (the document's shard, another node) both change,
and a tag filter finds it by the new tags at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster

from ragis.db import connect
from ragis.settings import load_settings
from ragis.store import SearchFilter, Store
from support.cluster import LocalCluster
from support.corpus import add_document
from support.vectors import unit


@pytest.fixture
async def cluster_store(redis_cluster: LocalCluster, prefix: str) -> AsyncIterator[Store]:
    client = await connect(redis_cluster.url)
    assert isinstance(client, RedisCluster)
    settings = load_settings(redis_url=redis_cluster.url, key_prefix=prefix, shards=3)
    yield Store.create(client, settings)
    await client.aclose()


async def test_new_tags_are_found_at_once_on_a_cluster(cluster_store: Store) -> None:
    for i in range(6):
        await add_document(cluster_store, "docs", f"d{i}", [unit(i), unit(i + 1)], tags=["old"])
    version = await cluster_store.collections.version("docs")
    await cluster_store.documents.set_tags("docs", "d4", ["new", "Qualität"])

    async def found(tag: str) -> set[str]:
        hits = await cluster_store.retriever.search(
            "docs", unit(4), k=20, flt=SearchFilter(tags=(tag,))
        )
        return {h.chunk.doc_id for h in hits}

    assert await found("new") == {"d4"}
    assert await found("Qualität") == {"d4"}
    assert await found("old") == {"d0", "d1", "d2", "d3", "d5"}
    assert await cluster_store.collections.version("docs") > version
