"""The vector index of a collection: one Redis vector set per shard, written with `VADD ... FP32`.

Vectors go over the wire as little-endian FP32 blobs (10-20x faster than `VALUES`), in
pipelined batches. Each element is a chunk id; its JSON attributes (`doc`, `src`, `pos`, `tags`:
store/layout.py) are what `VSIM ... FILTER` expressions test. Quantization and M are taken from
the collection's meta, because they are fixed when the set is created.

A sharded collection has one vector set per shard: an element goes to the shard of its document;
a search runs `VSIM` on every shard at once and merges the best `k`. A shard that cannot answer
(its node is down) makes the result `partial` instead of failing the search.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from redis.exceptions import RedisError

from ragis.db.client import RedisClient
from ragis.errors import RedisUnavailable
from ragis.store.codec import as_vector, text_of, to_blob
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys
from ragis.store.layout import attributes_json, document_of
from ragis.store.models import CollectionInfo, Vector, VectorHit, VectorItem, VectorSearch

__all__ = ["VectorIndex", "parse_vsim"]

log = logging.getLogger("ragis.store")


@speaks_redis
class VectorIndex:
    def __init__(
        self,
        redis: RedisClient,
        keys: Keys,
        *,
        batch_size: int = 256,
        ef: int = 0,
        shard_timeout: float = 2.0,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._batch = batch_size
        self._ef = ef
        self._shard_timeout = shard_timeout

    async def add(self, info: CollectionInfo, items: Sequence[VectorItem]) -> int:
        """Add or replace vectors; every vector is checked before any is sent."""
        blobs = [to_blob(as_vector(item.vector, info.dim)) for item in items]
        ck = self._keys.collection(info.name)
        added = 0
        for start in range(0, len(items), self._batch):
            async with self._redis.pipeline(transaction=False) as pipe:
                for item, blob in zip(
                    items[start : start + self._batch],
                    blobs[start : start + self._batch],
                    strict=True,
                ):
                    doc = document_of(item.id, item.attributes)
                    pipe.execute_command(
                        "VADD", ck.shard_for(doc, info.shards).vectors, "FP32", blob, item.id,
                        info.quantization, "M", info.m,
                        "SETATTR", attributes_json(item.attributes),
                    )  # fmt: skip
                replies = await pipe.execute()
            added += sum(1 for r in replies if int(r) == 1)
        return added

    async def search(
        self,
        info: CollectionInfo,
        vector: Vector,
        *,
        k: int,
        ef: int | None = None,
        filter_expr: str | None = None,
    ) -> list[VectorHit]:
        """The `k` nearest chunks, best first; scores are VSIM's (1 + cosine) / 2."""
        return (await self.search_all(info, vector, k=k, ef=ef, filter_expr=filter_expr)).hits

    async def search_all(
        self,
        info: CollectionInfo,
        vector: Vector,
        *,
        k: int,
        ef: int | None = None,
        filter_expr: str | None = None,
    ) -> VectorSearch:
        """Search every shard in parallel and merge; flag shards that did not answer."""
        blob = to_blob(as_vector(vector, info.dim))
        tail: list[Any] = ["WITHSCORES", "WITHATTRIBS", "COUNT", k]
        effective_ef = ef if ef is not None else self._ef
        if effective_ef:
            tail += ["EF", max(effective_ef, k)]
        if filter_expr:
            tail += ["FILTER", filter_expr]
        shards = self._keys.collection(info.name).shards(info.shards)
        if len(shards) == 1:
            reply = await self._redis.execute_command(
                "VSIM", shards[0].vectors, "FP32", blob, *tail
            )
            return VectorSearch(parse_vsim(reply))
        replies = await asyncio.gather(
            *(
                asyncio.wait_for(
                    self._redis.execute_command("VSIM", shard.vectors, "FP32", blob, *tail),
                    timeout=self._shard_timeout,
                )
                for shard in shards
            ),
            return_exceptions=True,
        )
        hits: list[VectorHit] = []
        failed: list[int] = []
        for index, reply in enumerate(replies):
            if isinstance(reply, RedisError | OSError | TimeoutError):
                log.warning("shard %d of %r did not answer: %s", index, info.name, reply)
                failed.append(index)
            elif isinstance(reply, BaseException):
                raise reply
            else:
                hits.extend(parse_vsim(reply))
        if len(failed) == len(shards):
            raise RedisUnavailable(f"No shard of collection {info.name!r} answers.")
        hits.sort(key=lambda hit: hit.score, reverse=True)
        return VectorSearch(hits[:k], partial=bool(failed))

    async def remove(self, info: CollectionInfo, ids: Sequence[str]) -> int:
        """Remove chunk ids (`<doc>:<pos>`) from the shard of their document."""
        ck = self._keys.collection(info.name)
        removed = 0
        for start in range(0, len(ids), self._batch):
            async with self._redis.pipeline(transaction=False) as pipe:
                for element in ids[start : start + self._batch]:
                    doc = element.rsplit(":", 1)[0]
                    pipe.execute_command("VREM", ck.shard_for(doc, info.shards).vectors, element)
                removed += sum(int(r) for r in await pipe.execute())
        return removed

    async def count(self, info: CollectionInfo) -> int:
        ck = self._keys.collection(info.name)
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in ck.shards(info.shards):
                pipe.execute_command("VCARD", shard.vectors)
            return sum(int(n or 0) for n in await pipe.execute())


def parse_vsim(reply: Any) -> list[VectorHit]:
    """Parse `VSIM ... WITHSCORES [WITHATTRIBS]` in RESP2 (flat list) or RESP3 (map) form."""
    hits: list[VectorHit] = []
    if not reply:
        return hits
    if isinstance(reply, dict):
        for element, value in reply.items():
            if isinstance(value, list | tuple):
                score, attrs = value[0], value[1] if len(value) > 1 else None
            elif isinstance(value, dict):  # redis-py's own callback shape
                score, attrs = value.get("score"), value.get("attributes")
            else:
                score, attrs = value, None
            hits.append(VectorHit(text_of(element), float(score), _attrs(attrs)))
        return hits
    # RESP2: element, score, attrs, element, score, attrs, ...
    step = 3 if len(reply) % 3 == 0 and _looks_like_triples(reply) else 2
    for i in range(0, len(reply), step):
        attrs = reply[i + 2] if step == 3 else None
        hits.append(VectorHit(text_of(reply[i]), float(reply[i + 1]), _attrs(attrs)))
    return hits


def _looks_like_triples(reply: Sequence[Any]) -> bool:
    third = reply[2]
    return third is None or (isinstance(third, bytes | str) and text_of(third).startswith("{"))


def _attrs(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(text_of(raw))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
