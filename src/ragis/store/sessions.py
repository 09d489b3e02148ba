"""Chat sessions: one Redis list of JSON messages per session.

Every write appends, trims to the newest `max_messages` and refreshes the TTL in one
transaction, so an active conversation never expires and an abandoned one goes after `ttl`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ragis.db.client import RedisClient
from ragis.store.keys import Keys
from ragis.store.models import Message

__all__ = ["SessionStore"]


class SessionStore:
    def __init__(self, redis: RedisClient, keys: Keys, *, ttl: int, max_messages: int) -> None:
        self._redis = redis
        self._keys = keys
        self.ttl = ttl
        self.max_messages = max_messages

    async def append(self, session_id: str, messages: Sequence[Message]) -> int:
        """Append messages; returns the session's length after trimming."""
        key = self._keys.session(session_id)
        if not messages:
            return int(await self._redis.llen(key))
        payload = [json.dumps(m.to_dict(), ensure_ascii=False) for m in messages]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *payload)
            pipe.ltrim(key, -self.max_messages, -1)
            pipe.expire(key, self.ttl)
            pipe.llen(key)
            replies = await pipe.execute()
        return int(replies[-1])

    async def history(self, session_id: str, limit: int | None = None) -> list[Message]:
        """The session's messages, oldest first; the newest `limit` when given."""
        key = self._keys.session(session_id)
        start = -limit if limit else 0
        raw = await self._redis.lrange(key, start, -1)
        return [Message.from_dict(json.loads(item)) for item in raw]

    async def exists(self, session_id: str) -> bool:
        return bool(await self._redis.exists(self._keys.session(session_id)))

    async def ttl_of(self, session_id: str) -> int:
        """Seconds left (-2: no such session)."""
        return int(await self._redis.ttl(self._keys.session(session_id)))

    async def delete(self, session_id: str) -> bool:
        return bool(await self._redis.delete(self._keys.session(session_id)))
