"""Chat sessions: one Redis list of JSON messages per session, bound to one collection.

Every write appends, trims to the newest `max_messages` and refreshes the TTL in one atomic
script, so an active conversation never expires and an abandoned one goes after `ttl`.

A session belongs to the collection of its first message: every message records it, and a
write for another collection is refused in the same script (`SessionMismatch`), so no
history of one collection ever reaches a question to another (whose answer, and cache, it
would leak into). Reading the newest message tells the binding (`collection_of`); a session
written before sessions were bound has none and is refused everywhere (it expires in a day).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ragis.db.client import RedisClient
from ragis.errors import SessionMismatch
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys
from ragis.store.models import Message

__all__ = ["SessionStore"]

# KEYS[1] the session; ARGV: collection, max messages, ttl, messages... Returns the length, or
# -1 when the session is bound to another collection (nothing written).
_APPEND = """
local last = redis.call('LINDEX', KEYS[1], -1)
if last then
  local ok, msg = pcall(cjson.decode, last)
  if not ok or type(msg) ~= 'table' or msg['collection'] ~= ARGV[1] then return -1 end
end
for i = 4, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return redis.call('LLEN', KEYS[1])
"""


@speaks_redis
class SessionStore:
    def __init__(self, redis: RedisClient, keys: Keys, *, ttl: int, max_messages: int) -> None:
        self._redis = redis
        self._keys = keys
        self.ttl = ttl
        self.max_messages = max_messages

    async def append(self, session_id: str, messages: Sequence[Message], *, collection: str) -> int:
        """Append messages of a turn in `collection`; returns the session's length after
        trimming. A session bound to another collection raises `SessionMismatch`."""
        key = self._keys.session(session_id)
        if not messages:
            return int(await self._redis.llen(key))
        payload = [
            json.dumps({**m.to_dict(), "collection": collection}, ensure_ascii=False)
            for m in messages
        ]
        length = int(
            await self._redis.eval(
                _APPEND, 1, key, collection, self.max_messages, self.ttl, *payload
            )
        )
        if length < 0:
            raise SessionMismatch.for_collection(collection)
        return length

    async def collection_of(self, session_id: str) -> str | None:
        """The collection the session is bound to; None when there is no such session, ""
        when it predates the binding."""
        raw = await self._redis.lindex(self._keys.session(session_id), -1)
        if raw is None:
            return None
        try:
            bound = json.loads(raw).get("collection")
        except (ValueError, AttributeError):
            return ""
        return bound if isinstance(bound, str) else ""

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
