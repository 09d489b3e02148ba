"""The document registry: one hash per document, a creation-ordered index, a sha256 index.

A document is `ingesting` from `begin()` until `mark_ready()`; search drops chunks of documents
that are not ready, so a half-ingested document is never an answer. `mark_ready()` and
`delete()` bump the collection version in the same transaction, which invalidates the semantic
cache for that collection. All keys share the collection's hash tag, so these transactions stay
legal on Redis Cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence

from ragis.db.client import RedisClient
from ragis.errors import NotFound
from ragis.store.chunks import chunk_id
from ragis.store.codec import s
from ragis.store.keys import Keys, check_name
from ragis.store.models import DocumentRecord, DocumentStatus

__all__ = ["DocumentRegistry"]

# Every document removed in one MULTI: a few thousand chunks is a few ms of server time.
_DELETE_BATCH = 1000
# Keys are deleted with execute_command("DEL", ...) in pipelines: redis-py's cluster pipeline
# turns .delete() into a coroutine of its own instead of queueing it.


class DocumentRegistry:
    def __init__(self, redis: RedisClient, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def begin(self, collection: str, record: DocumentRecord) -> DocumentRecord:
        """Register a document as `ingesting` with its planned chunk count.

        The id must be new: to re-index a document, `delete()` it first (its chunk count is what
        tells `delete()` which chunks to remove).
        """
        check_name(record.id, "document id", long=True)
        ck = self._keys.collection(collection)
        record.status = DocumentStatus.INGESTING
        record.created = record.created or time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(ck.doc(record.id), mapping=_to_hash(record))  # type: ignore[arg-type]
            pipe.zadd(ck.docs, {record.id: record.created})
            await pipe.execute()
        return record

    async def mark_ready(self, collection: str, doc_id: str) -> int:
        """Make the document searchable; returns the new collection version."""
        ck = self._keys.collection(collection)
        record = await self.require(collection, doc_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(ck.doc(doc_id), "status", DocumentStatus.READY.value)
            pipe.hset(ck.sha, record.sha256, doc_id)
            pipe.hincrby(ck.meta, "version", 1)
            # Cached answers were computed on the old corpus: drop their index outright (their
            # answer keys expire by TTL; the version filter would skip them anyway).
            pipe.execute_command("DEL", ck.cache)
            replies = await pipe.execute()
        return int(replies[2])

    async def mark_failed(self, collection: str, doc_id: str, error: str) -> None:
        ck = self._keys.collection(collection)
        await self._redis.hset(
            ck.doc(doc_id), mapping={"status": DocumentStatus.FAILED.value, "error": error[:500]}
        )

    async def get(self, collection: str, doc_id: str) -> DocumentRecord | None:
        check_name(doc_id, "document id", long=True)
        raw = await self._redis.hgetall(self._keys.collection(collection).doc(doc_id))
        return _from_hash(raw) if raw else None

    async def require(self, collection: str, doc_id: str) -> DocumentRecord:
        record = await self.get(collection, doc_id)
        if record is None:
            raise NotFound(f"There is no document {doc_id!r} in collection {collection!r}.")
        return record

    async def find_by_sha(self, collection: str, sha256: str) -> DocumentRecord | None:
        """The ready document with these exact bytes, if any."""
        ck = self._keys.collection(collection)
        doc_id = await self._redis.hget(ck.sha, sha256)
        if doc_id is None:
            return None
        record = await self.get(collection, s(doc_id))
        if record is None or record.status is not DocumentStatus.READY:
            return None
        return record

    async def list(self, collection: str) -> list[DocumentRecord]:
        """All documents, oldest first."""
        ck = self._keys.collection(collection)
        ids = [s(i) for i in await self._redis.zrange(ck.docs, 0, -1)]
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for doc_id in ids:
                pipe.hgetall(ck.doc(doc_id))
            raws = await pipe.execute()
        return [_from_hash(raw) for raw in raws if raw]

    async def statuses(self, collection: str, doc_ids: Sequence[str]) -> dict[str, str | None]:
        ck = self._keys.collection(collection)
        async with self._redis.pipeline(transaction=False) as pipe:
            for doc_id in doc_ids:
                pipe.hget(ck.doc(doc_id), "status")
            replies = await pipe.execute()
        return {d: (s(r) if r is not None else None) for d, r in zip(doc_ids, replies, strict=True)}

    async def delete(self, collection: str, doc_id: str) -> DocumentRecord:
        """Remove the document's vectors, chunks and record; bump the collection version."""
        ck = self._keys.collection(collection)
        record = await self.require(collection, doc_id)
        shards = int(await self._redis.hget(ck.meta, "shards") or 1)
        shard = ck.shard_for(doc_id, shards)
        ids = [chunk_id(doc_id, pos) for pos in range(record.chunk_count)]
        # Chunks first, in batches, in the document's shard (one slot: a legal transaction);
        # the record goes last so a crash midway can be retried.
        for start in range(0, len(ids), _DELETE_BATCH):
            batch = ids[start : start + _DELETE_BATCH]
            async with self._redis.pipeline(transaction=True) as pipe:
                for cid in batch:
                    pipe.execute_command("VREM", shard.vectors, cid)
                pipe.execute_command("DEL", *(shard.chunk(cid) for cid in batch))
                await pipe.execute()
        current_sha_owner = await self._redis.hget(ck.sha, record.sha256)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.execute_command("DEL", ck.doc(doc_id))
            pipe.zrem(ck.docs, doc_id)
            if current_sha_owner is not None and s(current_sha_owner) == doc_id:
                pipe.hdel(ck.sha, record.sha256)
            pipe.hincrby(ck.meta, "version", 1)
            pipe.execute_command("DEL", ck.cache)
            await pipe.execute()
        return record


def _to_hash(record: DocumentRecord) -> dict[str, str | int | float]:
    out: dict[str, str | int | float] = {
        "id": record.id,
        "filename": record.filename,
        "content_type": record.content_type,
        "size": record.size,
        "sha256": record.sha256,
        "chunk_count": record.chunk_count,
        "created": record.created,
        "status": record.status.value,
        "tags": json.dumps(record.tags),
    }
    if record.pages is not None:
        out["pages"] = record.pages
    if record.error:
        out["error"] = record.error
    return out


def _from_hash(raw: Mapping[bytes | str, bytes | str]) -> DocumentRecord:
    h = {s(k): s(v) for k, v in raw.items()}
    return DocumentRecord(
        id=h["id"],
        filename=h.get("filename", ""),
        content_type=h.get("content_type", ""),
        size=int(h.get("size", 0)),
        sha256=h.get("sha256", ""),
        chunk_count=int(h.get("chunk_count", 0)),
        pages=int(h["pages"]) if "pages" in h else None,
        created=float(h.get("created", 0.0)),
        status=DocumentStatus(h.get("status", DocumentStatus.INGESTING.value)),
        tags=list(json.loads(h.get("tags", "[]"))),
        error=h.get("error"),
    )
