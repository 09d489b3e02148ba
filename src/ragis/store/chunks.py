"""The chunk store: chunk id -> text, document id, position, page and locator ("slide 4",
"Sheet1, rows 2–41"), one hash per chunk; page and locator only when the chunk has them.

A chunk id is `<doc_id>:<position>` (store/layout.py). Chunks live next to their vectors, in
the shard of their document; `DocumentRegistry.write_chunks` writes both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ragis.db.client import RedisClient
from ragis.store.codec import text_of
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys
from ragis.store.layout import chunk_id, document_of_chunk
from ragis.store.models import ChunkContent, CollectionInfo, StoredChunk

__all__ = ["ChunkStore", "chunk_id"]

_FIELDS = ("text", "doc", "pos", "page", "loc")


@speaks_redis
class ChunkStore:
    def __init__(self, redis: RedisClient, keys: Keys, *, batch_size: int = 256) -> None:
        self._redis = redis
        self._keys = keys
        self._batch = batch_size

    async def put_many(
        self, info: CollectionInfo, doc_id: str, chunks: Sequence[ChunkContent]
    ) -> None:
        """Write chunks of the document `doc_id` (see `DocumentRegistry.write_chunks`)."""
        shard = self._keys.collection(info.name).shard_for(doc_id, info.shards)
        for start in range(0, len(chunks), self._batch):
            async with self._redis.pipeline(transaction=False) as pipe:
                for chunk in chunks[start : start + self._batch]:
                    mapping: dict[str, str | int] = {
                        "text": chunk.text,
                        "doc": doc_id,
                        "pos": chunk.position,
                    }
                    if chunk.page is not None:
                        mapping["page"] = chunk.page
                    if chunk.locator is not None:
                        mapping["loc"] = chunk.locator
                    key = shard.chunk(chunk_id(doc_id, chunk.position))
                    pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
                await pipe.execute()

    async def in_order(
        self,
        info: CollectionInfo,
        doc_id: str,
        count: int,
        *,
        max_chars: int | None = None,
        start: int = 0,
    ) -> list[StoredChunk]:
        """The chunks of the document `doc_id` (positions `start` to `count` - 1) in order,
        read in pipelined batches; with `max_chars`, no batch is read after the chunks read so
        far hold that many characters. A chunk that is gone (its document removed meanwhile) is
        left out."""
        shard = self._keys.collection(info.name).shard_for(doc_id, info.shards)
        found: list[StoredChunk] = []
        chars = 0
        for first in range(max(start, 0), count, self._batch):
            if max_chars is not None and chars >= max_chars:
                break
            ids = [chunk_id(doc_id, pos) for pos in range(first, min(first + self._batch, count))]
            async with self._redis.pipeline(transaction=False) as pipe:
                for cid in ids:
                    pipe.hmget(shard.chunk(cid), list(_FIELDS))
                replies = await pipe.execute()
            for chunk in self.parse(ids, replies):
                if chunk is not None:
                    found.append(chunk)
                    chars += len(chunk.text)
        return found

    def queue_get(self, pipe: Any, info: CollectionInfo, ids: Sequence[str]) -> None:
        """Queue the reads of `ids` on `pipe`, so a caller can fold them into its round trip."""
        ck = self._keys.collection(info.name)
        for cid in ids:
            doc = document_of_chunk(cid)
            pipe.hmget(ck.shard_for(doc, info.shards).chunk(cid), list(_FIELDS))

    @staticmethod
    def parse(
        ids: Sequence[str], replies: Sequence[list[bytes | None]]
    ) -> list[StoredChunk | None]:
        out: list[StoredChunk | None] = []
        for cid, (text, doc, pos, page, loc) in zip(ids, replies, strict=True):
            if text is None or doc is None:
                out.append(None)
                continue
            out.append(
                StoredChunk(
                    id=cid,
                    doc_id=text_of(doc),
                    text=text_of(text),
                    position=int(pos) if pos is not None else 0,
                    page=int(page) if page is not None else None,
                    locator=text_of(loc) if loc is not None else None,
                )
            )
        return out
