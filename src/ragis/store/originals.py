"""Originals: the uploaded file's own bytes, kept beside a ready document for the web UI's viewer.

What ragis indexes is text; a reader who opens a cited PDF wants its page, which only the file
itself can show. The gateway keeps a file up to RAGIS_KEEP_ORIGINALS_MB here, one hash per
document (`data`, `type`), under the collection's hash tag like the document's record, so that:

- it is written only while its document is ready (a script checks the record's status and sets
  the record's `original` flag in the same step): a document deleted, retired or failed
  meanwhile never gets an original that nothing would remove;
- `DocumentRegistry.discard()` deletes it in the MULTI that deletes the record (delete, a
  replacement's retired version, recovery), and dropping the collection or the workspace removes
  it with every other key of theirs.

Its memory cost is the file's size (docs/redis-layout.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from ragis.db.client import RedisClient
from ragis.errors import NotFound
from ragis.store.codec import text_of
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys, check_name

__all__ = ["Original", "Originals"]

# KEYS: doc, original; ARGV: the bytes, their content type. 1 if kept; 0 if the document is not
# ready (ingesting, failed, retired); -1 if there is no record.
_PUT = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
if status ~= 'ready' then return 0 end
redis.call('HSET', KEYS[2], 'data', ARGV[1], 'type', ARGV[2])
redis.call('HSET', KEYS[1], 'original', '1')
return 1
"""


@dataclass(frozen=True, slots=True)
class Original:
    data: bytes
    content_type: str


@speaks_redis
class Originals:
    def __init__(self, redis: RedisClient, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def put(self, collection: str, doc_id: str, data: bytes, content_type: str) -> None:
        """Keep `data` as the original of the ready document `doc_id` (replacing any kept
        before); `NotFound` if there is no such document or it is not ready."""
        check_name(doc_id, "document id", long=True)
        ck = self._keys.collection(collection)
        reply = int(
            await self._redis.execute_command(
                "EVAL", _PUT, 2, ck.doc(doc_id), ck.original(doc_id), data, content_type
            )
        )
        if reply == -1:
            raise NotFound(f"There is no document {doc_id!r} in collection {collection!r}.")
        if reply == 0:
            raise NotFound(
                f"The document {doc_id!r} of collection {collection!r} is not ready (still "
                "being indexed, failed or replaced): its original is not kept."
            )

    async def get(self, collection: str, doc_id: str) -> Original | None:
        """The kept original of `doc_id`, or None if none was kept."""
        check_name(doc_id, "document id", long=True)
        data, content_type = await self._redis.hmget(
            self._keys.collection(collection).original(doc_id), ["data", "type"]
        )
        if not isinstance(data, bytes) or content_type is None:  # the client never decodes
            return None
        return Original(data, text_of(content_type))
