"""Chat sessions: one Redis list of JSON messages per session, bound to one collection and owned
by one user.

Every write appends, trims to the newest `max_messages` and refreshes the TTL in one atomic
script, so an active conversation never expires and an abandoned one goes after `ttl`.

A session belongs to the collection of its first message: every message records it, and a
write for another collection is refused in the same script (`SessionMismatch`), so no
history of one collection ever reaches a question to another (whose answer, and cache, it
would leak into). Reading the newest message tells the binding (`binding`); a session
written before sessions were bound has none and is refused everywhere (it expires in a day).

A session also belongs to the user who started it: every message records its `owner`, and
every read, write and delete by another user finds nothing (`NotFound`, as if the session did
not exist), even in the same workspace. A message without an owner was written before sessions
had one, by the local user (`local`), whose sessions they remain.

Every session written since conversations exist also has a conversation (store/conversations.py:
its owner, collection, title and times, and its place in its user's list), which is written
first and claims the session: it is what tells a session's owner and collection when it is there
(a transcript truncated to nothing still has one); the last message tells them otherwise.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ragis.contract.caller import LOCAL_USER
from ragis.db.client import RedisClient
from ragis.errors import NotFound, RagisError, SessionMismatch
from ragis.store.conversations import Conversations, title_of
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys
from ragis.store.models import Message

__all__ = ["SessionBinding", "SessionStore"]

#: The JSON field of each stored message that names the session's owner.
OWNER = "owner"

# KEYS[1] the session; ARGV: collection, max messages, ttl, owner, messages... Returns the
# length; -1 when the session is bound to another collection, -2 when it is another user's
# (nothing written in either case).
_APPEND = """
local last = redis.call('LINDEX', KEYS[1], -1)
if last then
  local ok, msg = pcall(cjson.decode, last)
  if not ok or type(msg) ~= 'table' then return -1 end
  local owner = msg['owner']
  if type(owner) ~= 'string' then owner = 'local' end
  if owner ~= ARGV[4] then return -2 end
  if msg['collection'] ~= ARGV[1] then return -1 end
end
for i = 5, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return redis.call('LLEN', KEYS[1])
"""

# KEYS[1] the session; ARGV: owner. 1 if the session was the owner's and is gone, else 0.
_DELETE = """
local last = redis.call('LINDEX', KEYS[1], -1)
if not last then return 0 end
local ok, msg = pcall(cjson.decode, last)
local owner = 'local'
if ok and type(msg) == 'table' and type(msg['owner']) == 'string' then owner = msg['owner'] end
if owner ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""

# KEYS[1] the session; ARGV: owner, keep. The length after keeping the first `keep` messages;
# -2 when the session is another user's (nothing changed). Keeping none deletes the list.
_TRUNCATE = """
local last = redis.call('LINDEX', KEYS[1], -1)
if not last then return 0 end
local ok, msg = pcall(cjson.decode, last)
local owner = 'local'
if ok and type(msg) == 'table' and type(msg['owner']) == 'string' then owner = msg['owner'] end
if owner ~= ARGV[1] then return -2 end
local keep = tonumber(ARGV[2])
if keep == 0 then redis.call('DEL', KEYS[1]) return 0 end
redis.call('LTRIM', KEYS[1], 0, keep - 1)
return redis.call('LLEN', KEYS[1])
"""


@dataclass(frozen=True, slots=True)
class SessionBinding:
    """Whose a session is and which collection it is bound to ("" when it predates that)."""

    collection: str
    owner: str
    #: The `created` of that collection when the conversation began (None: not recorded).
    collection_created: float | None = None

    def started_in(self, created: float) -> bool:
        """Whether the conversation began in the collection made at `created` (not in one
        deleted since, whose name that one took)."""
        then = self.collection_created
        return then is None or abs(then - created) < 1e-3


def _no_session(session_id: str) -> NotFound:
    return NotFound(
        f"There is no session {session_id!r} (sessions expire 24 h after their last message)."
    )


def _owner_of(data: object) -> str:
    owner = data.get(OWNER) if isinstance(data, dict) else None
    return owner if isinstance(owner, str) else LOCAL_USER


