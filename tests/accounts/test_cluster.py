"""The accounts on a real Redis Cluster: every key shares the hash tag {auth}, so the scripts and
transactions that touch several of them are legal there."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio.cluster import RedisCluster

from ragis.accounts import Accounts, LoginPolicy
from ragis.accounts.passwords import Passwords
from ragis.contract import Role, WorkspaceRole
from ragis.db import connect
from ragis.errors import Unauthenticated
from support.cluster import LocalCluster

from .conftest import CHEAP


@pytest.fixture
async def cluster_accounts(redis_cluster: LocalCluster, prefix: str) -> AsyncIterator[Accounts]:
    client = await connect(redis_cluster.url)
    assert isinstance(client, RedisCluster)
    yield Accounts(client, prefix, LoginPolicy(max_failures=2), Passwords(CHEAP))
    await client.aclose()


async def test_every_account_operation_works_on_a_cluster(cluster_accounts: Accounts) -> None:
    accounts = cluster_accounts
    await accounts.users.create("root", "correct horse", Role.ADMIN)
    await accounts.users.create("bob", "correct horse")
    await accounts.workspaces.create("team", owner="root")
    await accounts.workspaces.set_member("team", "bob", WorkspaceRole.EDITOR)
    key = await accounts.keys.create("bob", "laptop", "team")
    principal = await accounts.credentials.by_key(key.secret, None)
    assert (principal.user, principal.workspace_role) == ("bob", WorkspaceRole.EDITOR)
    _, cookie = await accounts.sign_in("bob", "correct horse", "10.0.0.1")
    assert (await accounts.credentials.by_login(cookie, None)).user == "bob"
    assert [k.id for k in await accounts.keys.all("bob")] == [key.key.id]
    assert len(await accounts.audit.recent(10)) >= 1
    await accounts.users.delete("bob", actor="root")
    with pytest.raises(Unauthenticated):
        await accounts.credentials.by_key(key.secret, None)
    assert [m.username for m in await accounts.workspaces.members("team")] == ["root"]
