"""Recovery: removing what a writer killed mid-ingest left behind.

A document being indexed holds a lease (see store/documents.py) that its writer renews. When the
writer dies (`kill -9` of the RAG service, a crash, Redis restarted without its last second),
the lease expires and the document is *abandoned*: a record stuck in `ingesting`, and the
vectors and chunks it had written so far, counted in the collection but never searchable.
`sweep()` finds such documents in the collection's `ingesting` set and removes them whole
(vectors, chunks, record), so the collection again holds only what is searchable and a second
upload of the same file is indexed afresh instead of meeting a half one. A document whose writer
is alive is never touched.

A replacement retires the old version in the step that makes the new one ready, then removes it;
a writer that dies in between leaves a `retired` record (never searched) in the same set, and
`sweep()` removes it the same way.

`sweep(..., full=True)` also reads every record's status, for documents begun before the
`ingesting` set existed (data of an older ragis); the RAG service runs it once at start.
"""

from __future__ import annotations

import logging

from ragis.db.client import RedisClient
from ragis.errors import InvalidName
from ragis.store.codec import text_of
from ragis.store.collections import Collections
from ragis.store.documents import DocumentRegistry
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys, check_name
from ragis.store.models import DocumentRecord, DocumentStatus

__all__ = ["Recovery"]

log = logging.getLogger("ragis.store")


@speaks_redis
class Recovery:
    def __init__(
        self, redis: RedisClient, keys: Keys, collections: Collections, documents: DocumentRegistry
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._collections = collections
        self._documents = documents

    async def sweep(self, collection: str, *, full: bool = False) -> list[DocumentRecord]:
        """Remove the abandoned documents of `collection`; returns their records."""
        candidates = set(await self._documents.unfinished(collection))
        if full:
            candidates |= await self._ingesting_records(collection)
        valid = sorted(c for c in candidates if _valid_id(c))
        if len(valid) < len(candidates):
            await self._forget_invalid(collection, candidates - set(valid))
        if not valid:
            return []
        leases = await self._documents.lease_holders(collection, valid)
        removed: list[DocumentRecord] = []
        for doc_id in valid:
            if leases[doc_id]:
                continue
            record = await self._documents.claim_abandoned(collection, doc_id)
            if record is None:
                continue
            await self._documents.discard(collection, record)
            log.warning(
                "removed %r (%s, %d chunk(s) planned) from collection %r: %s",
                record.filename,
                record.id,
                record.chunk_count,
                collection,
                "a retired version left by a replacement that stopped"
                if record.status is DocumentStatus.RETIRED
                else "its ingestion was interrupted",
            )
            removed.append(record)
        return removed

    async def sweep_all(self, *, full: bool = False) -> list[DocumentRecord]:
        """`sweep()` every collection."""
        removed: list[DocumentRecord] = []
        for name in await self._collections.names():
            if _valid_name(name):
                removed += await self.sweep(name, full=full)
        return removed

    async def _ingesting_records(self, collection: str) -> set[str]:
        ck = self._keys.collection(collection)
        ids = [text_of(i) for i in await self._redis.zrange(ck.docs, 0, -1)]
        statuses = await self._documents.statuses(collection, [i for i in ids if _valid_id(i)])
        unfinished = {DocumentStatus.INGESTING.value, DocumentStatus.RETIRED.value}
        return {d for d, st in statuses.items() if st in unfinished}

    async def _forget_invalid(self, collection: str, ids: set[str]) -> None:
        # Not ids ragis writes (it checks every id before it becomes a key): never build a key
        # from them, only drop them from the set.
        log.warning("dropping %d invalid id(s) from %r's ingesting set", len(ids), collection)
        await self._redis.srem(self._keys.collection(collection).ingesting, *ids)


def _valid_id(value: str) -> bool:
    try:
        check_name(value, "document id", long=True)
    except InvalidName:
        return False
    return True


def _valid_name(value: str) -> bool:
    try:
        check_name(value, "collection name")
    except InvalidName:
        return False
    return True
