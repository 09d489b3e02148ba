"""A Redis that does not answer leaves every part of the accounts as `RedisUnavailable`, never
as a redis-py error (the gateway answers 503 with a sentence)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from ragis.accounts import Accounts, Action, LoginPolicy
from ragis.errors import RedisUnavailable
from support.net import free_port


@pytest.fixture
async def gone(prefix: str) -> AsyncIterator[Accounts]:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}", socket_connect_timeout=1)
    yield Accounts(client, prefix, LoginPolicy())
    await client.aclose()


async def test_every_part_raises_redis_unavailable(gone: Accounts) -> None:
    calls = [
        gone.users.create("alice", "correct horse"),
        gone.users.all(),
        gone.workspaces.create("team", owner="alice"),
        gone.workspaces.memberships("alice"),
        gone.keys.create("alice", "k", None),
        gone.keys.revoke("00ff", actor="alice", admin=False),
        gone.credentials.by_key("rgs_" + "a" * 43, None),
        gone.credentials.by_login("x" * 43, None),
        gone.logins.start("alice"),
        gone.lockout.check("alice", "10.0.0.1"),
        gone.audit.record(Action.LOGIN, actor="alice"),
        gone.audit.recent(10),
    ]
    for call in calls:
        with pytest.raises(RedisUnavailable, match="Redis did not answer"):
            await call
