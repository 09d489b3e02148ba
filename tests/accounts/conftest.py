"""Accounts over the test Redis, under the test's own key prefix. Passwords use a cheap Argon2id
profile: these tests are about the accounts, not the KDF's cost."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from redis.asyncio import Redis

from ragis.accounts import Accounts, LoginPolicy
from ragis.accounts.passwords import Passwords

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def policy() -> LoginPolicy:
    return LoginPolicy(ttl=3600, slow_after=100, max_failures=3, lockout=600)


@pytest.fixture
def accounts(redis: Redis, prefix: str, policy: LoginPolicy) -> Accounts:
    return Accounts(redis, prefix, policy, Passwords(CHEAP))
