"""Workspaces as the data layer sees them: which hold data, and removing one whole.

Every data key of a workspace starts with `<prefix>:w:<workspace>:` (store/keys.py), so removing
a workspace is a SCAN of that pattern on every node, and no key of another workspace can match
it. A set outside every workspace names the workspaces that hold collections: the background
recovery sweeps each of them (rag/recovery.py).
"""

from __future__ import annotations

from ragis.db.client import RedisClient
from ragis.errors import InvalidName
from ragis.store.codec import text_of
from ragis.store.collections import remove_matching
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys, check_workspace

__all__ = ["Workspaces"]


@speaks_redis
class Workspaces:
    def __init__(self, redis: RedisClient, prefix: str) -> None:
        self._redis = redis
        self._prefix = prefix

    async def with_data(self) -> list[str]:
        """The workspaces that hold collections (valid names only), sorted."""
        names = {text_of(n) for n in await self._redis.smembers(Keys(self._prefix).workspaces)}
        return sorted(n for n in names if _valid(n))

    async def delete(self, workspace: str) -> int:
        """Remove every key of `workspace` (collections, documents, vectors, chunks, cache,
        sessions); returns how many keys went."""
        keys = Keys(self._prefix, check_workspace(workspace))
        # Out of the set first: a sweep running meanwhile does not start on it.
        await self._redis.srem(keys.workspaces, workspace)
        return await remove_matching(self._redis, keys.pattern)


def _valid(name: str) -> bool:
    try:
        check_workspace(name)
    except InvalidName:
        return False
    return True
