"""Data of the layout before workspaces moves into the workspace `default`, whole and unchanged.

The legacy data is written by the store's own code over a `Keys` that spells the old layout
(`<prefix>:{c:<name>}:...`, `<prefix>:collections`, `<prefix>:session:<id>`), so it is what an
older ragis wrote. After the migration every document, vector (the same bytes: `VEMB ... RAW`),
chunk, cached answer and session is found through the workspace `default`, nothing is left
under an old name, and a second start finds nothing to do. On one Redis and on a real
three-node cluster (where the new names lie in other slots).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from ragis.db import connect
from ragis.db.client import RedisClient
from ragis.db.format import format_key, read_format
from ragis.errors import DataFormatTooNew
from ragis.settings import Settings, load_settings
from ragis.store import Store
from ragis.store import migrations as migrations_module
from ragis.store.migrations import Migration, migrate
from support.cluster import LocalCluster
from support.legacy import CACHE_SCOPE, build_legacy, embeddings
from support.vectors import unit

URL = "redis://127.0.0.1:6379"


async def keys_under(redis: RedisClient, prefix: str) -> set[str]:
    return {k.decode() async for k in redis.scan_iter(match=f"{prefix}:*")}


async def assert_all_in_default(
    redis: RedisClient, settings: Settings, before: dict[tuple[str, str], Any]
) -> None:
    prefix = settings.key_prefix
    store = Store.create(redis, settings)
    assert await store.collections.names() == ["docs", "wide"]
    assert await store.workspaces.with_data() == ["default"]
    docs = await store.documents.list("docs")
    assert [(d.id, d.filename, d.status.value) for d in docs] == [
        ("d1", "one.txt", "ready"),
        ("d2", "two.txt", "ready"),
    ]
    wide = await store.collections.get("wide")
    assert wide is not None
    assert (wide.shards, wide.documents, wide.vectors) == (3, 6, 12)
    # Not re-embedded: every vector is the same bytes, now under the workspace's keys.
    assert await embeddings(store) == before
    found = await store.retriever.search("docs", unit(1), k=1)
    assert [(f.chunk.doc_id, f.chunk.text) for f in found] == [("d1", "text 0 of d1")]
    for i in range(6):
        hits = await store.retriever.search("wide", unit(i), k=1)
        assert hits[0].chunk.doc_id == f"w{i}"
    info = await store.collections.require("docs")
    hit = await store.cache.lookup("docs", unit(1), version=info.version, **CACHE_SCOPE)
    assert hit is not None
    assert hit.answer == "One [1]."
    # The session is the local user's, with its TTL, and another user has none.
    history = await store.sessions.history("s1")
    assert [m.content for m in history] == ["what is one?", "One [1]."]
    assert 0 < await store.sessions.ttl_of("s1") <= 3600
    assert await store.sessions.history("s1", user="bob") == []
    # Nothing is left under an old name.
    left = await keys_under(redis, prefix)
    outside = {format_key(prefix), store.keys.workspaces}
    assert {k for k in left if not k.startswith(f"{prefix}:w:default:")} == outside
    assert await read_format(redis, prefix) == 2


async def test_legacy_data_moves_into_the_default_workspace_without_reembedding(
    redis: Redis, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    before = await build_legacy(redis, settings)
    with caplog.at_level(logging.INFO, logger="ragis.store"):
        moved = await migrate(redis, settings.key_prefix, url=URL)
    assert moved is not None
    assert (sorted(moved.collections), moved.sessions) == (["docs", "wide"], 1)
    assert f"moved 2 collection(s), 1 session(s) ({moved.keys} keys) into workspace default" in (
        caplog.text
    )
    await assert_all_in_default(redis, settings, before)
    # The next start has nothing to do.
    assert await migrate(redis, settings.key_prefix, url=URL) is None


async def test_a_migration_killed_midway_finishes_on_the_next_start(
    redis: Redis, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = await build_legacy(redis, settings)
    monkeypatch.setattr(migrations_module, "_BATCH", 3)
    original = Migration._move
    calls = 0

    async def dies_on_the_third_batch(self: Migration, pairs: list[tuple[str, str]]) -> int:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt  # as if the process were stopped here
        return await original(self, pairs)

    monkeypatch.setattr(Migration, "_move", dies_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        await migrate(redis, settings.key_prefix, url=URL)
    assert await read_format(redis, settings.key_prefix) is None
    monkeypatch.setattr(Migration, "_move", original)
    moved = await migrate(redis, settings.key_prefix, url=URL)
    assert moved is not None
    await assert_all_in_default(redis, settings, before)


async def test_a_fresh_redis_is_marked_current_with_nothing_to_move(
    redis: Redis, settings: Settings
) -> None:
    moved = await migrate(redis, settings.key_prefix, url=URL)
    assert moved is not None
    assert moved.keys == 0
    assert await keys_under(redis, settings.key_prefix) == {format_key(settings.key_prefix)}


async def test_data_of_a_newer_format_is_refused_and_left_untouched(
    redis: Redis, settings: Settings
) -> None:
    await build_legacy(redis, settings)
    await redis.set(format_key(settings.key_prefix), "3")
    before = await keys_under(redis, settings.key_prefix)
    with pytest.raises(DataFormatTooNew) as refused:
        await migrate(redis, settings.key_prefix, url="redis://:secret@db.example:6379")
    assert refused.value.message.startswith(
        "Redis at redis://***@db.example:6379 holds ragis data of format 3; this ragis knows up "
        "to 2: upgrade ragis"
    )
    assert "secret" not in refused.value.message
    assert await keys_under(redis, settings.key_prefix) == before


@pytest.fixture
async def cluster_client(redis_cluster: LocalCluster) -> AsyncIterator[RedisClient]:
    client = await connect(redis_cluster.url)
    yield client
    await client.aclose()


async def test_the_migration_moves_across_slots_on_a_cluster(
    cluster_client: RedisClient, redis_cluster: LocalCluster, prefix: str
) -> None:
    settings = load_settings(redis_url=redis_cluster.url, key_prefix=prefix, _env_file=None)
    before = await build_legacy(cluster_client, settings)
    moved = await migrate(cluster_client, prefix, url=redis_cluster.url)
    assert moved is not None
    assert (sorted(moved.collections), moved.sessions) == (["docs", "wide"], 1)
    await assert_all_in_default(cluster_client, settings, before)
    assert await migrate(cluster_client, prefix, url=redis_cluster.url) is None
