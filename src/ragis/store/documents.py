"""The document registry: one hash per document, a creation-ordered index, a sha256 index.

A document is `ingesting` from `begin()` until `mark_ready()`; in between, `write_chunks()`
writes its chunks and vectors, batch by batch. Search drops chunks of documents that are not
ready, so a half-ingested document is never an answer. `mark_ready()` and `delete()` bump the
collection version in the same transaction, which invalidates the semantic cache for that
collection. All keys share the collection's hash tag, so these transactions (and the scripts
below) stay legal on Redis Cluster.

A writer may be killed mid-ingest (`kill -9`, a crash, Redis restarted without its last second).
So `begin()` also gives the document a **lease**: a key holding the writer's token with a TTL,
which the writer renews while it writes (`renew()`), and puts its id in the collection's
`ingesting` set. `mark_ready()` succeeds only for the lease's holder. A begun document whose
lease is gone has lost its writer: `claim_abandoned()` takes it over (marks it `failed`), then
`discard()` removes what it had written; store/recovery.py runs the two.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ragis.db.client import RedisClient
from ragis.errors import Conflict, IndexInterrupted, InvalidName, NotFound, SourceTaken
from ragis.lexical import index_terms_of
from ragis.store.chunks import ChunkStore
from ragis.store.codec import text_of
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys, check_name
from ragis.store.layout import attributes, chunk_id
from ragis.store.lexical import LexicalIndex
from ragis.store.models import (
    ChunkContent,
    CollectionInfo,
    DocumentRecord,
    DocumentStatus,
    Vector,
    VectorItem,
)
from ragis.store.tags import write_tags
from ragis.store.vectors import VectorIndex

__all__ = ["DocumentRegistry", "Flip"]

# Every document removed in one MULTI: a few thousand chunks is a few ms of server time.
_DELETE_BATCH = 1000
# Keys are deleted with execute_command("DEL", ...) in pipelines: redis-py's cluster pipeline
# turns .delete() into a coroutine of its own instead of queueing it.

#: The lease of a writer that does not renew it (tests, the benchmark's bulk loader).
DEFAULT_LEASE_MS = 60_000

#: How often `flip()` reads the owner of a document's bytes again when it changed meanwhile.
_OWNER_READS = 3

#: What an abandoned document's record says while recovery removes it.
ABANDONED = "Its ingestion was interrupted (the RAG service or Redis stopped); upload it again."

# The checks and the writes of these steps must be one atomic unit: between a GET of the lease
# and a MULTI, a recovery could take the document over. Lua runs atomically, and all its keys
# share the collection's hash tag (one slot on a cluster).

# KEYS: lease; ARGV: token, ttl ms. 1 if the lease was still ours and is extended, else 0.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: doc, sha, meta, cache, lease, ingesting, old doc, sources, the doc of the sha's owner;
# ARGV: doc id, sha256, token ('' = no check), old id ('' = none), source ('' = none), the sha's
# owner as the caller read it ('' = none; '-' = no duplicate check, a replacement), '1' if
# KEYS[9] is that owner's record. {version, 1 if old was retired}; -1 if the lease is not
# the caller's (or the document was taken over); -2 if there is no record; -3 if another ready
# document holds these bytes (two uploads of one file at once: the later is a duplicate); -4 if
# the sha's owner changed since the caller read it (read again).
# The new document becomes ready and the old one retired in this one step, so a search sees
# exactly one of the two; a retired record joins the `ingesting` set, where recovery finds it
# if its writer dies before `discard()` removes it.
_MARK_READY = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -2 end
if status == 'failed' then return -1 end
if ARGV[3] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[3] then return -1 end
if ARGV[6] ~= '-' then
  if (redis.call('HGET', KEYS[2], ARGV[2]) or '') ~= ARGV[6] then return -4 end
  if ARGV[7] == '1' and redis.call('HGET', KEYS[9], 'status') == 'ready' then return -3 end
end
redis.call('HSET', KEYS[1], 'status', 'ready')
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
local retired = 0
if ARGV[4] ~= '' and ARGV[4] ~= ARGV[1] and redis.call('HGET', KEYS[7], 'status') == 'ready' then
  redis.call('HSET', KEYS[7], 'status', 'retired')
  redis.call('SADD', KEYS[6], ARGV[4])
  local old_sha = redis.call('HGET', KEYS[7], 'sha256')
  if old_sha and redis.call('HGET', KEYS[2], old_sha) == ARGV[4] then
    redis.call('HDEL', KEYS[2], old_sha)
  end
  local old_source = redis.call('HGET', KEYS[7], 'source')
  if old_source and redis.call('HGET', KEYS[8], old_source) == ARGV[4] then
    redis.call('HDEL', KEYS[8], old_source)
  end
  retired = 1
end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[8], ARGV[5], ARGV[1]) end
local version = redis.call('HINCRBY', KEYS[3], 'version', 1)
redis.call('DEL', KEYS[4], KEYS[5])
redis.call('SREM', KEYS[6], ARGV[1])
return {version, retired}
"""

