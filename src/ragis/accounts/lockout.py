"""Counting failed sign-ins per username and per client address, and locking them out.

Each failure increments two counters (the username's and the address's) that expire
`lockout` seconds after the last failure. Once either reaches `max_failures`, sign-in for that
name or from that address is refused with `TooManyAttempts` (429 + Retry-After: the counter's
remaining life) before any password is checked, so a locked-out attacker costs no KDF work.
A success clears the username's counter (not the address's: one good account must not reset
an address that is guessing others').
"""

from __future__ import annotations

import hashlib
import math

from ragis.accounts.layout import AuthKeys
from ragis.accounts.policy import LoginPolicy
from ragis.db.client import RedisClient
from ragis.db.failures import speaks_redis
from ragis.errors import TooManyAttempts

__all__ = ["Lockout"]


@speaks_redis
class Lockout:
    def __init__(self, redis: RedisClient, keys: AuthKeys, policy: LoginPolicy) -> None:
        self._redis = redis
        self._keys = keys
        self._policy = policy

    def _counters(self, username: str, address: str) -> tuple[str, str]:
        # Names and addresses a client sent go into key names hashed: bounded and inert.
        return (
            self._keys.failures("user", _short(username)),
            self._keys.failures("addr", _short(address)),
        )

    async def check(self, username: str, address: str) -> None:
        """Raise `TooManyAttempts` if the username or the address is locked out."""
        counters = self._counters(username, address)
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in counters:
                pipe.get(key)
                pipe.pttl(key)
            user_count, user_ttl, addr_count, addr_ttl = await pipe.execute()
        waits = [
            ttl
            for count, ttl in ((user_count, user_ttl), (addr_count, addr_ttl))
            if count is not None and int(count) >= self._policy.max_failures
        ]
        if waits:
            seconds = max(1, math.ceil(max(max(waits), 1000) / 1000))
            raise TooManyAttempts(
                f"Too many failed sign-ins: try again in {seconds} seconds.",
                retry_after=seconds,
            )

    async def failed(self, username: str, address: str) -> int:
        """Count a failure; returns the larger of the two counts."""
        counters = self._counters(username, address)
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in counters:
                pipe.incr(key)
                pipe.expire(key, self._policy.lockout)
            replies = await pipe.execute()
        return max(int(replies[0]), int(replies[2]))

    async def succeeded(self, username: str) -> None:
        await self._redis.delete(self._keys.failures("user", _short(username)))


def _short(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:32]
