"""Editing a ready document's tags in every place a tag filter reads them, without re-embedding.

A document's tags live in two places: its record (what listings show and what the keyword leg
of a search tests, store/retrieval.py) and the attributes of each of its chunks' vector-set
elements (what `VSIM ... FILTER` tests, store/layout.py). An edit writes them in that order:

1. the record, in a script that refuses a document that is not ready (or gone);
2. every chunk's attributes (`VSETATTR`, in pipelined batches, in the document's shard);
3. the collection version bumped and its semantic cache dropped, in one step: an answer cached
   while 1-2 ran was cached under the old version, so none outlives the edit.

The record and the vectors sit in different hash slots of a sharded collection, so 1 and 2 are
not one transaction. Two edits at once still converge: after writing the attributes an edit reads
the record again and, if another edit's tags are there by then, writes those (the last record
written wins everywhere).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ragis.db.client import RedisClient
from ragis.errors import Conflict, NotFound
from ragis.store.codec import text_of
from ragis.store.keys import CollectionKeys
from ragis.store.layout import attributes, attributes_json, chunk_id
from ragis.store.models import DocumentRecord

__all__ = ["write_tags"]

#: Elements whose attributes one pipeline sets.
_BATCH = 500
#: How often an edit writes the attributes again when another edit changed the record meanwhile.
_ROUNDS = 8

# KEYS: doc; ARGV: tags (JSON). 1 set; -2 the document is not ready (or gone).
_SET_RECORD = """
if redis.call('HGET', KEYS[1], 'status') ~= 'ready' then return -2 end
redis.call('HSET', KEYS[1], 'tags', ARGV[1])
return 1
"""

# KEYS: meta, cache. Bump the version of a collection that (still) exists; drop its cache.
_INVALIDATE = """
redis.call('DEL', KEYS[2])
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HINCRBY', KEYS[1], 'version', 1) end
return 0
"""


def _encode(tags: Sequence[str]) -> str:
    return json.dumps(list(tags))


async def write_tags(
    redis: RedisClient, ck: CollectionKeys, record: DocumentRecord, tags: Sequence[str]
) -> None:
    """Give the ready document `record` these `tags` (see the module doc). `NotFound` if it is
    not ready (or gone)."""
    doc_id = record.id
    reply = await redis.execute_command("EVAL", _SET_RECORD, 1, ck.doc(doc_id), _encode(tags))
    if int(reply) == -2:
        raise NotFound(f"There is no document {doc_id!r} in collection {ck.name!r}.")
    shards = int(await redis.hget(ck.meta, "shards") or 1)
    vectors = ck.shard_for(doc_id, shards).vectors
    wanted = list(tags)
    settled = False
    try:
        for _ in range(_ROUNDS):
            record.tags = wanted
            await _write_attributes(redis, vectors, record)
            now = await redis.hget(ck.doc(doc_id), "tags")
            if now is None or json.loads(text_of(now)) == wanted:
                settled = True
                break
            wanted = list(json.loads(text_of(now)))
    finally:
        # Even after a failure midway: what a search may have cached meanwhile must go.
        await redis.execute_command("EVAL", _INVALIDATE, 2, ck.meta, ck.cache)
    if not settled:
        raise Conflict("The document's tags kept changing while they were written; try again.")


async def _write_attributes(redis: RedisClient, vectors: str, record: DocumentRecord) -> None:
    for start in range(0, record.chunk_count, _BATCH):
        async with redis.pipeline(transaction=False) as pipe:
            for position in range(start, min(start + _BATCH, record.chunk_count)):
                blob = attributes_json(attributes(record, position))
                pipe.execute_command("VSETATTR", vectors, chunk_id(record.id, position), blob)
            # An element removed meanwhile (the document deleted) is no error: it is gone.
            await pipe.execute(raise_on_error=False)
