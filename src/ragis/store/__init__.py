"""The data layer: the only code in ragis that speaks Redis.

`Store.create(redis, settings)` builds every part over one client; the services receive the
`Store` (or one of its parts) by injection and stay Redis-agnostic: a Redis failure leaves the
store as `RedisUnavailable` (`failures.py`), and `Store.ping()` is health's question to Redis.

A `Store` works in one workspace (`default` unless said): every key its parts build is that
workspace's (store/keys.py). `store.scoped(workspace)` is the same store in another workspace,
built once and then kept (a request asks for its workspace's store on every call), so the RAG
service scopes each request by the workspace the gateway names. `store.workspaces` is what
lies across them: which hold data, and removing one whole.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ragis.contract.caller import DEFAULT_WORKSPACE
from ragis.db.client import RedisClient
from ragis.errors import RedisUnavailable
from ragis.settings import Settings
from ragis.store.backfill import Backfill
from ragis.store.cache import SemanticCache
from ragis.store.chunks import ChunkStore
from ragis.store.collections import Collections
from ragis.store.documents import DocumentRegistry
from ragis.store.failures import REDIS_FAILURES
from ragis.store.keys import CollectionKeys, Keys, check_name, check_workspace
from ragis.store.layout import chunk_id
from ragis.store.lexical import LexicalIndex
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
from ragis.store.originals import Original, Originals
from ragis.store.recovery import Recovery
from ragis.store.reindex import Reindexer, ReindexResult, ReindexState
from ragis.store.retrieval import Retrieval, Retriever
from ragis.store.sessions import SessionBinding, SessionStore
from ragis.store.vectors import VectorIndex
from ragis.store.workspaces import Workspaces

__all__ = [
    "NO_FILTER",
    "Backfill",
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
    "LexicalIndex",
    "Message",
    "Original",
    "Originals",
    "Recovery",
    "ReindexResult",
    "ReindexState",
    "Reindexer",
    "Retrieval",
    "RetrievedChunk",
    "Retriever",
    "SearchFilter",
    "SemanticCache",
    "SessionBinding",
    "SessionStore",
    "Store",
    "StoredChunk",
    "Vector",
    "VectorHit",
    "VectorIndex",
    "VectorItem",
    "VectorSearch",
    "Workspaces",
    "check_name",
    "chunk_id",
]

#: Seconds `Store.ping()` waits for PONG.
PING_TIMEOUT = 2.0
_PING_FAILURES: tuple[type[BaseException], ...] = (*REDIS_FAILURES, OSError, TimeoutError)
#: Scoped stores kept per root store; past this many workspaces the oldest half is rebuilt
#: on its next use (a store is a dozen small objects: cheap to rebuild, not worth an LRU).
_SCOPED_KEPT = 1024


@dataclass(frozen=True, slots=True)
class Store:
    redis: RedisClient
    keys: Keys
    collections: Collections
    vectors: VectorIndex
    lexical: LexicalIndex
    chunks: ChunkStore
    documents: DocumentRegistry
    originals: Originals
    recovery: Recovery
    reindexer: Reindexer
    backfill: Backfill
    retriever: Retriever
    sessions: SessionStore
    cache: SemanticCache
    workspaces: Workspaces
    settings: Settings = field(repr=False, compare=False)
    _scoped: dict[str, Store] = field(default_factory=dict, repr=False, compare=False)

    @property
    def workspace(self) -> str:
        return self.keys.workspace

    def scoped(self, workspace: str) -> Store:
        """This store in `workspace` (an invalid name raises `InvalidName`)."""
        if workspace == self.keys.workspace:
            return self
        found = self._scoped.get(workspace)
        if found is None:
            check_workspace(workspace)
            if len(self._scoped) >= _SCOPED_KEPT:
                for name in list(self._scoped)[: _SCOPED_KEPT // 2]:
                    del self._scoped[name]
            # The scoped stores share one cache: any of them finds the others.
            found = Store.create(
                self.redis, self.settings, workspace=workspace, _scoped=self._scoped
            )
            self._scoped[workspace] = found
        return found

    @classmethod
    def create(
        cls,
        redis: RedisClient,
        settings: Settings,
        *,
        workspace: str = DEFAULT_WORKSPACE,
        _scoped: dict[str, Store] | None = None,
    ) -> Store:
        return cls.over(redis, settings, Keys(settings.key_prefix, workspace), _scoped=_scoped)

    @classmethod
    def over(
        cls,
        redis: RedisClient,
        settings: Settings,
        keys: Keys,
        *,
        _scoped: dict[str, Store] | None = None,
    ) -> Store:
        """Every part over `keys` (`create` is this with the workspace's; a test builds data of
        an older layout with a `Keys` that spells it)."""
        scoped = _scoped if _scoped is not None else {}
        collections = Collections(
            redis,
            keys,
            quantization=settings.quantization.value,
            m=settings.hnsw_m,
            shards=settings.shards,
            language=settings.lexical_language,
        )
        vectors = VectorIndex(redis, keys, batch_size=settings.vadd_batch, ef=settings.search_ef)
        lexical = LexicalIndex(redis, batch_size=settings.vadd_batch)
        chunks = ChunkStore(redis, keys, batch_size=settings.vadd_batch)
        documents = DocumentRegistry(
            redis, keys, chunks, vectors, lexical, language=settings.lexical_language
        )
        store = cls(
            redis=redis,
            keys=keys,
            collections=collections,
            vectors=vectors,
            lexical=lexical,
            chunks=chunks,
            documents=documents,
            originals=Originals(redis, keys),
            recovery=Recovery(redis, keys, collections, documents),
            reindexer=Reindexer(redis, keys, collections, documents, chunks),
            backfill=Backfill(
                redis,
                keys,
                collections,
                documents,
                chunks,
                lexical,
                language=settings.lexical_language,
            ),
            retriever=Retriever(
                redis,
                keys,
                collections,
                vectors,
                chunks,
                lexical,
                language=settings.lexical_language,
            ),
            sessions=SessionStore(
                redis, keys, ttl=settings.session_ttl, max_messages=settings.session_max_messages
            ),
            cache=SemanticCache(
                redis, keys, threshold=settings.cache_threshold, ttl=settings.cache_ttl
            ),
            workspaces=Workspaces(redis, settings.key_prefix),
            settings=settings,
            _scoped=scoped,
        )
        scoped.setdefault(keys.workspace, store)
        return store

    async def ping(self) -> None:
        """Return when Redis answers PING within `PING_TIMEOUT` seconds, else raise
        `RedisUnavailable` saying why (health's Redis part)."""
        try:
            await asyncio.wait_for(self.redis.ping(), timeout=PING_TIMEOUT)
        except _PING_FAILURES as exc:
            reason = str(exc) or f"no answer within {PING_TIMEOUT:g} s"
            raise RedisUnavailable(f"Redis does not answer: {reason}") from exc
