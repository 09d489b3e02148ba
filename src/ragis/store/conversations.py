"""Conversations: each user's list of their chat sessions in a workspace, and each one's title,
collection and times.

The session's list (store/sessions.py) stays the transcript. Beside it:

- `conversation:ID`, a hash: `owner`, `collection`, `collection_created` (a collection deleted
  and made again under the same name is another collection), `title` (the first question, or
  what the user renamed it to), `created`, `updated`. It is written before the messages of every
  turn (`claim`, a script that refuses another user's or another collection's session), so it
  outlives a transcript truncated to nothing: such a conversation keeps its title and collection
  and stays its user's.
- `conversations:USER`, a sorted set: the user's session ids scored by their last message.

Both live as long as the session: `RAGIS_SESSION_TTL`, set again at every message, so it
counts from the last message; a rename or a truncation does not extend it.

On Redis Cluster the session, its hash and the user's index are three keys in three slots (a
session key carries no hash tag, and an index gathers sessions from everywhere), so each script
here touches one key, and the index is written after the turn in a transaction of its own. It
need not be atomic with the turn: the index only points. A listing reads each conversation's
hash and drops the ids whose conversation is gone (expired, deleted), and forgets those whose
collection is gone; a turn whose index write failed is listed again at its next message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ragis.db.client import RedisClient
from ragis.errors import NotFound, SessionMismatch
from ragis.store.codec import text_of
from ragis.store.failures import speaks_redis
from ragis.store.keys import Keys

__all__ = ["TITLE_CHARS", "Conversation", "Conversations", "title_of"]

#: A title made from the first question is cut (on a word boundary) to this many characters.
TITLE_CHARS = 80
#: The newest this many conversations of a user are listed; older ones leave the index (they
#: still expire on their own).
MAX_INDEXED = 1000

# KEYS[1] the conversation; ARGV: owner, collection, now, ttl, title, collection created.
# 2: claimed now, 1: the owner's already; -2: another user's, -1: bound to another collection.
_CLAIM = """
local owner = redis.call('HGET', KEYS[1], 'owner')
local made = 1
if owner then
  if owner ~= ARGV[1] then return -2 end
  if redis.call('HGET', KEYS[1], 'collection') ~= ARGV[2] then return -1 end
else
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'collection', ARGV[2], 'created', ARGV[3],
             'collection_created', ARGV[6])
  made = 2
