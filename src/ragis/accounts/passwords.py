"""Passwords: hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended
profile: 64 MiB, 3 passes, 4 lanes), checked off the event loop.

A check costs tens of milliseconds of CPU and 64 MiB: it runs in a worker thread
(`asyncio.to_thread`) so that a sign-in never holds up other requests, and a sign-in as an
unknown user is checked against a dummy hash, so that the answer takes as long as for a known
user and does not tell which usernames exist. Lengths are bounded (8-1024 characters) before
any hashing: a 1 MB "password" is refused, not fed to the KDF. At most `MAX_PARALLEL` hashes run
at once (the others wait their turn): a flood of sign-ins costs time, not 64 MiB per request.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ragis.errors import InvalidInput

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "Passwords"]

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
#: Hashes computed at once, each in its own thread with its own 64 MiB.
MAX_PARALLEL = 4


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None, parallel: int = MAX_PARALLEL) -> None:
        self._hasher = hasher or PasswordHasher()
        self._slots = asyncio.Semaphore(parallel)
        # Made lazily, once: the first unknown-user sign-in pays for it.
        self._dummy: str | None = None

    @staticmethod
    def check_new(password: str) -> str:
        """A new password within the lengths ragis accepts, else `InvalidInput`."""
        if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
            raise InvalidInput(
                f"A password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters "
                f"(this one has {len(password)})."
            )
        return password

    async def hash(self, password: str) -> str:
        self.check_new(password)
        async with self._slots:
            return await asyncio.to_thread(self._hash, password)

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches the stored hash; with `stored` None (no such user) the
        same work is done against a dummy hash, and the answer is False."""
        if len(password) > MAX_PASSWORD:
            return False
        async with self._slots:
            if stored is None:
                if self._dummy is None:
                    self._dummy = await asyncio.to_thread(self._hash, secrets.token_urlsafe(16))
                await asyncio.to_thread(self._matches, self._dummy, password)
                return False
            return await asyncio.to_thread(self._matches, stored, password)

    def _hash(self, password: str) -> str:
        return str(self._hasher.hash(password))

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False
