"""Moving data of an older layout into the current one, once, before the RAG service serves.

Format 1 (before workspaces) kept a collection's keys under `<prefix>:{c:<name>}:...` (shards
under `<prefix>:{c:<name>:s<i>.<n>}:...`), the set of collections at `<prefix>:collections`
and sessions at `<prefix>:session:<id>`. Format 2 scopes all of them by workspace
(store/keys.py). `migrate()` moves format-1 data into the workspace `default`, key by key,
without re-embedding anything: a vector set, a chunk, a cached answer keep their bytes and TTL.

- One Redis: `RENAME` (atomic, keeps the TTL).
- A Redis Cluster: the new key's hash tag puts it in another slot, where `RENAME` is illegal, so
  `DUMP` + `RESTORE` (with the key's remaining `PTTL`, `REPLACE`) + `DEL`.

It can be killed at any point and started again: the format number is written only at the end,
a key moved is no longer found under its old name, and one restored but not yet deleted is
restored again over itself. Legacy sessions keep no owner in their messages: they are the local
user's (store/sessions.py). A shard's new hash tag is computed for its new name (its old tag's
number says nothing about the new one's slot), with the shard count the collection's meta
records.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ResponseError

from ragis.contract.caller import DEFAULT_WORKSPACE
from ragis.db.client import RedisClient
from ragis.db.format import CURRENT_FORMAT, check_format, read_format, write_format
from ragis.errors import InvalidName
from ragis.store.codec import text_of
from ragis.store.failures import speaks_redis
from ragis.store.keys import CollectionKeys, Keys, check_name

__all__ = ["Migrated", "Migration", "migrate"]

log = logging.getLogger("ragis.store")

_BATCH = 500
_SHARD = re.compile(r"^s(\d+)\.\d+$")


@dataclass(slots=True)
class Migrated:
    """What a migration moved into the workspace."""

    workspace: str = DEFAULT_WORKSPACE
    collections: set[str] = field(default_factory=set)
    sessions: int = 0
    keys: int = 0

    def describe(self) -> str:
        return (
            f"moved {len(self.collections)} collection(s), {self.sessions} session(s) "
            f"({self.keys} keys) into workspace {self.workspace}"
        )


@speaks_redis
class Migration:
    """Format 1 -> 2 under one key prefix (see the module's docstring)."""

    def __init__(
        self, redis: RedisClient, prefix: str, *, workspace: str = DEFAULT_WORKSPACE
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._keys = Keys(prefix, workspace)
        self._cluster = isinstance(redis, RedisCluster)
        self._shards: dict[str, int] = {}

    async def run(self) -> Migrated:
        moved = Migrated(workspace=self._keys.workspace)
        p = self._prefix
        for pattern in (f"{p}:{{c:*", f"{p}:session:*"):
            batch: list[tuple[str, str]] = []
            async for raw in self._redis.scan_iter(match=pattern, count=1000):
                old = text_of(raw)
                new = await self._new_name(old, moved)
                if new is not None:
                    batch.append((old, new))
                if len(batch) >= _BATCH:
                    moved.keys += await self._move(batch)
                    batch.clear()
            if batch:
                moved.keys += await self._move(batch)
        await self._move_collection_set(moved)
        return moved

    async def _new_name(self, old: str, moved: Migrated) -> str | None:
        """The format-2 name of a format-1 key; None for one that is not ragis's (left as is)."""
        rest = old[len(self._prefix) + 1 :]
        if rest.startswith("session:"):
            try:
                new = self._keys.session(rest[len("session:") :])
            except InvalidName:
                return _skip(old)
            moved.sessions += 1
            return new
        # {c:<name>}:<rest> or {c:<name>:s<i>.<n>}:<rest>
        tag, sep, tail = rest[1:].partition("}:")
        if not rest.startswith("{c:") or not sep:
            return _skip(old)
        name, _, shard = tag[2:].partition(":")
        try:
            ck = self._keys.collection(name)
        except InvalidName:
            return _skip(old)
        moved.collections.add(name)
        if not shard:
            return f"{ck.base}:{tail}"
        match = _SHARD.fullmatch(shard)
        if match is None:
            return _skip(old)
        shards = await self._shard_count(name, ck)
        index = int(match.group(1))
        if index >= shards:
            return _skip(old)
        return f"{ck.shard(index, shards).base}:{tail}"

    async def _shard_count(self, name: str, ck: CollectionKeys) -> int:
        """The collection's shard count, from its meta under the old name or (moved by an
        earlier run, or earlier in this one) the new."""
        if name not in self._shards:
            old_meta = f"{self._prefix}:{{c:{name}}}:meta"
            value = await self._redis.hget(old_meta, "shards")
            if value is None:
                value = await self._redis.hget(ck.meta, "shards")
            self._shards[name] = int(value or 1)
        return self._shards[name]

    async def _move(self, pairs: list[tuple[str, str]]) -> int:
        """Move each key to its new name; how many were moved (one gone meanwhile is not)."""
        if not self._cluster:
            async with self._redis.pipeline(transaction=False) as pipe:
                for old, new in pairs:
                    pipe.execute_command("RENAME", old, new)
                replies = await pipe.execute(raise_on_error=False)
            return sum(1 for reply in replies if not _no_such_key(reply))
        # A cluster: the two names lie in different slots.
        async with self._redis.pipeline(transaction=False) as pipe:
            for old, _ in pairs:
                pipe.execute_command("DUMP", old)
                pipe.execute_command("PTTL", old)
            replies = await pipe.execute()
        present = [
            (old, new, dump, max(int(pttl), 0))
            for (old, new), dump, pttl in zip(pairs, replies[::2], replies[1::2], strict=True)
            if dump is not None
        ]
        if not present:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for _, new, dump, ttl in present:
                pipe.execute_command("RESTORE", new, ttl, dump, "REPLACE")
            await pipe.execute()
        async with self._redis.pipeline(transaction=False) as pipe:
            for old, *_ in present:
                pipe.execute_command("DEL", old)
            await pipe.execute()
        return len(present)

    async def _move_collection_set(self, moved: Migrated) -> None:
        """The set of collections last (a set may not be renamed across slots into one that
        exists, so its members are added), and the workspace into the set of workspaces."""
        old = f"{self._prefix}:collections"
        names = {text_of(n) for n in await self._redis.smembers(old)}
        valid = {n for n in names if _valid_name(n)}
        moved.collections |= valid
        if moved.collections:
            await self._redis.sadd(self._keys.collections, *sorted(moved.collections))
            await self._redis.sadd(self._keys.workspaces, self._keys.workspace)
        if names:
            await self._redis.delete(old)
            moved.keys += 1


async def migrate(redis: RedisClient, prefix: str, *, url: str) -> Migrated | None:
    """Bring the data under `prefix` to the current format; None when it already was.

    Refuses data of a newer format (`DataFormatTooNew`) before touching anything."""
    found = await read_format(redis, prefix)
    check_format(found, url)
    if found == CURRENT_FORMAT:
        return None
    moved = await Migration(redis, prefix).run()
    await write_format(redis, prefix, CURRENT_FORMAT)
    if moved.keys:
        log.warning("data format 1 -> %d: %s", CURRENT_FORMAT, moved.describe())
    return moved


def _no_such_key(reply: Any) -> bool:
    return isinstance(reply, ResponseError) and "no such key" in str(reply).lower()


def _skip(key: str) -> str | None:
    """None, the name of a key that stays where it is (and the log says so)."""
    log.warning("left %r where it is: not a key ragis writes", key)
    return None


def _valid_name(name: str) -> bool:
    try:
        check_name(name, "collection name")
    except InvalidName:
        return False
    return True
