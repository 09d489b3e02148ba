"""Data as format 1 (before workspaces) kept it, written by today's store over a `Keys` that
spells the old layout: what a migration test starts from."""

from __future__ import annotations

import json
from typing import Any

from ragis.db.client import RedisClient
from ragis.settings import Settings
from ragis.store import CollectionKeys, Keys, Store, check_name
from ragis.store.keys import ShardKeys, shard_tag
from support.corpus import MODEL, add_document
from support.vectors import DIM, near, unit

__all__ = ["CACHE_SCOPE", "WIDE", "LegacyKeys", "build_legacy", "embeddings"]

WIDE = {f"w{i}": [near(unit(i), 10 + j, 0.2) for j in range(2)] for i in range(6)}


class LegacyShardKeys(ShardKeys):
    __slots__ = ()

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{{shard_tag(self.name, self.index, self.shards)}}}"


class LegacyCollectionKeys(CollectionKeys):
    __slots__ = ()

    def shard(self, index: int, shards: int) -> ShardKeys:
        return LegacyShardKeys(self.prefix, self.workspace, self.name, index, shards)

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{c:{self.name}}}"


class LegacyKeys(Keys):
    """The key layout of format 1, as keys.py had it before workspaces."""

    __slots__ = ()

    @property
    def collections(self) -> str:
        return f"{self.prefix}:collections"

    @property
    def workspaces(self) -> str:
        # Format 1 had no set of workspaces: what the store adds to it is removed below.
        return f"{self.prefix}:not-in-format-1"

    def collection(self, name: str) -> CollectionKeys:
        return LegacyCollectionKeys(self.prefix, self.workspace, check_name(name, "collection"))

    def session(self, session_id: str) -> str:
        return f"{self.prefix}:session:{check_name(session_id, 'session id', long=True)}"


CACHE_SCOPE: dict[str, Any] = {
    "model": "m", "prompt_version": "1", "retrieval": "r", "terms": "x",
}  # fmt: skip


async def build_legacy(redis: RedisClient, settings: Settings) -> dict[tuple[str, str], Any]:
    """Two collections (one of three shards), a cached answer and a session, as format 1 kept
    them; returns each vector's `VEMB ... RAW` by (collection, element)."""
    legacy = Store.over(redis, settings, LegacyKeys(settings.key_prefix))
    await add_document(legacy, "docs", "d1", [unit(1), unit(2)], filename="one.txt")
    await add_document(legacy, "docs", "d2", [unit(3)], filename="two.txt")
    await legacy.collections.ensure("wide", model=MODEL, dim=DIM, shards=3)
    for doc_id, vectors in WIDE.items():
        await add_document(legacy, "wide", doc_id, vectors)
    version = await legacy.collections.version("docs")
    entry = await legacy.cache.store(
        "docs", unit(1), question="what is one?", answer="One [1].", citations=[],
        version=version, **CACHE_SCOPE,
    )  # fmt: skip
    assert entry is not None
    # A session as format 1 wrote it: bound to its collection, no owner.
    session = legacy.keys.session("s1")
    for role, text in (("user", "what is one?"), ("assistant", "One [1].")):
        message = {
            "role": role,
            "content": text,
            "time": 1.0,
            "citations": [],
            "collection": "docs",
        }
        await redis.rpush(session, json.dumps(message))
    await redis.expire(session, 3600)
    await redis.delete(legacy.keys.workspaces)
    return await embeddings(legacy)


async def embeddings(store: Store) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for collection, docs in (("docs", {"d1": 2, "d2": 1}), ("wide", dict.fromkeys(WIDE, 2))):
        info = await store.collections.require(collection)
        ck = store.keys.collection(collection)
        for doc_id, count in docs.items():
            for pos in range(count):
                element = f"{doc_id}:{pos}"
                key = ck.shard_for(doc_id, info.shards).vectors
                found[collection, element] = await store.redis.execute_command(
                    "VEMB", key, element, "RAW"
                )
    return found
