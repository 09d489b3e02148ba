"""The chunk store: chunk id -> text, document id, position and page, one hash per chunk.

A chunk id is `<doc_id>:<position>`; document ids cannot contain `:`, so the id is unambiguous
and a document's chunk ids follow from its chunk count (no extra index key to keep in step).
Chunks live next to their vectors, in the shard of their document.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ragis.db.client import RedisClient
from ragis.store.codec import s
from ragis.store.keys import Keys
from ragis.store.models import CollectionInfo, StoredChunk

__all__ = ["ChunkStore", "chunk_id"]

_FIELDS = ("text", "doc", "pos", "page")


def chunk_id(doc_id: str, position: int) -> str:
    return f"{doc_id}:{position}"


class ChunkStore:
    def __init__(self, redis: RedisClient, keys: Keys, *, batch_size: int = 256) -> None:
        self._redis = redis
        self._keys = keys
        self._batch = batch_size

    async def put_many(self, info: CollectionInfo, chunks: Sequence[StoredChunk]) -> None:
        ck = self._keys.collection(info.name)
        for start in range(0, len(chunks), self._batch):
            async with self._redis.pipeline(transaction=False) as pipe:
                for chunk in chunks[start : start + self._batch]:
                    mapping: dict[str, str | int] = {
                        "text": chunk.text,
                        "doc": chunk.doc_id,
                        "pos": chunk.position,
                    }
                    if chunk.page is not None:
                        mapping["page"] = chunk.page
                    key = ck.shard_for(chunk.doc_id, info.shards).chunk(chunk.id)
                    pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
                await pipe.execute()

    def queue_get(self, pipe: Any, info: CollectionInfo, ids: Sequence[str]) -> None:
        """Queue the reads of `ids` on `pipe`, so a caller can fold them into its round trip."""
        ck = self._keys.collection(info.name)
        for cid in ids:
            doc = cid.rsplit(":", 1)[0]
            pipe.hmget(ck.shard_for(doc, info.shards).chunk(cid), list(_FIELDS))

    @staticmethod
    def parse(
        ids: Sequence[str], replies: Sequence[list[bytes | None]]
    ) -> list[StoredChunk | None]:
        out: list[StoredChunk | None] = []
        for cid, (text, doc, pos, page) in zip(ids, replies, strict=True):
            if text is None or doc is None:
                out.append(None)
                continue
            out.append(
                StoredChunk(
                    id=cid,
                    doc_id=s(doc),
                    text=s(text),
                    position=int(pos) if pos is not None else 0,
                    page=int(page) if page is not None else None,
                )
            )
        return out

    async def get_many(self, info: CollectionInfo, ids: Sequence[str]) -> list[StoredChunk | None]:
        """The chunks of `ids` in order (None where missing), in one round trip."""
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            self.queue_get(pipe, info, ids)
            replies = await pipe.execute()
        return self.parse(ids, replies)
