"""Collections: a named corpus with its embedding model, dimension and version.

The meta hash records the model and dimension the first time vectors arrive; later vectors of
another model or dimension are refused (`ModelMismatch`), because vectors from two models in one
HNSW graph give meaningless neighbours. The version is bumped by every ingest and delete: the
semantic cache keys answers on it, so an answer computed before the corpus changed is not served.

A collection may carry its own threshold for a grounded answer (`min_score`, rag/grounding.py),
set and cleared by `set_min_score`; a change bumps the version too, so that an answer cached under
a lower threshold is not served once the threshold has risen.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping

from ragis.db.client import RedisClient
from ragis.errors import InvalidInput, ModelMismatch, NotFound
from ragis.store.codec import text_of
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys
from ragis.store.models import CollectionInfo

__all__ = ["Collections", "remove_matching"]

# KEYS: meta; ARGV: language. Only a collection being created gets its keyword index's language.
_NEW_LEXICAL = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'lexical', ARGV[1]) end
return 1
"""

# KEYS: meta; ARGV: the threshold ('' clears it). The version, bumped if the threshold changed;
# -1 if there is no collection (nothing is written then).
_SET_MIN_SCORE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local old = redis.call('HGET', KEYS[1], 'min_score')
if ARGV[1] == '' then
  if not old then return tonumber(redis.call('HGET', KEYS[1], 'version')) end
  redis.call('HDEL', KEYS[1], 'min_score')
else
  if old == ARGV[1] then return tonumber(redis.call('HGET', KEYS[1], 'version')) end
  redis.call('HSET', KEYS[1], 'min_score', ARGV[1])
