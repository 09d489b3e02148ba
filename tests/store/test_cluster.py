"""The data layer on a real Redis Cluster of three Redis 8 primaries, and sharded collections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from ragis.db import connect
from ragis.db.client import RedisClient
from ragis.settings import load_settings
from ragis.store import Message, Store
from support.cluster import LocalCluster
from support.corpus import add_document
from support.vectors import near, unit

DOCS = {f"doc{i}": [near(unit(i), 100 + j, 0.3) for j in range(4)] for i in range(12)}
QUERIES = [unit(i) for i in (1, 4, 7, 10)] + [near(unit(3), 77, 0.5)]


@pytest.fixture
def cluster(redis_cluster: LocalCluster) -> LocalCluster:
    return redis_cluster


@pytest.fixture
async def cluster_store(cluster: LocalCluster, prefix: str) -> AsyncIterator[Store]:
    client = await connect(cluster.url)
    assert isinstance(client, RedisCluster)
    yield Store.create(client, load_settings(redis_url=cluster.url, key_prefix=prefix, shards=3))
    await client.aclose()


async def fill(store: Store, collection: str = "docs") -> None:
    for doc_id, vectors in DOCS.items():
        await add_document(store, collection, doc_id, vectors)


def node_port(cluster: LocalCluster, key: str) -> int:
    return cluster.node_for_slot(key_slot(key.encode())).port


async def test_connect_returns_a_cluster_client_for_a_cluster_node(cluster: LocalCluster) -> None:
    client: RedisClient = await connect(cluster.url)
    assert isinstance(client, RedisCluster)
    await client.aclose()


async def test_shards_land_on_different_nodes(cluster_store: Store, cluster: LocalCluster) -> None:
    await fill(cluster_store)
    info = await cluster_store.collections.get("docs")
    assert info is not None
    assert info.shards == 3
    ck = cluster_store.keys.collection("docs")
    ports = {node_port(cluster, shard.vectors) for shard in ck.shards(3)}
    assert len(ports) == 3
    # Every shard holds some of the documents, and the counts add up.
    cards = [
        await cluster_store.redis.execute_command("VCARD", shard.vectors) for shard in ck.shards(3)
    ]
    assert all(c > 0 for c in cards)
    assert info.vectors == sum(cards) == 48
    # A document's chunks sit next to its vectors, in its shard.
    shard = ck.shard_for("doc5", 3)
    assert await cluster_store.redis.exists(shard.chunk("doc5:0"))
    assert key_slot(shard.chunk("doc5:0").encode()) == key_slot(shard.vectors.encode())


async def test_results_on_the_cluster_equal_those_of_a_single_node(
    cluster_store: Store, store: Store
) -> None:
    await fill(cluster_store)
    await fill(store)
    for query in QUERIES:
        on_cluster = await cluster_store.retriever.search("docs", query, k=6)
        single = await store.retriever.search("docs", query, k=6)
        assert [r.chunk.id for r in on_cluster] == [r.chunk.id for r in single]
        assert [r.score for r in on_cluster] == pytest.approx([r.score for r in single], abs=1e-6)


async def test_delete_and_reindex_touch_only_the_documents_shard(cluster_store: Store) -> None:
    await fill(cluster_store)
    await cluster_store.documents.delete("docs", "doc4")
    found = await cluster_store.retriever.search("docs", unit(4), k=10)
    assert all(r.chunk.doc_id != "doc4" for r in found)
    assert await cluster_store.vectors.count(await cluster_store.collections.require("docs")) == 44
    await add_document(cluster_store, "docs", "doc4", DOCS["doc4"])
    found = await cluster_store.retriever.search("docs", unit(4), k=4)
    assert {r.chunk.doc_id for r in found} == {"doc4"}


async def test_sessions_and_cache_work_unchanged_on_a_cluster(cluster_store: Store) -> None:
    await cluster_store.sessions.append("s1", [Message("user", "hi", 1.0)], collection="docs")
    assert await cluster_store.sessions.collection_of("s1") == "docs"
    assert [m.content for m in await cluster_store.sessions.history("s1")] == ["hi"]
    await fill(cluster_store)
    version = await cluster_store.collections.version("docs")
    await cluster_store.cache.store(
        "docs", unit(50), question="q", answer="a", citations=[], version=version,
        model="m", prompt_version="1", retrieval="r", terms="x",
    )  # fmt: skip
    hit = await cluster_store.cache.lookup(
        "docs", unit(50), version=version, model="m", prompt_version="1", retrieval="r",
        terms="x",
    )  # fmt: skip
    assert hit is not None
    assert hit.answer == "a"
    await cluster_store.collections.delete("docs")
    assert await cluster_store.collections.get("docs") is None


async def test_a_stopped_node_gives_partial_results_then_full_ones_when_it_is_back(
    cluster_store: Store, cluster: LocalCluster
) -> None:
    await fill(cluster_store)
    ck = cluster_store.keys.collection("docs")
    main_port = node_port(cluster, ck.meta)
    victim_shard = next(
        i for i, shard in enumerate(ck.shards(3)) if node_port(cluster, shard.vectors) != main_port
    )
    victim_port = node_port(cluster, ck.shard(victim_shard, 3).vectors)
    victim = next(node for node in cluster.nodes if node.port == victim_port)
    full = await cluster_store.retriever.retrieve("docs", unit(1), k=48)
    assert not full.partial
    assert len(full.chunks) == 48

    victim.stop()
    try:
        partial = await cluster_store.retriever.retrieve("docs", unit(1), k=48)
        assert partial.partial
        assert 0 < len(partial.chunks) < 48
        lost = {r.chunk.doc_id for r in full.chunks} - {r.chunk.doc_id for r in partial.chunks}
        assert lost
        assert all(ck.shard_for(doc, 3).index == victim_shard for doc in lost)
    finally:
        cluster.restart(victim)
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        again = await cluster_store.retriever.retrieve("docs", unit(1), k=48)
        if not again.partial or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.2)
    assert not again.partial
    assert [r.chunk.id for r in again.chunks] == [r.chunk.id for r in full.chunks]


def test_cluster_fixture_nodes_have_their_own_dirs(cluster: LocalCluster) -> None:
    dirs = {Path(node.data_dir) for node in cluster.nodes}
    assert len(dirs) == 3


async def test_recovery_removes_an_abandoned_document_of_a_sharded_collection(
    cluster_store: Store,
) -> None:
    await fill(cluster_store)
    # A writer that died after its vectors were in: begun, never ready, its lease expired.
    await add_document(cluster_store, "docs", "dead", [unit(i) for i in range(5)], ready=False)
    ck = cluster_store.keys.collection("docs")
    await cluster_store.redis.pexpire(ck.lease("dead"), 1)
    while await cluster_store.redis.exists(ck.lease("dead")):
        await asyncio.sleep(0.01)
    info = await cluster_store.collections.require("docs")
    assert await cluster_store.vectors.count(info) == 4 * len(DOCS) + 5
    removed = await cluster_store.recovery.sweep_all()
    assert [r.id for r in removed] == ["dead"]
    assert await cluster_store.vectors.count(info) == 4 * len(DOCS)
    assert await cluster_store.documents.get("docs", "dead") is None
    assert await cluster_store.documents.unfinished("docs") == []
