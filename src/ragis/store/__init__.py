"""The data layer: the only code in ragis that speaks Redis.

`Store.create(redis, settings)` builds every part over one client; the services receive the
`Store` (or one of its parts) by injection and stay Redis-agnostic: a Redis failure leaves the
store as `RedisUnavailable` (`failures.py`), and `Store.ping()` is health's question to Redis.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ragis.db.client import RedisClient
from ragis.errors import RedisUnavailable
from ragis.settings import Settings
from ragis.store.cache import SemanticCache
from ragis.store.chunks import ChunkStore
from ragis.store.collections import Collections
from ragis.store.documents import DocumentRegistry
from ragis.store.failures import REDIS_FAILURES
from ragis.store.keys import CollectionKeys, Keys, check_name
from ragis.store.layout import chunk_id
from ragis.store.models import (
    NO_FILTER,
    CachedAnswer,
    ChunkContent,
    ChunkText,
    Citation,
    CollectionInfo,
    DocumentRecord,
    DocumentStatus,
    Message,
    RetrievedChunk,
    SearchFilter,
    StoredChunk,
    Vector,
    VectorHit,
    VectorItem,
    VectorSearch,
)
from ragis.store.recovery import Recovery
from ragis.store.retrieval import Retrieval, Retriever
from ragis.store.sessions import SessionStore
from ragis.store.vectors import VectorIndex

__all__ = [
    "NO_FILTER",
    "CachedAnswer",
    "ChunkContent",
    "ChunkStore",
    "ChunkText",
    "Citation",
    "CollectionInfo",
    "CollectionKeys",
    "Collections",
    "DocumentRecord",
    "DocumentRegistry",
    "DocumentStatus",
    "Keys",
    "Message",
    "Recovery",
    "Retrieval",
    "RetrievedChunk",
    "Retriever",
    "SearchFilter",
    "SemanticCache",
    "SessionStore",
    "Store",
    "StoredChunk",
    "Vector",
    "VectorHit",
    "VectorIndex",
    "VectorItem",
    "VectorSearch",
    "check_name",
    "chunk_id",
]

#: Seconds `Store.ping()` waits for PONG.
PING_TIMEOUT = 2.0
_PING_FAILURES: tuple[type[BaseException], ...] = (*REDIS_FAILURES, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class Store:
    redis: RedisClient
    keys: Keys
    collections: Collections
    vectors: VectorIndex
    chunks: ChunkStore
    documents: DocumentRegistry
    recovery: Recovery
    retriever: Retriever
    sessions: SessionStore
    cache: SemanticCache

    @classmethod
    def create(cls, redis: RedisClient, settings: Settings) -> Store:
        keys = Keys(settings.key_prefix)
        collections = Collections(
            redis,
            keys,
            quantization=settings.quantization.value,
            m=settings.hnsw_m,
            shards=settings.shards,
        )
        vectors = VectorIndex(redis, keys, batch_size=settings.vadd_batch, ef=settings.search_ef)
        chunks = ChunkStore(redis, keys, batch_size=settings.vadd_batch)
        documents = DocumentRegistry(redis, keys, chunks, vectors)
        return cls(
            redis=redis,
            keys=keys,
            collections=collections,
            vectors=vectors,
            chunks=chunks,
            documents=documents,
            recovery=Recovery(redis, keys, collections, documents),
            retriever=Retriever(redis, keys, collections, vectors, chunks),
            sessions=SessionStore(
                redis, keys, ttl=settings.session_ttl, max_messages=settings.session_max_messages
            ),
            cache=SemanticCache(
                redis, keys, threshold=settings.cache_threshold, ttl=settings.cache_ttl
            ),
        )

    async def ping(self) -> None:
        """Return when Redis answers PING within `PING_TIMEOUT` seconds, else raise
        `RedisUnavailable` saying why (health's Redis part)."""
        try:
            await asyncio.wait_for(self.redis.ping(), timeout=PING_TIMEOUT)
        except _PING_FAILURES as exc:
            reason = str(exc) or f"no answer within {PING_TIMEOUT:g} s"
            raise RedisUnavailable(f"Redis does not answer: {reason}") from exc
