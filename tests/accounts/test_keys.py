"""API keys: shown once, stored as SHA-256, resolved per request, revoked at once."""

from __future__ import annotations

import hashlib

import pytest
from redis.asyncio import Redis

from ragis.accounts import MAX_KEYS_PER_USER, Accounts
from ragis.contract import Role, WorkspaceRole
from ragis.errors import Conflict, NotFound, Unauthenticated


@pytest.fixture
async def people(accounts: Accounts) -> Accounts:
    await accounts.users.create("alice", "correct horse", Role.ADMIN)
    await accounts.users.create("bob", "correct horse")
    return accounts


async def test_a_key_is_stored_only_as_its_hash(
    people: Accounts, redis: Redis, prefix: str
) -> None:
    made = await people.keys.create("bob", "laptop", None)
    assert made.secret.startswith("rgs_")
    assert len(made.secret) > 40
    assert made.key.prefix == made.secret[:8]
    found = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
    assert not any(made.secret.encode() in key for key in found)
    for key in found:
        if await redis.type(key) == b"hash":
            assert made.secret.encode() not in b"".join((await redis.hgetall(key)).values())
    digest = hashlib.sha256(made.secret.encode()).hexdigest()
    assert await redis.exists(f"{prefix}:{{auth}}:key:{digest}")


async def test_a_key_resolves_to_its_user_and_workspace(people: Accounts) -> None:
    made = await people.keys.create("bob", "laptop", None)
    principal = await people.credentials.by_key(made.secret, None)
    assert (principal.user, principal.role, principal.key_id) == ("bob", Role.MEMBER, made.key.id)
    assert (principal.workspace, principal.workspace_role) == ("bob", WorkspaceRole.OWNER)
    elsewhere = await people.credentials.by_key(made.secret, "alice")
    assert (elsewhere.workspace, elsewhere.workspace_role) == ("alice", None)


async def test_a_workspace_key_works_in_its_workspace(people: Accounts) -> None:
    await people.workspaces.create("team", owner="bob")
    made = await people.keys.create("bob", "ci", "team")
    principal = await people.credentials.by_key(made.secret, None)
    assert (principal.workspace, principal.key_workspace) == ("team", "team")
    assert principal.workspace_role is WorkspaceRole.OWNER


async def test_a_revoked_key_fails_on_its_next_use(people: Accounts) -> None:
    made = await people.keys.create("bob", "laptop", None)
    await people.credentials.by_key(made.secret, None)
    await people.keys.revoke(made.key.id, actor="bob", admin=False)
    with pytest.raises(Unauthenticated, match="not valid"):
        await people.credentials.by_key(made.secret, None)
    assert await people.keys.all("bob") == []


async def test_only_the_owner_or_an_admin_revokes_a_key(people: Accounts) -> None:
    made = await people.keys.create("alice", "laptop", None)
    with pytest.raises(NotFound):
        await people.keys.revoke(made.key.id, actor="bob", admin=False)
    theirs = await people.keys.create("bob", "laptop", None)
    revoked = await people.keys.revoke(theirs.key.id, actor="alice", admin=True)
    assert revoked.user == "bob"
    with pytest.raises(NotFound):
        await people.keys.revoke("0123abcd", actor="alice", admin=True)


@pytest.mark.parametrize(
    "secret", ["", "rgs_", "rgs_" + "A" * 43, "Bearer x", "rgs_" + "x" * 500, "rgs_\u00e9t\u00e9"]
)
async def test_forged_keys_are_refused(people: Accounts, secret: str) -> None:
    with pytest.raises(Unauthenticated):
        await people.credentials.by_key(secret, None)


async def test_a_user_has_at_most_100_keys(people: Accounts) -> None:
    for i in range(MAX_KEYS_PER_USER):
        await people.keys.create("bob", f"k{i}", None)
    with pytest.raises(Conflict, match="revoke"):
        await people.keys.create("bob", "one more", None)
    listed = await people.keys.all("bob")
    assert len(listed) == MAX_KEYS_PER_USER
    assert [k.name for k in listed][:2] == ["k0", "k1"]


async def test_last_used_is_recorded(people: Accounts) -> None:
    made = await people.keys.create("bob", "laptop", None)
    assert (await people.keys.all("bob"))[0].last_used is None
    await people.credentials.by_key(made.secret, None)
    last_used = (await people.keys.all("bob"))[0].last_used
    assert last_used is not None
    assert last_used >= made.key.created
