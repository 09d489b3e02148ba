"""Building the keyword index of a collection made before it existed.

A collection created since the keyword index existed has `lexical` (its language) in its meta
from the start, and every chunk's postings are written with its vector. One created earlier has
vectors and texts but no postings: until this backfill has run, a search there uses the vector
leg alone (store/retrieval.py says so in `Retrieval.mode`).

`backfill(store, collection)` reads the chunk texts of every ready document, tokenizes them in a
worker thread, writes their postings in batches, and then records the language in the meta.
Writers keep working meanwhile: a document ingested during the backfill writes its own postings
(indexing a chunk twice replaces it, so nothing counts twice); one deleted during it cannot
leave postings behind, since a posting is written only for a chunk whose text exists and a
delete removes text and postings in one MULTI (store/lexical.py, store/documents.py). A backfill
killed midway starts again from the start on the next run: re-indexing a chunk is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ragis.db.client import RedisClient
from ragis.lexical import index_terms_of
from ragis.store.chunks import ChunkStore
from ragis.store.collections import Collections
from ragis.store.documents import DocumentRegistry
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys
from ragis.store.layout import chunk_id
from ragis.store.lexical import LexicalIndex
from ragis.store.models import DocumentStatus

__all__ = ["Backfill"]

log = logging.getLogger("ragis.store")

_BATCH = 256

# KEYS: meta; ARGV: language. Record the language only on a collection that still exists.
_MARK = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'lexical', ARGV[1])
  return 1
end
return 0
"""


@speaks_redis
class Backfill:
    def __init__(
        self,
        redis: RedisClient,
        keys: Keys,
        collections: Collections,
        documents: DocumentRegistry,
        chunks: ChunkStore,
        lexical: LexicalIndex,
        *,
        language: str = "english",
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._collections = collections
        self._documents = documents
        self._chunks = chunks
        self._lexical = lexical
        self._language = language

    async def pending(self) -> list[str]:
        """The collections of this workspace whose keyword index is not built."""
        return [info.name for info in await self._collections.list() if info.lexical is None]

    async def run_all(self) -> int:
        """Build every pending collection's index; how many chunks were indexed."""
        return sum([await self.collection(name) for name in await self.pending()])

    async def collection(self, name: str) -> int:
        """Build `name`'s keyword index; how many chunks were indexed."""
        info = await self._collections.get(name)
        if info is None or info.lexical is not None:
            return 0
        started = time.perf_counter()
        ck = self._keys.collection(name)
        documents = [
            d for d in await self._documents.list(name) if d.status is DocumentStatus.READY
        ]
        total = sum(d.chunk_count for d in documents)
        log.info(
            "building the keyword index of collection %s (workspace %s): %d chunks of %d "
            "documents", name, self._keys.workspace, total, len(documents),
        )  # fmt: skip
        done = 0
        last_log = started
        for document in documents:
            shard = ck.shard_for(document.id, info.shards)
            ids = [chunk_id(document.id, pos) for pos in range(document.chunk_count)]
            for start in range(0, len(ids), _BATCH):
                batch = ids[start : start + _BATCH]
                async with self._redis.pipeline(transaction=False) as pipe:
                    self._chunks.queue_get(pipe, info, batch)
                    replies = await pipe.execute()
                stored = [c for c in self._chunks.parse(batch, replies) if c is not None]
                terms = await asyncio.to_thread(
                    index_terms_of, self._language, [c.text for c in stored]
                )
                await self._lexical.add(
                    shard, [(c.id, t) for c, t in zip(stored, terms, strict=True)]
                )
                done += len(batch)
                if time.perf_counter() - last_log > 10:
                    last_log = time.perf_counter()
                    log.info("keyword index of %s: %d of %d chunks", name, done, total)
        marked = await self._redis.execute_command("EVAL", _MARK, 1, ck.meta, self._language)
        if int(marked):
            log.info(
                "keyword index of collection %s built: %d chunks in %.1f s",
                name, done, time.perf_counter() - started,
            )  # fmt: skip
        return done
