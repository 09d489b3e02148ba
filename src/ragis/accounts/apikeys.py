"""API keys: `rgs_` + 32 random bytes, shown once, stored only as their SHA-256.

A key is looked up by the hash of what the client sends, so checking one costs a hash and a
Redis read, not a KDF (the key is random, so there is nothing for a slow hash to protect).
Revoking deletes its record: the next request with it finds nothing.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from ragis.accounts.codec import text, text_hash
from ragis.accounts.layout import AuthKeys
from ragis.accounts.models import ApiKey, NewKey
from ragis.db.client import RedisClient
from ragis.db.failures import speaks_redis
from ragis.errors import Conflict, NotFound

__all__ = ["KEY_PREFIX", "MAX_KEYS_PER_USER", "ApiKeys", "digest", "looks_like_key"]

KEY_PREFIX = "rgs_"
MAX_KEYS_PER_USER = 100
# `rgs_` + 43 characters of URL-safe base64; anything much longer is not one of ours.
_MAX_KEY_CHARS = 128
_SHOWN = len(KEY_PREFIX) + 4  # `rgs_XXXX`, to tell keys apart in a list


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(KEY_PREFIX) and len(value) <= _MAX_KEY_CHARS and value.isascii()


@speaks_redis
class ApiKeys:
    def __init__(self, redis: RedisClient, keys: AuthKeys) -> None:
        self._redis = redis
        self._keys = keys

    async def create(self, user: str, name: str, workspace: str | None) -> NewKey:
        """A new key of `user`, working only in `workspace` if given (the caller checked the
        user is a member). `Conflict` beyond `MAX_KEYS_PER_USER`."""
        k = self._keys
        if int(await self._redis.scard(k.user_keys(user))) >= MAX_KEYS_PER_USER:
            raise Conflict(
                f"You have {MAX_KEYS_PER_USER} API keys, the most ragis keeps per user: revoke "
                "one you no longer use first."
            )
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=secrets.token_hex(8),
            user=user,
            name=name,
            workspace=workspace,
            created=time.time(),
            prefix=secret[:_SHOWN],
            last_used=None,
        )
        hashed = digest(secret)
        fields = {
            "id": key.id,
            "user": user,
            "name": name,
            "workspace": workspace or "",
            "created": repr(key.created),
            "prefix": key.prefix,
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.key(hashed), mapping=fields)  # type: ignore[arg-type]
            pipe.set(k.key_id(key.id), hashed)
            pipe.sadd(k.user_keys(user), key.id)
            await pipe.execute()
        return NewKey(key, secret)

    async def all(self, user: str) -> list[ApiKey]:
        """The user's keys, oldest first."""
        k = self._keys
        ids = [str(text(i)) for i in await self._redis.smembers(k.user_keys(user))]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key_id in ids:
                pipe.get(k.key_id(key_id))
            digests = await pipe.execute()
        async with self._redis.pipeline(transaction=False) as pipe:
            for hashed in digests:
                if hashed is not None:
                    pipe.hgetall(k.key(str(text(hashed))))
            records = await pipe.execute()
        found = [_key(text_hash(r)) for r in records if r]
        return sorted(found, key=lambda key: (key.created, key.id))

    async def revoke(self, key_id: str, *, actor: str, admin: bool) -> ApiKey:
        """Delete a key. `NotFound` unless it is `actor`'s own, or `admin` is set."""
        k = self._keys
        missing = NotFound(f"You have no API key {key_id[:40]!r}.")
        hashed = text(await self._redis.get(k.key_id(key_id)))
        if hashed is None:
            raise missing
        fields = text_hash(await self._redis.hgetall(k.key(hashed)))
        if not fields or (fields.get("user") != actor and not admin):
            raise missing
        key = _key(fields)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(k.key(hashed), k.key_id(key_id))
            pipe.srem(k.user_keys(key.user), key_id)
            await pipe.execute()
        return key


def _key(fields: dict[str, str]) -> ApiKey:
    last_used = fields.get("last_used")
    return ApiKey(
        id=fields.get("id", ""),
        user=fields.get("user", ""),
        name=fields.get("name", ""),
        workspace=fields.get("workspace") or None,
        created=float(fields.get("created", 0)),
        prefix=fields.get("prefix", ""),
        last_used=float(last_used) if last_used else None,
    )
