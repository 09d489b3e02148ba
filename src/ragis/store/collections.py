"""Collections: a named corpus with its embedding model, dimension and version.

The meta hash records the model and dimension the first time vectors arrive; later vectors of
another model or dimension are refused (`ModelMismatch`), because vectors from two models in one
HNSW graph give meaningless neighbours. The version is bumped by every ingest and delete: the
semantic cache keys answers on it, so an answer computed before the corpus changed is not served.
"""

from __future__ import annotations

import time

from redis.asyncio import Redis

from ragis.errors import ModelMismatch, NotFound
from ragis.store.codec import s
from ragis.store.keys import Keys
from ragis.store.models import CollectionInfo

__all__ = ["Collections"]


class Collections:
    def __init__(self, redis: Redis, keys: Keys, *, quantization: str, m: int) -> None:
        self._redis = redis
        self._keys = keys
        self._quantization = quantization
        self._m = m

    async def ensure(self, name: str, *, model: str, dim: int) -> CollectionInfo:
        """Create the collection if new; refuse a different model or dimension if not."""
        ck = self._keys.collection(name)
        async with self._redis.pipeline(transaction=True) as pipe:
            # Quantization and M are fixed when the vector set is created, so they are recorded
            # once, with the model; later settings changes apply to new collections only.
            pipe.hsetnx(ck.meta, "model", model)
            pipe.hsetnx(ck.meta, "dim", dim)
            pipe.hsetnx(ck.meta, "quant", self._quantization)
            pipe.hsetnx(ck.meta, "m", self._m)
            pipe.hsetnx(ck.meta, "version", 0)
            pipe.hsetnx(ck.meta, "created", f"{time.time():.6f}")
            pipe.hgetall(ck.meta)
            replies = await pipe.execute()
        await self._redis.sadd(self._keys.collections, name)
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
            pipe.execute_command("VCARD", ck.vectors)
            meta, docs, vectors = await pipe.execute()
        if not meta:
            return None
        info = self._parse(name, meta)
        return CollectionInfo(
            name=info.name,
            model=info.model,
            dim=info.dim,
            quantization=info.quantization,
            m=info.m,
            version=info.version,
            created=info.created,
            documents=int(docs),
            vectors=int(vectors or 0),
        )

    async def require(self, name: str) -> CollectionInfo:
        info = await self.get(name)
        if info is None:
            raise NotFound(f"There is no collection {name!r}: upload a document to create it.")
        return info

    async def names(self) -> list[str]:
        return sorted(s(n) for n in await self._redis.smembers(self._keys.collections))

    async def list(self) -> list[CollectionInfo]:
        found = [await self.get(name) for name in await self.names()]
        return [info for info in found if info is not None]

    async def version(self, name: str) -> int:
        value = await self._redis.hget(self._keys.collection(name).meta, "version")
        return int(value) if value is not None else 0

    async def delete(self, name: str) -> int:
        """Remove every key of the collection; returns how many keys went."""
        ck = self._keys.collection(name)
        removed = 0
        batch: list[bytes] = []
        async for key in self._redis.scan_iter(match=ck.pattern, count=1000):
            batch.append(key)
            if len(batch) >= 500:
                removed += await self._redis.unlink(*batch)
                batch.clear()
        if batch:
            removed += await self._redis.unlink(*batch)
        await self._redis.srem(self._keys.collections, name)
        return removed

    @staticmethod
    def _parse(name: str, meta: dict[bytes, bytes]) -> CollectionInfo:
        m = {s(k): s(v) for k, v in meta.items()}
        return CollectionInfo(
            name=name,
            model=m["model"],
            dim=int(m["dim"]),
            quantization=m["quant"],
            m=int(m["m"]),
            version=int(m["version"]),
            created=float(m["created"]),
        )
