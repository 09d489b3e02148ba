"""Reindex: moving a collection to another embedding model, side by side, from its stored text.

Vectors of two models never mix in one collection (store/collections.py), so changing the model
means embedding every chunk again. `Reindexer.run(name, embedder)` does that without a re-upload
and without a pause in service:

1. For each shard it fills a second vector set, `<shard>:vectors:next` (same hash tag, so the
   same slot), from the chunk texts the store keeps: same element ids, same attributes
   (store/layout.py), the collection's quantization and M. Embedding batch n+1 overlaps writing
   batch n, as ingestion does (rag/indexing.py), so a reindex runs at the embedder's speed.
2. Questions meanwhile use the old vectors and the old model: nothing they read changes.
3. Progress is kept in Redis: `<collection>:reindex` (target model, dimension, start time) and
   `<collection>:reindex:done` (document id -> its signature and how many of its chunks are
   written). A reindex stopped midway (a client that left, Ctrl-C, a crash) resumes where it
   was when run again with the same model; another model is refused unless `restart`, which
   drops the partial work.
4. Documents ingested, deleted, replaced or re-tagged meanwhile are caught up at the end: ready
   documents not yet done (or whose signature changed: other bytes or tags) are embedded, and
   the elements of documents gone are removed from the new sets.
5. The swap is one script, run only when no document is being ingested and the collection's
   version is still the one the catch-up saw (else it catches up again): the new sets are
   renamed over the old ones, the meta names the new model and dimension, the version is bumped
   (cached answers keyed on it are not served), the semantic cache (question vectors of the old
   model) is dropped, and the progress keys go. A question sees the old model and vectors or
   the new ones, never a mix.

One reindex per collection at a time: it holds a lease key (`<collection>:reindex:lease`, a TTL
renewed while it runs), so a second one is refused (`Conflict`) and one whose process died is
replaced once the lease expires.

On a Redis Cluster a sharded collection's shards live in different slots, so no single script
can swap them all: each shard is swapped on its own, then the meta. For those few milliseconds a
question may meet some shards already of the new model while the meta still names the old one
(its vector scores there are meaningless; the next question is right). An unsharded collection
swaps atomically on a cluster too.

An upload that had already read the collection's model when the swap ran (a few milliseconds
between `Collections.ensure` and `DocumentRegistry.begin`) writes vectors of the old model; if
the dimensions differ it fails and says to upload again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio.cluster import RedisCluster

from ragis.db.client import RedisClient
from ragis.errors import Conflict, IndexInterrupted, InvalidInput, NotFound
from ragis.store.chunks import ChunkStore
from ragis.store.codec import as_vector, text_of, to_blob
from ragis.store.collections import Collections
from ragis.store.documents import DocumentRegistry
from ragis.store.failures import speaks_redis
from ragis.store.keys import CollectionKeys, Keys
from ragis.store.layout import attributes, attributes_json, chunk_id
from ragis.store.models import CollectionInfo, DocumentRecord, DocumentStatus

__all__ = ["ReindexProgress", "ReindexResult", "ReindexState", "Reindexer", "TargetModel"]

log = logging.getLogger("ragis.store")

#: Told `(chunks written so far, chunks to write)` after each written batch.
ReindexProgress = Callable[[int, int], None]

#: Catch-up rounds before giving up on a collection that never stops changing.
_ROUNDS = 50
#: How often a swap looks again whether the uploads in progress have ended (s).
_SETTLE = 0.2


class TargetModel(Protocol):
    """What a reindex needs of an embedder (ragis.embedding.Embedder is one)."""

    model_name: str
    dim: int

    async def embed(self, texts: Sequence[str]) -> Any: ...


@dataclass(frozen=True, slots=True)
class ReindexState:
    """A reindex in progress (or stopped midway): its target and how far it got."""

    model: str
    dim: int
    started: float
    documents_done: int
    running: bool


@dataclass(frozen=True, slots=True)
class ReindexResult:
    collection: str
    #: The model the collection had, and the one it has now.
    previous_model: str
    model: str
    dim: int
    #: Chunks embedded by this run; chunks the collection holds now.
    embedded: int
    chunks: int
    documents: int
    #: The collection's version after the swap (unchanged: nothing was done).
    version: int
    #: This run continued a reindex stopped earlier.
    resumed: bool
    #: The collection already had this model: nothing was done.
    unchanged: bool
    embed_ms: float = 0.0
    write_ms: float = 0.0
    total_ms: float = 0.0


# KEYS: lease; ARGV: token, ttl ms. 1 if the lease was still ours and is extended, else 0.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: lease; ARGV: token. Release the lease only if it is ours.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: meta, ingesting, cache, reindex, done, lease, then (vectors, next) per shard; ARGV:
# token, expected version, model, dim, 1 to write the meta (0: a cluster's shard-only swap).
# The new version; -1 the lease is not ours; -2 no collection; -3 the version moved on (catch up
# again); -4 a document is being ingested (wait, then catch up again).
_SWAP = """
if redis.call('GET', KEYS[6]) ~= ARGV[1] then return -1 end
if redis.call('EXISTS', KEYS[1]) == 0 then return -2 end
if redis.call('HGET', KEYS[1], 'version') ~= ARGV[2] then return -3 end
if redis.call('SCARD', KEYS[2]) > 0 then return -4 end
for i = 7, #KEYS, 2 do
  redis.call('UNLINK', KEYS[i])
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then redis.call('RENAME', KEYS[i + 1], KEYS[i]) end
end
if ARGV[5] == '0' then return 0 end
redis.call('HSET', KEYS[1], 'model', ARGV[3], 'dim', ARGV[4])
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('UNLINK', KEYS[3], KEYS[4], KEYS[5])
return version
"""

# KEYS: vectors, next of one shard. A cluster's swap of one shard.
_SWAP_SHARD = """
redis.call('UNLINK', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('RENAME', KEYS[2], KEYS[1]) end
return 1
"""


def signature(record: DocumentRecord) -> str:
    """What makes a document's new vectors stale when it changes: its bytes, when it was made,
    its chunk count and its tags (the attributes). Short: it is stored per document."""
    text = f"{record.sha256}|{record.created!r}|{record.chunk_count}|{record.tags!r}"
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(slots=True)
class _Item:
    """One chunk to embed: its document, position and text."""

    document: DocumentRecord
    position: int
    text: str


@dataclass(slots=True)
class _Run:
    info: CollectionInfo
    embedder: TargetModel
    token: str
    lease_ms: int
    progress: ReindexProgress | None
    batch: int
    done: dict[str, tuple[str, int]] = field(default_factory=dict)
    total: int = 0
    written: int = 0
    embedded: int = 0
    embed_ms: float = 0.0
    write_ms: float = 0.0
    lost: bool = False


@speaks_redis
class Reindexer:
    def __init__(
        self,
        redis: RedisClient,
        keys: Keys,
        collections: Collections,
        documents: DocumentRegistry,
        chunks: ChunkStore,
        *,
        batch_size: int = 64,
        lease_ms: int = 30_000,
        settle: float = 600.0,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._collections = collections
        self._documents = documents
        self._chunks = chunks
        self._batch = max(batch_size, 1)
        self._lease_ms = max(lease_ms, 100)
        #: How long the swap waits for a changing collection to settle (s).
        self._settle = settle

    async def state(self, name: str) -> ReindexState | None:
        """The reindex in progress on `name`, if any (running now, or stopped midway)."""
        ck = self._keys.collection(name)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(ck.reindex)
            pipe.hlen(ck.reindex_done)
            pipe.exists(ck.reindex_lease)
            raw, done, running = await pipe.execute()
        if not raw:
            return None
        h = {text_of(k): text_of(v) for k, v in raw.items()}
        return ReindexState(
            model=h.get("model", ""),
            dim=int(h.get("dim", 0)),
            started=float(h.get("started", 0.0)),
            documents_done=int(done),
            running=bool(running),
        )

    async def run(
        self,
        name: str,
        embedder: TargetModel,
        *,
        restart: bool = False,
        force: bool = False,
        progress: ReindexProgress | None = None,
        batch_size: int | None = None,
    ) -> ReindexResult:
        """Re-embed collection `name` with `embedder`'s model and swap it in (see the module
        doc). `NotFound` for no collection; `Conflict` when a reindex of it is running, or one
        to another model was stopped midway (unless `restart`)."""
        started = time.perf_counter()
        _check_model_id(embedder.model_name)
        info = await self._collections.require(name)
        ck = self._keys.collection(name)
        token = uuid.uuid4().hex
        if not await self._redis.set(ck.reindex_lease, token, nx=True, px=self._lease_ms):
            raise Conflict(
                f"A reindex of collection {name!r} is already running: wait for it to end. "
                "(If its process was killed, its lease expires within "
                f"{self._lease_ms / 1000:g} s and it can be run again.)"
            )
        run = _Run(info, embedder, token, self._lease_ms, progress, batch_size or self._batch)
        renewer = asyncio.create_task(self._renew(ck, run), name=f"reindex lease {name}")
        try:
            return await self._run(ck, run, restart=restart, force=force, started=started)
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            # Shielded: a cancelled run still lets the next one start at once.
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    self._redis.execute_command("EVAL", _RELEASE, 1, ck.reindex_lease, token)
                )

    async def _run(
        self, ck: CollectionKeys, run: _Run, *, restart: bool, force: bool, started: float
    ) -> ReindexResult:
        info, embedder = run.info, run.embedder
        model, dim = embedder.model_name, int(embedder.dim)
        state = await self.state(info.name)
        if state is not None and (state.model != model or state.dim != dim):
            if not restart:
                raise Conflict(
                    f"Collection {info.name!r} has a reindex to {state.model!r} that stopped "
                    f"midway ({state.documents_done} document(s) done): run it again with that "
                    "model to finish it, or restart to drop it and begin with another."
                )
            await self._drop(ck, info)
            state = None
        elif state is not None and restart:
            await self._drop(ck, info)
            state = None
        if state is None and model == info.model and dim == info.dim and not force:
            return ReindexResult(
                collection=info.name, previous_model=info.model, model=model, dim=dim,
                embedded=0, chunks=await self._chunk_total(info), documents=0,
                version=info.version, resumed=False, unchanged=True,
                total_ms=(time.perf_counter() - started) * 1000,
            )  # fmt: skip
        resumed = state is not None
        if state is None:
            # Leftovers of a reindex whose progress hash was lost would mix in: none survive.
            await self._drop(ck, info)
            await self._redis.hset(
                ck.reindex,
                mapping={"model": model, "dim": dim, "started": f"{time.time():.6f}"},
            )
        log.info(
            "reindex of collection %s (workspace %s) from %s to %s%s",
            info.name, self._keys.workspace, info.model, model, " (resumed)" if resumed else "",
        )  # fmt: skip
        version = await self._catch_up_and_swap(ck, run)
        chunks, documents = await self._counts(info.name)
        log.info(
            "reindex of collection %s done: %d chunk(s) embedded in %.1f s",
            info.name, run.embedded, time.perf_counter() - started,
        )  # fmt: skip
        return ReindexResult(
            collection=info.name, previous_model=info.model, model=model, dim=dim,
            embedded=run.embedded, chunks=chunks, documents=documents, version=version,
            resumed=resumed, unchanged=False, embed_ms=run.embed_ms, write_ms=run.write_ms,
            total_ms=(time.perf_counter() - started) * 1000,
        )  # fmt: skip

    async def _catch_up_and_swap(self, ck: CollectionKeys, run: _Run) -> int:
        info = run.info
        rounds = 0
        deadline = time.monotonic() + self._settle
        while rounds < _ROUNDS and time.monotonic() < deadline:
            version = await self._collections.version(info.name)
            await self._catch_up(ck, run)
            reply = await self._swap(ck, run, version)
            if reply >= 0:
                return reply
            if reply == -1:
                raise self._interrupted(info.name)
            if reply == -2:
                await self._drop(ck, info)
                raise NotFound(f"Collection {info.name!r} was deleted during its reindex.")
            if reply == -3:
                rounds += 1
            else:  # -4: uploads in progress write vectors of the old model; wait for them
                while await self._redis.scard(ck.ingesting) and time.monotonic() < deadline:
                    self._check(run)
                    await asyncio.sleep(_SETTLE)
        raise Conflict(
            f"Collection {info.name!r} kept changing (or an upload to it never ended), so the "
            "reindex could not swap: run it again to resume."
        )

    async def _catch_up(self, ck: CollectionKeys, run: _Run) -> None:
        """Bring the new sets to the collection's ready documents as they are now."""
        info = run.info
        ready = [
            d for d in await self._documents.list(info.name) if d.status is DocumentStatus.READY
        ]
        run.done = await self._read_done(ck)
        wanted = {d.id: signature(d) for d in ready}
        stale = {
            doc_id: count for doc_id, (sig, count) in run.done.items() if wanted.get(doc_id) != sig
        }
        if stale:
            await self._remove(ck, info, stale)
            for doc_id in stale:
                run.done.pop(doc_id)
        run.total = sum(d.chunk_count for d in ready)
        run.written = sum(count for _, count in run.done.values())
        todo = [d for d in ready if run.done.get(d.id, ("", 0))[1] < d.chunk_count]
        self._report(run)
        if todo:
            await self._embed_and_write(ck, run, todo)

    async def _embed_and_write(
        self, ck: CollectionKeys, run: _Run, documents: Sequence[DocumentRecord]
    ) -> None:
        writing: asyncio.Task[None] | None = None
        try:
            async for batch in self._batches(run, documents):
                self._check(run)
                t = time.perf_counter()
                vectors = await run.embedder.embed([item.text for item in batch])
                run.embed_ms += (time.perf_counter() - t) * 1000
                run.embedded += len(batch)
                if writing is not None:
                    await writing
                writing = asyncio.create_task(self._write(ck, run, batch, vectors))
            if writing is not None:
                await writing
            self._check(run)
        except BaseException:
            if writing is not None and not writing.done():
                writing.cancel()
                with contextlib.suppress(BaseException):
                    await writing
            raise

    async def _batches(self, run: _Run, documents: Sequence[DocumentRecord]) -> Any:
        """Batches of chunks to embed across documents, each document from where it stopped.
        A chunk that is gone (its document deleted meanwhile) is skipped: the catch-up drops
        that document."""
        info = run.info
        pending: list[_Item] = []
        for document in documents:
            first = run.done.get(document.id, ("", 0))[1]
            for start in range(first, document.chunk_count, run.batch):
                positions = range(start, min(start + run.batch, document.chunk_count))
                ids = [chunk_id(document.id, pos) for pos in positions]
                async with self._redis.pipeline(transaction=False) as pipe:
                    self._chunks.queue_get(pipe, info, ids)
                    replies = await pipe.execute()
                for pos, stored in zip(positions, self._chunks.parse(ids, replies), strict=True):
                    if stored is not None:
                        pending.append(_Item(document, pos, stored.text))
                while len(pending) >= run.batch:
                    yield pending[: run.batch]
                    pending = pending[run.batch :]
        if pending:
            yield pending

    async def _write(
        self, ck: CollectionKeys, run: _Run, batch: Sequence[_Item], vectors: Any
    ) -> None:
        t = time.perf_counter()
        info, dim = run.info, int(run.embedder.dim)
        reached: dict[str, tuple[str, int]] = {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for item, vector in zip(batch, vectors, strict=True):
                doc = item.document
                reached[doc.id] = (signature(doc), item.position + 1)
                blob = to_blob(as_vector(vector, dim))
                pipe.execute_command(
                    "VADD", ck.shard_for(doc.id, info.shards).vectors_next, "FP32", blob,
                    chunk_id(doc.id, item.position), info.quantization, "M", info.m,
                    "SETATTR", attributes_json(attributes(doc, item.position)),
                )  # fmt: skip
            # With the vectors: a resumed reindex starts after the last chunk written.
            pipe.hset(ck.reindex_done, mapping={d: f"{s}:{n}" for d, (s, n) in reached.items()})
            await pipe.execute()
        run.done.update(reached)
        run.written += len(batch)
        run.write_ms += (time.perf_counter() - t) * 1000
        self._report(run)

    async def _swap(self, ck: CollectionKeys, run: _Run, version: int) -> int:
        info = run.info
        shards = ck.shards(info.shards)
        head = [ck.meta, ck.ingesting, ck.cache, ck.reindex, ck.reindex_done, ck.reindex_lease]
        args: list[str | int] = [run.token, str(version), run.embedder.model_name, run.embedder.dim]
        if info.shards > 1 and isinstance(self._redis, RedisCluster):
            # Shards in other slots: checked first (no shard is touched unless the swap may
            # go ahead), then each shard, then the meta; see the module doc for the window.
            check = int(await self._redis.execute_command("EVAL", _SWAP, 6, *head, *args, 0))
            if check < 0:
                return check
            for shard in shards:
                await self._redis.execute_command(
                    "EVAL", _SWAP_SHARD, 2, shard.vectors, shard.vectors_next
                )
            return int(await self._redis.execute_command("EVAL", _SWAP, 6, *head, *args, 1))
        pairs = [key for shard in shards for key in (shard.vectors, shard.vectors_next)]
        keys = [*head, *pairs]
        return int(await self._redis.execute_command("EVAL", _SWAP, len(keys), *keys, *args, 1))

    async def _remove(self, ck: CollectionKeys, info: CollectionInfo, docs: dict[str, int]) -> None:
        """Remove from the new sets the elements of documents gone or changed."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for doc_id, count in docs.items():
                target = ck.shard_for(doc_id, info.shards).vectors_next
                for pos in range(count):
                    pipe.execute_command("VREM", target, chunk_id(doc_id, pos))
            pipe.hdel(ck.reindex_done, *docs)
            await pipe.execute()

    async def _drop(self, ck: CollectionKeys, info: CollectionInfo) -> None:
        """Remove a partial reindex: the new sets and the progress."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for shard in ck.shards(info.shards):
                pipe.execute_command("UNLINK", shard.vectors_next)
            pipe.execute_command("UNLINK", ck.reindex)
            pipe.execute_command("UNLINK", ck.reindex_done)
            await pipe.execute()

    async def _read_done(self, ck: CollectionKeys) -> dict[str, tuple[str, int]]:
        done: dict[str, tuple[str, int]] = {}
        for key, value in (await self._redis.hgetall(ck.reindex_done)).items():
            sig, _, count = text_of(value).partition(":")
            done[text_of(key)] = (sig, int(count or 0))
        return done

    async def _chunk_total(self, info: CollectionInfo) -> int:
        return sum(
            d.chunk_count
            for d in await self._documents.list(info.name)
            if d.status is DocumentStatus.READY
        )

    async def _counts(self, name: str) -> tuple[int, int]:
        ready = [d for d in await self._documents.list(name) if d.status is DocumentStatus.READY]
        return sum(d.chunk_count for d in ready), len(ready)

    async def _renew(self, ck: CollectionKeys, run: _Run) -> None:
        interval = run.lease_ms / 3000
        while True:
            await asyncio.sleep(interval)
            try:
                reply = await self._redis.execute_command(
                    "EVAL", _RENEW, 1, ck.reindex_lease, run.token, run.lease_ms
                )
            except Exception as exc:  # Redis away: the writes fail on their own
                log.warning("could not renew the reindex lease of %s: %s", ck.name, exc)
                continue
            if int(reply) != 1:
                log.warning("the reindex of %s lost its lease; stopping", ck.name)
                run.lost = True
                return

    def _check(self, run: _Run) -> None:
        if run.lost:
            raise self._interrupted(run.info.name)

    @staticmethod
    def _interrupted(name: str) -> IndexInterrupted:
        return IndexInterrupted(
            f"The reindex of collection {name!r} lost its lease (it stalled, or Redis "
            "restarted), so it stopped: run it again to resume."
        )

    @staticmethod
    def _report(run: _Run) -> None:
        if run.progress is not None:
            run.progress(min(run.written, run.total), run.total)


def _check_model_id(model: str) -> None:
    """A model id is written to the meta and shown in messages: printable, at most 256."""
    if (
        not isinstance(model, str)
        or not model
        or len(model) > 256
        or any(ord(c) < 32 or ord(c) == 127 for c in model)
    ):
        raise InvalidInput(f"Invalid embedding model id {str(model)[:80]!r}.")