# KEYS: doc, sources, the doc of `expected owner` (doc itself if none or not a valid id); ARGV:
# doc id, source, expected owner ('' = none), '1' if KEYS[3] is the owner's record. 1 renamed;
# -1 another ready document has the source; -2 the document is not ready (or gone); -3 the owner
# changed since the caller read it (read again).
_RENAME = """
if redis.call('HGET', KEYS[1], 'status') ~= 'ready' then return -2 end
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if (owner or '') ~= ARGV[3] then return -3 end
if owner and owner ~= ARGV[1] and ARGV[4] == '1'
    and redis.call('HGET', KEYS[3], 'status') == 'ready' then
  return -1
end
local previous = redis.call('HGET', KEYS[1], 'source')
if previous and previous ~= ARGV[2] and redis.call('HGET', KEYS[2], previous) == ARGV[1] then
  redis.call('HDEL', KEYS[2], previous)
end
redis.call('HSET', KEYS[1], 'source', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1
"""

# KEYS: meta, doc. Bump the version of a collection that (still) exists, unless the document
# removed was never searchable (`ingesting`, or `failed` by recovery): no search and no cached
# answer ever saw it, so an upload cancelled or failed midway leaves the version as it was.
_BUMP_VERSION = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local status = redis.call('HGET', KEYS[2], 'status')
if status == 'ingesting' or status == 'failed' then return 0 end
return redis.call('HINCRBY', KEYS[1], 'version', 1)
"""

# KEYS: doc, lease, ingesting; ARGV: doc id, error. 1 if the caller now owns the removal of an
# abandoned document (no lease, status `ingesting`, `retired` by a replacement whose writer died
# before removing it, or `failed` by an earlier recovery that stopped midway); 0 if it has a
# writer, is ready or is gone (then it leaves the set).
_CLAIM = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'retired' then return 1 end
if status ~= 'ingesting' and status ~= 'failed' then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], 'status', 'failed', 'error', ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""


@dataclass(frozen=True, slots=True)
class Flip:
    """What `flip()` did: the collection's new version, and the record it retired (if any)."""

    version: int
    retired: DocumentRecord | None
    #: Set when another ready document already held these bytes: nothing was made ready, and
    #: the caller removes what it wrote (the upload is that document's duplicate).
    duplicate_of: str | None = None


