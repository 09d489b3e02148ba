"""Indexing one document: embed its chunks in batches and write them, then make it searchable.

Embedding (in the embedder's thread) and writing to Redis (on the event loop) overlap: while
batch n+1 is embedded, batch n is written, so ingestion runs at the embedder's speed. The same
bytes already ready in the collection are answered as a duplicate without any work; an existing
document with the same id is replaced. If anything fails midway, the partial document is removed:
a failed document stores nothing.

If the writer itself dies midway (`kill -9`, a crash), nobody is left to remove it: so the
document is written under a lease that a heartbeat renews (rag/lease.py), and once the lease
lapses recovery removes the document (store/recovery.py). Each request first sweeps its
collection, so a re-upload of a file whose first ingest was interrupted meets no half of it.

A caller may follow the work: `progress(written, total)` is called after each batch is written
(the `/index` stream's `progress` lines). A cancelled caller (a client that left) gets the same
cleanup as a failure: nothing of the document is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ragis.contract.caller import DEFAULT_WORKSPACE
from ragis.embedding import Embedder
from ragis.embedding.registry import Embedders
from ragis.errors import InvalidInput
from ragis.rag.lease import Heartbeat
from ragis.store import ChunkContent, DocumentRecord, Store
from ragis.store.models import CollectionInfo, Vector
from ragis.timing import elapsed_ms

__all__ = ["IndexResult", "IndexService", "Progress"]

#: Told `(chunks written so far, chunks of the document)` after each written batch.
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class IndexResult:
    collection: str
    document_id: str
    chunks: int
    duplicate: bool
    replaced: bool
    version: int
    embed_ms: float
    write_ms: float
    total_ms: float
    #: The id of the document `replaces` named, retired and removed (None: none was ready).
    retired: str | None = None


class IndexService:
    def __init__(
        self,
        store: Store,
        embedders: Embedders | Embedder,
        *,
        batch_size: int = 64,
        lease: float = 30.0,
    ) -> None:
        self._store = store
        self._embedders = Embedders.of(embedders)
        self._batch = batch_size
        self._lease_ms = max(int(lease * 1000), 1)

    async def index(
        self,
        collection: str,
        document: DocumentRecord,
        chunks: Sequence[ChunkContent],
        *,
        workspace: str = DEFAULT_WORKSPACE,
        replaces: str | None = None,
        progress: Progress | None = None,
    ) -> IndexResult:
        """Index `document` into `workspace`'s `collection`. With `replaces`, the ready document
        of that id is answered until this one is ready, retired in the same step, then removed
        (if it is not ready or gone, there is nothing to retire: a re-run converges)."""
        started = time.perf_counter()
        _check_positions(chunks)
        store = self._store.scoped(workspace)
        # A document of an interrupted ingest is removed before the duplicate check and the
        # replacement below see it, so uploading the same file again converges.
        await store.recovery.sweep(collection)
        existing = await store.documents.find_by_sha(collection, document.sha256)
        if existing is not None:
            return IndexResult(
                collection=collection,
                document_id=existing.id,
                chunks=existing.chunk_count,
                duplicate=True,
                replaced=False,
                version=await store.collections.version(collection),
                embed_ms=0.0,
                write_ms=0.0,
                total_ms=elapsed_ms(started),
            )
        # An existing collection is embedded with the model its vectors came from, a new one
        # with the default; ensure() refuses a mix if the model changed in between.
        known = await store.collections.get(collection)
        embedder = (
            await self._embedders.get(known.model, collection=collection)
            if known is not None
            else self._embedders.default
        )
        info = await store.collections.ensure(
            collection, model=embedder.model_name, dim=embedder.dim
        )
        replaced = await store.documents.get(collection, document.id) is not None
        if replaced:
            await store.documents.delete(collection, document.id)
        document.chunk_count = len(chunks)
        lease = uuid.uuid4().hex
        await store.documents.begin(collection, document, lease=lease, lease_ms=self._lease_ms)
        try:
            async with Heartbeat(
                store.documents, collection, document.id, lease, self._lease_ms,
                label=document.filename,
            ) as heartbeat:  # fmt: skip
                embed_ms, write_ms = await self._embed_and_write(
                    store, embedder, info, document, chunks, heartbeat.check, progress
                )
                flip = await store.documents.flip(
                    collection, document.id, lease=lease, replaces=replaces
                )
        except BaseException:
            # Shielded: a cancelled request must still not leave a half document behind. By
            # the chunk count, not the record: recovery may have removed that already. If
            # Redis is away this fails too, and recovery removes it once the lease expires.
            with contextlib.suppress(Exception):
                await asyncio.shield(
                    store.documents.discard(collection, document, shards=info.shards)
                )
            raise
        if flip.duplicate_of is not None:
            # The same bytes were uploaded twice at once and the other copy became ready first:
            # this one is its duplicate, as if it had come second (never made searchable).
            await store.documents.discard(collection, document, shards=info.shards)
            existing = await store.documents.get(collection, flip.duplicate_of)
            return IndexResult(
                collection=collection,
                document_id=flip.duplicate_of,
                chunks=existing.chunk_count if existing is not None else 0,
                duplicate=True,
                replaced=False,
                version=await store.collections.version(collection),
                embed_ms=embed_ms,
                write_ms=write_ms,
                total_ms=elapsed_ms(started),
            )
        if flip.retired is not None:
            # Already never searched; a crash before this ends is recovery's to finish.
            await store.documents.discard(collection, flip.retired, shards=info.shards)
        return IndexResult(
            collection=collection,
            document_id=document.id,
            chunks=len(chunks),
            duplicate=False,
            replaced=replaced,
            retired=flip.retired.id if flip.retired is not None else None,
            version=flip.version,
            embed_ms=embed_ms,
            write_ms=write_ms,
            total_ms=elapsed_ms(started),
        )

    async def _embed_and_write(
        self,
        store: Store,
        embedder: Embedder,
        info: CollectionInfo,
        document: DocumentRecord,
        chunks: Sequence[ChunkContent],
        check_lease: Callable[[], None],
        progress: Progress | None = None,
    ) -> tuple[float, float]:
        embed_ms = 0.0
        write_ms = [0.0]
        written = [0]
        writing: asyncio.Task[None] | None = None

        async def write(batch: Sequence[ChunkContent], vectors: Vector) -> None:
            t = time.perf_counter()
            await store.documents.write_chunks(info, document, batch, vectors)
            write_ms[0] += elapsed_ms(t)
            written[0] += len(batch)
            if progress is not None:
                progress(written[0], len(chunks))

        try:
            for start in range(0, len(chunks), self._batch):
                batch = chunks[start : start + self._batch]
                t = time.perf_counter()
                vectors = await embedder.embed([c.text for c in batch])
                embed_ms += elapsed_ms(t)
                if writing is not None:
                    await writing
                check_lease()
                writing = asyncio.create_task(write(batch, vectors))
            if writing is not None:
                await writing
            check_lease()
        except BaseException:
            if writing is not None and not writing.done():
                writing.cancel()
                with contextlib.suppress(BaseException):
                    await writing
            raise
        return embed_ms, write_ms[0]


def _check_positions(chunks: Sequence[ChunkContent]) -> None:
    positions = sorted(c.position for c in chunks)
    if positions != list(range(len(chunks))):
        raise InvalidInput(
            "Chunk positions must be 0, 1, 2, ... with no gap or repeat "
            f"(got {len(chunks)} chunks with positions from {positions[0]} to {positions[-1]})."
            if positions
            else "A document needs at least one chunk."
        )