@speaks_redis
class SessionStore:
    def __init__(self, redis: RedisClient, keys: Keys, *, ttl: int, max_messages: int) -> None:
        self._redis = redis
        self._keys = keys
        self.ttl = ttl
        self.max_messages = max_messages
        self.conversations = Conversations(redis, keys, ttl=ttl)

    async def append(
        self,
        session_id: str,
        messages: Sequence[Message],
        *,
        collection: str,
        user: str = LOCAL_USER,
        collection_created: float | None = None,
    ) -> int:
        """Append messages of `user`'s turn in `collection`; returns the session's length after
        trimming. A session bound to another collection raises `SessionMismatch`; another
        user's session `NotFound`. The conversation is claimed first, then the messages are
        written, then the conversation goes first in `user`'s list (three keys: three slots on
        a cluster). `collection_created`: the collection's `created`, recorded at its first
        turn (a collection made again under the same name does not inherit it)."""
        key = self._keys.session(session_id)
        if not messages:
            return int(await self._redis.llen(key))
        now = time.time()
        question = next((m.content for m in messages if m.role == "user"), "")
        made = await self.conversations.claim(
            session_id, user=user, collection=collection, title=title_of(question), now=now,
            collection_created=collection_created,
        )  # fmt: skip
        try:
            length = await self._push(session_id, messages, collection=collection, user=user)
        except RagisError:
            if made:  # the transcript refused this user: the conversation is not theirs either
                await self.conversations.release(session_id, user=user)
            raise
        await self.conversations.index(session_id, user=user, now=now)
        return length

    async def _push(
        self, session_id: str, messages: Sequence[Message], *, collection: str, user: str
    ) -> int:
        key = self._keys.session(session_id)
        payload = [
            json.dumps({**m.to_dict(), "collection": collection, OWNER: user}, ensure_ascii=False)
            for m in messages
        ]
        length = int(
            await self._redis.eval(
                _APPEND, 1, key, collection, self.max_messages, self.ttl, user, *payload
            )
        )
        if length == -2:
            raise _no_session(session_id)
        if length < 0:
            raise SessionMismatch.for_collection(collection)
        return length

    async def binding(self, session_id: str) -> SessionBinding | None:
        """The session's collection and owner (its conversation's, else its last message's);
        None when there is no such session."""
        claimed = await self.conversations.binding(session_id)
        if claimed is not None:
            return SessionBinding(claimed[1], claimed[0], claimed[2])
        raw = await self._redis.lindex(self._keys.session(session_id), -1)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        bound = data.get("collection") if isinstance(data, dict) else None
        return SessionBinding(bound if isinstance(bound, str) else "", _owner_of(data))

    async def collection_of(self, session_id: str, *, user: str = LOCAL_USER) -> str | None:
        """The collection `user`'s session is bound to; None when `user` has no such session,
        "" when it predates the binding."""
        binding = await self.binding(session_id)
        if binding is None or binding.owner != user:
            return None
        return binding.collection

    async def history(
        self, session_id: str, limit: int | None = None, *, user: str = LOCAL_USER
    ) -> list[Message]:
        """`user`'s session's messages, oldest first; the newest `limit` when given. Another
        user's session has none."""
        key = self._keys.session(session_id)
        start = -limit if limit else 0
        raw = await self._redis.lrange(key, start, -1)
        decoded = [json.loads(item) for item in raw]
        if any(_owner_of(data) != user for data in decoded):
            return []
        return [Message.from_dict(data) for data in decoded]

    async def exists(self, session_id: str, *, user: str = LOCAL_USER) -> bool:
        return await self.collection_of(session_id, user=user) is not None

    async def ttl_of(self, session_id: str) -> int:
        """Seconds left (-2: no such session)."""
        return int(await self._redis.ttl(self._keys.session(session_id)))

    async def truncate(self, session_id: str, keep: int, *, user: str = LOCAL_USER) -> int:
        """Keep the first `keep` messages of `user`'s session (a retry or an edit asks again
        from there); returns its length. Its conversation stays, with its TTL. Another user's
        session: `NotFound`."""
        if keep < 0:
            raise ValueError("keep must be >= 0")
        binding = await self.binding(session_id)
        if binding is None or binding.owner != user:
            raise _no_session(session_id)
        key = self._keys.session(session_id)
        length = int(await self._redis.eval(_TRUNCATE, 1, key, user, keep))
        if length == -2:
            raise _no_session(session_id)
        return length

    async def delete(self, session_id: str, *, user: str = LOCAL_USER) -> bool:
        """Forget `user`'s session and its conversation; False when `user` has neither."""
        key = self._keys.session(session_id)
        binding = await self.conversations.binding(session_id)
        if binding is not None and binding[0] != user:
            return False
        listed = await self.conversations.forget(session_id, user=user)
        return bool(int(await self._redis.eval(_DELETE, 1, key, user))) or listed
