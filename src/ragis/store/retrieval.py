"""Search: `VSIM` over a collection, then the chunk texts and document states in one round trip.

Chunks of documents that are not `ready` (still ingesting, failed, or deleted a moment ago) are
dropped. That is rare, so instead of reading the pending documents before every search the
search over-fetches only when it actually dropped something.
"""

from __future__ import annotations

from dataclasses import dataclass

from ragis.db.client import RedisClient
from ragis.store.chunks import ChunkStore
from ragis.store.codec import text_of
from ragis.store.collections import Collections
from ragis.store.failures import speaks_redis
from ragis.store.filters import filter_expression
from ragis.store.keys import Keys
from ragis.store.layout import document_of
from ragis.store.models import (
    NO_FILTER,
    CollectionInfo,
    DocumentStatus,
    RetrievedChunk,
    SearchFilter,
    Vector,
    VectorHit,
)
from ragis.store.vectors import VectorIndex

__all__ = ["Retrieval", "Retriever"]

_MAX_K = 1000


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The chunks found, best first; `partial` when a shard of the collection did not answer."""

    chunks: list[RetrievedChunk]
    partial: bool = False


@speaks_redis
class Retriever:
    def __init__(
        self,
        redis: RedisClient,
        keys: Keys,
        collections: Collections,
        vectors: VectorIndex,
        chunks: ChunkStore,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._collections = collections
        self._vectors = vectors
        self._chunks = chunks

    async def search(
        self,
        collection: str,
        vector: Vector,
        *,
        k: int = 5,
        flt: SearchFilter = NO_FILTER,
        ef: int | None = None,
    ) -> list[RetrievedChunk]:
        """The `k` best chunks of ready documents, best first. Unknown collection: NotFound."""
        return (await self.retrieve(collection, vector, k=k, flt=flt, ef=ef)).chunks

    async def retrieve(
        self,
        collection: str | CollectionInfo,
        vector: Vector,
        *,
        k: int = 5,
        flt: SearchFilter = NO_FILTER,
        ef: int | None = None,
    ) -> Retrieval:
        """Like `search`, and says whether a shard was missing from the answer. A caller that
        has just read the collection passes its `CollectionInfo` (one round trip less)."""
        info = (
            collection
            if isinstance(collection, CollectionInfo)
            else await self._collections.require(collection)
        )
        expr = filter_expression(flt)
        count = k
        while True:
            result = await self._vectors.search_all(info, vector, k=count, ef=ef, filter_expr=expr)
            found, dropped = await self._resolve(info, result.hits)
            if not dropped or len(result.hits) < count or count >= _MAX_K:
                return Retrieval(found[:k], partial=result.partial)
            count = min(count * 2 + dropped, _MAX_K)

    async def _resolve(
        self, info: CollectionInfo, hits: list[VectorHit]
    ) -> tuple[list[RetrievedChunk], int]:
        if not hits:
            return [], 0
        ck = self._keys.collection(info.name)
        ids = [h.id for h in hits]
        doc_ids = list(dict.fromkeys(document_of(h.id, h.attributes) for h in hits))
        async with self._redis.pipeline(transaction=False) as pipe:
            self._chunks.queue_get(pipe, info, ids)
            for doc_id in doc_ids:
                pipe.hmget(ck.doc(doc_id), ["status", "filename"])
            replies = await pipe.execute()
        chunks = self._chunks.parse(ids, replies[: len(ids)])
        docs = {
            doc_id: (text_of(st) if st is not None else None, text_of(fn) if fn is not None else "")
            for doc_id, (st, fn) in zip(doc_ids, replies[len(ids) :], strict=True)
        }
        found: list[RetrievedChunk] = []
        dropped = 0
        for hit, chunk in zip(hits, chunks, strict=True):
            status, filename = docs.get(chunk.doc_id if chunk else "", (None, ""))
            if chunk is None or status != DocumentStatus.READY.value:
                dropped += 1
                continue
            found.append(RetrievedChunk(chunk=chunk, filename=filename, score=hit.score))
        return found, dropped
