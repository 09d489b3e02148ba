"""Sign-in sessions: the cookie holds 32 random bytes; Redis holds only their SHA-256, with
the user, expiring after RAGIS_LOGIN_TTL. Signing out deletes the record."""

from __future__ import annotations

import hashlib
import secrets
import time

from ragis.accounts.codec import text
from ragis.accounts.layout import AuthKeys
from ragis.db.client import RedisClient
from ragis.db.failures import speaks_redis

__all__ = ["Logins", "login_digest", "looks_like_login"]

_MAX_COOKIE_CHARS = 128


def login_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def looks_like_login(value: str) -> bool:
    return 0 < len(value) <= _MAX_COOKIE_CHARS and value.isascii()


@speaks_redis
class Logins:
    def __init__(self, redis: RedisClient, keys: AuthKeys, ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self.ttl = ttl

    async def start(self, user: str) -> str:
        """A new sign-in session of `user`; returns the cookie's value (never stored)."""
        k = self._keys
        token = secrets.token_urlsafe(32)
        hashed = login_digest(token)
        await self._forget_expired(user)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(k.login(hashed), mapping={"user": user, "created": repr(time.time())})
            pipe.expire(k.login(hashed), self.ttl)
            pipe.sadd(k.user_logins(user), hashed)
            await pipe.execute()
        return token

    async def end(self, token: str) -> str | None:
        """Delete the session of a cookie; returns its user (None if it was not valid)."""
        if not looks_like_login(token):
            return None
        k = self._keys
        hashed = login_digest(token)
        user = text(await self._redis.hget(k.login(hashed), "user"))
        if user is None:
            return None
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(k.login(hashed))
            pipe.srem(k.user_logins(user), hashed)
            await pipe.execute()
        return user

    async def _forget_expired(self, user: str) -> None:
        # The user's set of sessions would keep the digests of expired ones forever: drop them
        # at each sign-in, so it holds about the sessions that live.
        k = self._keys
        digests = [str(text(d)) for d in await self._redis.smembers(k.user_logins(user))]
        if not digests:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for hashed in digests:
                pipe.exists(k.login(hashed))
            alive = await pipe.execute()
        gone = [d for d, there in zip(digests, alive, strict=True) if not there]
        if gone:
            await self._redis.srem(k.user_logins(user), *gone)