end
if ARGV[5] ~= '' then redis.call('HSETNX', KEYS[1], 'title', ARGV[5]) end
redis.call('HSET', KEYS[1], 'updated', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return made
"""

# KEYS[1] the conversation; ARGV: owner, title. 1 if renamed, 0 if not the owner's.
_RENAME = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'title', ARGV[2])
return 1
"""

# KEYS[1] the conversation; ARGV: owner. 1 if it was the owner's and is gone, else 0.
_FORGET = """
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""

_SPACES = re.compile(r"\s+")


def title_of(question: str) -> str:
    """A conversation's title from its first question: whitespace collapsed, cut on a word
    boundary at `TITLE_CHARS` characters, "…" when cut."""
    text = _SPACES.sub(" ", question).strip()
    if len(text) <= TITLE_CHARS:
        return text
    cut = text[: TITLE_CHARS + 1]
    space = cut.rfind(" ")
    # A question that is one long word (a URL, a path) is cut where it must.
    head = cut[:space] if space > 0 else text[:TITLE_CHARS]
    return head.rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation as its hash tells it, with its session's length and seconds to live."""

    session_id: str
    owner: str
    collection: str
    title: str
    created: float
    updated: float
    #: The `created` of the collection it was started in (None: not recorded).
    collection_created: float | None = None
    messages: int = 0
    ttl: int = -2


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _parse(session_id: str, raw: Mapping[bytes | str, bytes | str]) -> Conversation | None:
    fields = {text_of(k): text_of(v) for k, v in raw.items()}
    if "owner" not in fields or "collection" not in fields:
        return None
    return Conversation(
        session_id=session_id,
        owner=fields["owner"],
        collection=fields["collection"],
        title=fields.get("title", ""),
        created=_number(fields.get("created")) or 0.0,
        updated=_number(fields.get("updated")) or 0.0,
        collection_created=_number(fields.get("collection_created")),
    )


@speaks_redis
class Conversations:
    def __init__(self, redis: RedisClient, keys: Keys, *, ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self.ttl = ttl

    async def claim(
        self,
        session_id: str,
        *,
        user: str,
        collection: str,
        title: str,
        now: float,
        collection_created: float | None = None,
    ) -> bool:
        """Record a turn of `user`'s in `collection` (before its messages are written): the
        conversation's `updated` and TTL, and on its first turn its owner, collection and
        `title`. True when this made the conversation. Another user's: `NotFound`; bound to
        another collection: `SessionMismatch`."""
        done = int(
            await self._redis.eval(
                _CLAIM,
                1,
                self._keys.conversation(session_id),
                user,
                collection,
                repr(now),
                self.ttl,
                title,
                "" if collection_created is None else repr(collection_created),
            )
        )
        if done == -2:
            raise NotFound(f"There is no session {session_id!r}.")
        if done == -1:
            raise SessionMismatch.for_collection(collection)
        return done == 2

    async def index(self, session_id: str, *, user: str, now: float) -> None:
        """Put the conversation first in `user`'s list (one key, one transaction)."""
        key = self._keys.conversations(user)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {session_id: now})
            pipe.zremrangebyrank(key, 0, -(MAX_INDEXED + 1))
            pipe.expire(key, self.ttl)
            await pipe.execute()

    async def binding(self, session_id: str) -> tuple[str, str, float | None] | None:
        """The conversation's owner, collection and that collection's `created`; None when it
        has no hash."""
        owner, collection, created = await self._redis.hmget(
            self._keys.conversation(session_id), ["owner", "collection", "collection_created"]
        )
        if owner is None or collection is None:
            return None
        return text_of(owner), text_of(collection), _number(text_of(created or b""))

    async def get(self, session_id: str, *, user: str) -> Conversation | None:
        """`user`'s conversation; None when it is gone or another user's."""
        return (await self._read([session_id], user=user))[0]

    async def _read(self, ids: Sequence[str], *, user: str) -> list[Conversation | None]:
        """Each of `user`'s conversations of `ids` (None: gone, or another user's), in one
        pipeline (on a cluster, redis-py sends each command to its key's node)."""
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in ids:
                pipe.hgetall(self._keys.conversation(sid))
                pipe.ttl(self._keys.conversation(sid))
                pipe.llen(self._keys.session(sid))
            replies = await pipe.execute()
        out: list[Conversation | None] = []
        for i, sid in enumerate(ids):
            raw, ttl, length = replies[3 * i : 3 * i + 3]
            found = _parse(sid, raw or {})
            out.append(
                None
                if found is None or found.owner != user
                else replace(found, messages=int(length), ttl=int(ttl))
            )
        return out

    async def recent(
        self,
        *,
        user: str,
        collection: str | None = None,
        query: str | None = None,
        limit: int = 100,
    ) -> list[Conversation]:
        """`user`'s conversations, the newest `updated` first: those of `collection` only when
        given, whose title holds `query` (any case) when given. Ids whose conversation is gone
        leave the index; conversations whose collection is gone are forgotten."""
        index = self._keys.conversations(user)
        ids = [text_of(i) for i in await self._redis.zrange(index, 0, -1, desc=True)]
        found = [c for c in await self._read(ids, user=user) if c is not None]
        present = {c.session_id for c in found}
        stale = [sid for sid in ids if sid not in present]
        alive = await self._collections_alive({c.collection for c in found})
        orphans = [c for c in found if not _belongs(c, alive)]
        for conversation in orphans:
            await self.forget(conversation.session_id, user=user)
        if stale:
            await self._redis.zrem(index, *stale)
        needle = query.casefold() if query else None
        kept = [
            c
            for c in found
            if _belongs(c, alive)
            and (collection is None or c.collection == collection)
            and (needle is None or needle in c.title.casefold())
        ]
        kept.sort(key=lambda c: c.updated, reverse=True)
        return kept[:limit]

    async def rename(self, session_id: str, *, user: str, title: str) -> bool:
        """Give `user`'s conversation a title; False when it is not theirs (or gone)."""
        key = self._keys.conversation(session_id)
        return bool(int(await self._redis.eval(_RENAME, 1, key, user, title)))

    async def forget(self, session_id: str, *, user: str) -> bool:
        """Remove `user`'s conversation: its hash, its place in the list and its transcript.
        False when it had no hash of theirs."""
        removed = bool(
            int(await self._redis.eval(_FORGET, 1, self._keys.conversation(session_id), user))
        )
        if removed:
            await self._redis.delete(self._keys.session(session_id))
        await self._redis.zrem(self._keys.conversations(user), session_id)
        return removed

    async def release(self, session_id: str, *, user: str) -> None:
        """Undo a `claim` that made the conversation when its messages were then refused."""
        await self._redis.eval(_FORGET, 1, self._keys.conversation(session_id), user)

    async def _collections_alive(self, names: set[str]) -> dict[str, float | None]:
        """The `created` of each of these collections that still exists."""
        alive: dict[str, float | None] = {}
        for name in names:
            created = await self._redis.hget(self._keys.collection(name).meta, "created")
            if created is not None:
                alive[name] = _number(text_of(created))
        return alive


def _belongs(conversation: Conversation, alive: Mapping[str, float | None]) -> bool:
    """Whether the conversation's collection still exists (the same one, not one made again
    under its name)."""
    if conversation.collection not in alive:
        return False
    then, now = conversation.collection_created, alive[conversation.collection]
    return then is None or now is None or abs(then - now) < 1e-3