end
return redis.call('HINCRBY', KEYS[1], 'version', 1)
"""


@speaks_redis
class Collections:
    def __init__(
        self,
        redis: RedisClient,
        keys: Keys,
        *,
        quantization: str,
        m: int,
        shards: int = 1,
        language: str = "english",
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._quantization = quantization
        self._m = m
        self._shards = shards
        self._language = language

    async def ensure(
        self, name: str, *, model: str, dim: int, shards: int | None = None
    ) -> CollectionInfo:
        """Create the collection if new; refuse a different model or dimension if not."""
        ck = self._keys.collection(name)
        if shards is not None and not 1 <= shards <= 256:
            raise InvalidInput(f"A collection has 1 to 256 shards, not {shards}.")
        async with self._redis.pipeline(transaction=True) as pipe:
            # Quantization, M and the shard count are fixed when the vector sets are created, so
            # they are recorded once, with the model; later settings apply to new collections.
            # A new collection's keyword index is written with its vectors from the first
            # chunk on. One created before the keyword index existed has a meta without
            # `lexical` (a HSETNX would claim it): store/backfill.py builds it, then sets it.
            pipe.execute_command("EVAL", _NEW_LEXICAL, 1, ck.meta, self._language)
            pipe.hsetnx(ck.meta, "model", model)
            pipe.hsetnx(ck.meta, "dim", dim)
            pipe.hsetnx(ck.meta, "quant", self._quantization)
            pipe.hsetnx(ck.meta, "m", self._m)
            pipe.hsetnx(ck.meta, "shards", shards or self._shards)
            pipe.hsetnx(ck.meta, "version", 0)
            pipe.hsetnx(ck.meta, "created", f"{time.time():.6f}")
            pipe.hgetall(ck.meta)
            replies = await pipe.execute()
        # Two slots on a cluster (the workspace's set, the set of workspaces): not one MULTI.
        # The workspace is named before its first collection exists, so the recovery sweep
        # never misses a collection.
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.sadd(self._keys.workspaces, self._keys.workspace)
            pipe.sadd(self._keys.collections, name)
            await pipe.execute()
        info = self._parse(name, replies[-1])
        if info.model != model or info.dim != dim:
            raise ModelMismatch(
                f"Collection {name!r} holds {info.dim}-dimensional vectors of {info.model!r}; "
                f"refusing vectors of {model!r} ({dim} dims). Use another collection, or delete "
                "this one and re-ingest."
            )
        return info

    async def get(self, name: str) -> CollectionInfo | None:
        ck = self._keys.collection(name)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(ck.meta)
            pipe.zcard(ck.docs)
            meta, docs = await pipe.execute()
        if not meta:
            return None
        info = self._parse(name, meta)
        vectors = await self._count_vectors(info)
        return CollectionInfo(
            name=info.name,
            model=info.model,
            dim=info.dim,
            quantization=info.quantization,
            m=info.m,
            version=info.version,
            created=info.created,
            documents=int(docs),
            vectors=vectors,
            shards=info.shards,
            lexical=info.lexical,
            min_score=info.min_score,
        )

    async def _count_vectors(self, info: CollectionInfo) -> int:
        """Vectors over all shards; a shard that does not answer counts as 0."""
        ck = self._keys.collection(info.name)
        counts = await asyncio.gather(
            *(self._redis.execute_command("VCARD", s.vectors) for s in ck.shards(info.shards)),
            return_exceptions=True,
        )
        return sum(int(n or 0) for n in counts if not isinstance(n, BaseException))

    async def require(self, name: str) -> CollectionInfo:
        """The collection's meta (one HGETALL; no counts: this is on every search's path)."""
        meta = await self._redis.hgetall(self._keys.collection(name).meta)
        if not meta:
            raise NotFound(f"There is no collection {name!r}: upload a document to create it.")
        return self._parse(name, meta)

    async def set_min_score(self, name: str, value: float | None) -> int:
        """Set the collection's own grounded threshold (0 to 1), or clear it (`None`: the
        service's RAGIS_MIN_SCORE applies); returns the collection's version, bumped if the
        threshold changed. An unknown collection: `NotFound`, and nothing is written."""
        if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise InvalidInput(f"A threshold is a number from 0 to 1, not {value!r}.")
        meta = self._keys.collection(name).meta
        stored = "" if value is None else repr(float(value))
        version = int(await self._redis.execute_command("EVAL", _SET_MIN_SCORE, 1, meta, stored))
        if version < 0:
            raise NotFound(f"There is no collection {name!r}: upload a document to create it.")
        return version

    async def names(self) -> list[str]:
        return sorted(text_of(n) for n in await self._redis.smembers(self._keys.collections))

    async def list(self) -> list[CollectionInfo]:
        found = [await self.get(name) for name in await self.names()]
        return [info for info in found if info is not None]

    async def version(self, name: str) -> int:
        value = await self._redis.hget(self._keys.collection(name).meta, "version")
        return int(value) if value is not None else 0

    async def delete(self, name: str) -> int:
        """Remove every key of the collection; returns how many keys went."""
        ck = self._keys.collection(name)
        info = await self.get(name)
        patterns = [ck.pattern]
        if info is not None and info.shards > 1:
            patterns += [shard.pattern for shard in ck.shards(info.shards)]
        removed = 0
        for pattern in patterns:
            removed += await remove_matching(self._redis, pattern)
        await self._redis.srem(self._keys.collections, name)
        return removed

    @staticmethod
    def _parse(name: str, meta: Mapping[bytes | str, bytes | str]) -> CollectionInfo:
        m = {text_of(k): text_of(v) for k, v in meta.items()}
        return CollectionInfo(
            name=name,
            model=m["model"],
            dim=int(m["dim"]),
            quantization=m["quant"],
            m=int(m["m"]),
            version=int(m["version"]),
            created=float(m["created"]),
            shards=int(m.get("shards", 1)),
            lexical=m.get("lexical") or None,
            min_score=float(m["min_score"]) if "min_score" in m else None,
        )


async def remove_matching(redis: RedisClient, pattern: str) -> int:
    """UNLINK every key matching the SCAN `pattern` (on every node of a cluster); how many."""
    removed = 0
    batch: list[bytes] = []
    async for key in redis.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 500:
            removed += await _unlink(redis, batch)
            batch.clear()
    if batch:
        removed += await _unlink(redis, batch)
    return removed


async def _unlink(redis: RedisClient, keys: list[bytes]) -> int:
    # One UNLINK per key: on a cluster the keys of a batch may live in different slots.
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.execute_command("UNLINK", key)
        return sum(int(n) for n in await pipe.execute())