@speaks_redis
class DocumentRegistry:
    def __init__(
        self,
        redis: RedisClient,
        keys: Keys,
        chunks: ChunkStore,
        vectors: VectorIndex,
        lexical: LexicalIndex,
        *,
        language: str = "english",
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._chunks = chunks
        self._vectors = vectors
        self._lexical = lexical
        self._language = language

    async def begin(
        self,
        collection: str,
        record: DocumentRecord,
        *,
        lease: str | None = None,
        lease_ms: int = DEFAULT_LEASE_MS,
    ) -> DocumentRecord:
        """Register a document as `ingesting` with its planned chunk count, under a lease of
        `lease_ms` held by the token `lease` (a fresh one if None).

        The id must be new: to re-index a document, `delete()` it first (its chunk count is what
        tells `delete()` which chunks to remove).
        """
        check_name(record.id, "document id", long=True)
        ck = self._keys.collection(collection)
        record.status = DocumentStatus.INGESTING
        record.created = record.created or time.time()
        # One transaction: a record is never ingesting without being in the set recovery reads.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(ck.doc(record.id), mapping=_to_hash(record))  # type: ignore[arg-type]
            pipe.zadd(ck.docs, {record.id: record.created})
            pipe.sadd(ck.ingesting, record.id)
            pipe.set(ck.lease(record.id), lease or uuid.uuid4().hex, px=lease_ms)
            await pipe.execute()
        return record

    async def write_chunks(
        self,
        info: CollectionInfo,
        document: DocumentRecord,
        chunks: Sequence[ChunkContent],
        vectors: Sequence[Vector] | Vector,
    ) -> None:
        """Write chunks of a begun `document` with their vectors (one per chunk, in order): each
        chunk's hash, its keyword-index postings (store/lexical.py), and its vector with the
        attributes FILTER tests (store/layout.py). Called once per batch. What a failure midway
        leaves, `discard()` removes; until `mark_ready()` neither leg of a search returns it."""
        # Tokenizing is CPU work: in a thread, so searches on the loop do not wait for it.
        terms = await asyncio.to_thread(
            index_terms_of, info.lexical or self._language, [c.text for c in chunks]
        )
        await self._chunks.put_many(info, document.id, chunks)
        # After the texts: a posting is written only for a chunk whose text is stored.
        await self._lexical.add(
            self._keys.collection(info.name).shard_for(document.id, info.shards),
            [(chunk_id(document.id, c.position), t) for c, t in zip(chunks, terms, strict=True)],
        )
        await self._vectors.add(
            info,
            [
                VectorItem(
                    chunk_id(document.id, c.position), vector, attributes(document, c.position)
                )
                for c, vector in zip(chunks, vectors, strict=True)
            ],
        )

    async def renew(self, collection: str, doc_id: str, lease: str, lease_ms: int) -> bool:
        """Extend the writer's lease; False if it is no longer the writer's (expired, taken)."""
        ck = self._keys.collection(collection)
        reply = await self._redis.execute_command(
            "EVAL", _RENEW, 1, ck.lease(doc_id), lease, lease_ms
        )
        return int(reply) == 1

    async def mark_ready(
        self,
        collection: str,
        doc_id: str,
        *,
        lease: str | None = None,
        replaces: str | None = None,
    ) -> int:
        """Make the document searchable; returns the new collection version. See `flip()`."""
        return (await self.flip(collection, doc_id, lease=lease, replaces=replaces)).version

    async def flip(
        self,
        collection: str,
        doc_id: str,
        *,
        lease: str | None = None,
        replaces: str | None = None,
    ) -> Flip:
        """Make the document searchable and, in the same step, retire the ready document
        `replaces` (if it is ready: else there is nothing to retire); point the source index at
        the new one. The caller then removes the retired one with `discard()`.

        With `lease`, only while that lease holds: a writer whose lease lapsed gets
        `IndexInterrupted`, because recovery may already be removing its chunks.
        """
        check_name(doc_id, "document id", long=True)
        if replaces is not None:
            check_name(replaces, "document id", long=True)
        ck = self._keys.collection(collection)
        record = await self.require(collection, doc_id)
        old = replaces or ""
        for _ in range(_OWNER_READS):
            # Who holds these bytes, read first (a script may touch only the keys it is given)
            # and checked again inside the script. A replacement is the caller's decision: a
            # changed file whose new bytes another document holds still retires its old version.
            raw = None if old else await self._redis.hget(ck.sha, record.sha256)
            owner = "-" if old else (text_of(raw) if raw is not None else "")
            other = owner not in ("-", "", doc_id) and _valid_id(owner)
            # Dropping `cache` in the same step: cached answers were computed on the old corpus
            # (their answer keys expire by TTL; the version filter would skip them anyway).
            keys = (
                ck.doc(doc_id),
                ck.sha,
                ck.meta,
                ck.cache,
                ck.lease(doc_id),
                ck.ingesting,
                ck.doc(old or doc_id),
                ck.sources,
                ck.doc(owner if other else doc_id),
            )
            args = (doc_id, record.sha256, lease or "", old, record.source or "", owner,
                    "1" if other else "0")  # fmt: skip
            reply = await self._redis.execute_command("EVAL", _MARK_READY, len(keys), *keys, *args)
            if isinstance(reply, list):
                retired = await self.get(collection, old) if int(reply[1]) == 1 else None
                return Flip(version=int(reply[0]), retired=retired)
            if int(reply) == -3:
                return Flip(version=0, retired=None, duplicate_of=owner)
            if int(reply) != -4:
                break
        if int(reply) == -2:
            raise NotFound(f"There is no document {doc_id!r} in collection {collection!r}.")
        if int(reply) == -4:
            raise IndexInterrupted(
                f"Indexing {record.filename or doc_id!r} raced with other uploads of the same "
                "bytes; upload it again."
            )
        raise IndexInterrupted(
            f"Indexing {record.filename or doc_id!r} lost its lease (the writer stalled or "
            "Redis restarted), so it was stopped and nothing of it is kept: upload it again."
        )

    async def rename(self, collection: str, doc_id: str, source: str) -> DocumentRecord:
        """Set a ready document's `source` and the source index in one step (no re-embedding:
        the text is unchanged, so nothing cached is stale). `NotFound` if it is not a ready
        document; `Conflict` if another ready document already has `source`."""
        check_name(doc_id, "document id", long=True)
        ck = self._keys.collection(collection)
        # The owner is read first and re-checked in the script: its doc key must be declared.
        for _ in range(8):
            owner = await self._redis.hget(ck.sources, source)
            owner_id = text_of(owner) if owner is not None else ""
            # A forged owner (not an id ragis writes) never becomes a key: it owns nothing.
            real = bool(owner_id) and _valid_id(owner_id)
            keys = (ck.doc(doc_id), ck.sources, ck.doc(owner_id if real else doc_id))
            args = (doc_id, source, owner_id, "1" if real else "0")
            reply = int(await self._redis.execute_command("EVAL", _RENAME, len(keys), *keys, *args))
            if reply == 1:
                return await self.require(collection, doc_id)
            if reply == -1:
                raise SourceTaken(
                    f"Another document of collection {collection!r} already has this source."
                )
            if reply == -2:
                raise NotFound(f"There is no document {doc_id!r} in collection {collection!r}.")
        raise Conflict("The source index kept changing while renaming; try again.")

    async def set_tags(self, collection: str, doc_id: str, tags: Sequence[str]) -> DocumentRecord:
        """Give a ready document new tags everywhere a tag filter reads them (store/tags.py):
        found by them at once, no re-embedding. `NotFound` if it is not a ready document."""
        record = await self.require(collection, doc_id)
        await write_tags(self._redis, self._keys.collection(collection), record, tags)
        return await self.require(collection, doc_id)

    async def find_by_source(self, collection: str, source: str) -> DocumentRecord | None:
        """The ready document whose source is `source`, if any."""
        ck = self._keys.collection(collection)
        doc_id = await self._redis.hget(ck.sources, source)
        if doc_id is None or not _valid_id(text_of(doc_id)):
            return None
        record = await self.get(collection, text_of(doc_id))
        if record is None or record.status is not DocumentStatus.READY:
            return None
        return record

    async def claim_abandoned(self, collection: str, doc_id: str) -> DocumentRecord | None:
        """Take over a begun document whose lease is gone: mark it `failed` and return it, so
        the caller removes it with `discard()`; None if it still has a writer (or is not
        begun). Safe against a writer finishing at the same moment: one of the two wins."""
        ck = self._keys.collection(collection)
        claimed = await self._redis.execute_command(
            "EVAL", _CLAIM, 3, ck.doc(doc_id), ck.lease(doc_id), ck.ingesting, doc_id, ABANDONED
        )
        if int(claimed) != 1:
            return None
        return await self.get(collection, doc_id)

    async def unfinished(self, collection: str) -> list[str]:
        """Ids of the documents begun and not finished (ready or removed) in `collection`."""
        ck = self._keys.collection(collection)
        return sorted(text_of(i) for i in await self._redis.smembers(ck.ingesting))

    async def lease_holders(self, collection: str, doc_ids: Sequence[str]) -> dict[str, bool]:
        """Which of `doc_ids` have a live lease, in one round trip."""
        ck = self._keys.collection(collection)
        async with self._redis.pipeline(transaction=False) as pipe:
            for doc_id in doc_ids:
                pipe.exists(ck.lease(doc_id))
            replies = await pipe.execute()
        return {d: bool(r) for d, r in zip(doc_ids, replies, strict=True)}

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
        record = await self.get(collection, text_of(doc_id))
        if record is None or record.status is not DocumentStatus.READY:
            return None
        return record

    async def list(self, collection: str) -> list[DocumentRecord]:
        """All documents, oldest first."""
        ck = self._keys.collection(collection)
        ids = [text_of(i) for i in await self._redis.zrange(ck.docs, 0, -1)]
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
        return {
            d: (text_of(r) if r is not None else None)
            for d, r in zip(doc_ids, replies, strict=True)
        }

    async def delete(self, collection: str, doc_id: str) -> DocumentRecord:
        """Remove the document's vectors, chunks and record; bump the collection version."""
        record = await self.require(collection, doc_id)
        await self.discard(collection, record)
        return record

    async def discard(
        self, collection: str, record: DocumentRecord, *, shards: int | None = None
    ) -> None:
        """Remove what `record` may have written, whether or not its record still exists: a
        writer cleaning up after a failure, or recovery after a crash, knows the chunk count
        (and a writer its collection's shard count, in case the collection was deleted)."""
        check_name(record.id, "document id", long=True)
        doc_id = record.id
        ck = self._keys.collection(collection)
        if shards is None:
            shards = int(await self._redis.hget(ck.meta, "shards") or 1)
        shard = ck.shard_for(doc_id, shards)
        ids = [chunk_id(doc_id, pos) for pos in range(record.chunk_count)]
        # Chunks first, in batches, in the document's shard (one slot: a legal transaction):
        # vector, keyword postings and text of a chunk go in one MULTI, so no search finds a
        # posting of a chunk that is gone. The record goes last so a crash midway can be retried.
        for start in range(0, len(ids), _DELETE_BATCH):
            batch = ids[start : start + _DELETE_BATCH]
            async with self._redis.pipeline(transaction=True) as pipe:
                for cid in batch:
                    pipe.execute_command("VREM", shard.vectors, cid)
                LexicalIndex.queue_remove(pipe, shard, batch)
                pipe.execute_command("DEL", *(shard.chunk(cid) for cid in batch))
                await pipe.execute()
        current_sha_owner = await self._redis.hget(ck.sha, record.sha256)
        source_owner = await self._redis.hget(ck.sources, record.source) if record.source else None
        async with self._redis.pipeline(transaction=True) as pipe:
            # Before the record goes: the script reads its status. Not HINCRBY: after the
            # collection was deleted it would leave a meta of only a version, no collection.
            pipe.execute_command("EVAL", _BUMP_VERSION, 2, ck.meta, ck.doc(doc_id))
            pipe.execute_command("DEL", ck.doc(doc_id), ck.lease(doc_id), ck.original(doc_id))
            pipe.zrem(ck.docs, doc_id)
            pipe.srem(ck.ingesting, doc_id)
            if current_sha_owner is not None and text_of(current_sha_owner) == doc_id:
                pipe.hdel(ck.sha, record.sha256)
            if record.source and source_owner is not None and text_of(source_owner) == doc_id:
                pipe.hdel(ck.sources, record.source)
            pipe.execute_command("DEL", ck.cache)
            await pipe.execute()


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
    if record.source:
        out["source"] = record.source
    return out


def _from_hash(raw: Mapping[bytes | str, bytes | str]) -> DocumentRecord:
    h = {text_of(k): text_of(v) for k, v in raw.items()}
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
        source=h.get("source"),
        original=h.get("original") == "1",
    )


def _valid_id(value: str) -> bool:
    # An id read back from Redis becomes a key only if ragis could have written it.
    try:
        check_name(value, "document id", long=True)
    except InvalidName:
        return False
    return True
