"""Users: made with their personal workspace, names shared with workspaces, deleted whole."""

from __future__ import annotations

import asyncio
import threading

import pytest
from redis.asyncio import Redis

from ragis.accounts import Accounts, Membership
from ragis.accounts.passwords import Passwords
from ragis.contract import DEFAULT_WORKSPACE, Role, WorkspaceRole
from ragis.errors import Conflict, InvalidInput, NotFound, Unauthenticated

from .conftest import CHEAP


async def test_a_new_user_owns_a_personal_workspace_of_their_name(accounts: Accounts) -> None:
    user = await accounts.users.create("alice", "correct horse", Role.MEMBER)
    assert (user.name, user.role) == ("alice", Role.MEMBER)
    assert await accounts.workspaces.memberships("alice") == [
        Membership("alice", WorkspaceRole.OWNER, personal=True)
    ]
    workspace = await accounts.workspaces.require("alice")
    assert workspace.personal == "alice"


async def test_the_first_admin_also_owns_the_default_workspace(accounts: Accounts) -> None:
    await accounts.users.create("root", "correct horse", Role.ADMIN)
    await accounts.users.create("second", "correct horse", Role.ADMIN)
    assert [m.workspace for m in await accounts.workspaces.memberships("root")] == [
        DEFAULT_WORKSPACE,
        "root",
    ]
    assert [m.workspace for m in await accounts.workspaces.memberships("second")] == ["second"]
    default = await accounts.workspaces.require(DEFAULT_WORKSPACE)
    assert default.personal is None


async def test_a_name_taken_by_a_user_or_a_workspace_is_a_conflict(accounts: Accounts) -> None:
    await accounts.users.create("alice", "correct horse")
    with pytest.raises(Conflict, match="already a user"):
        await accounts.users.create("alice", "another password")
    await accounts.workspaces.create("team", owner="alice")
    with pytest.raises(Conflict, match="taken by a workspace"):
        await accounts.users.create("team", "another password")


@pytest.mark.parametrize(
    ("name", "password", "role", "match"),
    [
        ("Alice", "correct horse", "member", "lower-case"),
        ("a" * 33, "correct horse", "member", "Invalid username"),
        ("default", "correct horse", "member", "reserved"),
        ("local", "correct horse", "member", "reserved"),
        ("bob", "short", "member", "8 to 1024"),
        ("bob", "x" * 1025, "member", "8 to 1024"),
        ("bob", "correct horse", "superuser", "Invalid role"),
    ],
)
async def test_bad_names_passwords_and_roles_are_refused_in_sentences(
    accounts: Accounts, name: str, password: str, role: str, match: str
) -> None:
    with pytest.raises(InvalidInput, match=match):
        await accounts.users.create(name, password, role)
    assert await accounts.users.count() == 0


async def test_passwords_are_stored_only_as_argon2id_hashes(
    accounts: Accounts, redis: Redis, prefix: str
) -> None:
    await accounts.users.create("alice", "correct horse")
    stored = await accounts.users.password_hash("alice")
    assert stored is not None
    assert stored.startswith("$argon2id$")
    async for key in redis.scan_iter(match=f"{prefix}:*"):
        kind = await redis.type(key)
        if kind == b"hash":
            assert b"correct horse" not in b"".join(v for v in (await redis.hgetall(key)).values())


async def test_deleting_a_user_removes_keys_sessions_memberships_and_personal_workspace(
    accounts: Accounts,
) -> None:
    await accounts.users.create("root", "correct horse", Role.ADMIN)
    await accounts.users.create("bob", "correct horse")
    await accounts.workspaces.create("team", owner="root")
    await accounts.workspaces.set_member("team", "bob", WorkspaceRole.EDITOR)
    await accounts.workspaces.set_member("bob", "root", WorkspaceRole.VIEWER)
    key = await accounts.keys.create("bob", "laptop", None)
    _, cookie = await accounts.sign_in("bob", "correct horse", "127.0.0.1")

    await accounts.users.delete("bob", actor="root")

    assert await accounts.users.get("bob") is None
    assert await accounts.workspaces.get("bob") is None
    assert [m.username for m in await accounts.workspaces.members("team")] == ["root"]
    assert "bob" not in [m.workspace for m in await accounts.workspaces.memberships("root")]
    assert await accounts.keys.all("bob") == []
    with pytest.raises(Unauthenticated):
        await accounts.credentials.by_key(key.secret, None)
    with pytest.raises(Unauthenticated):
        await accounts.credentials.by_login(cookie, None)
    # The name is free again, and its new owner finds none of the old memberships.
    await accounts.users.create("bob", "correct horse")
    assert [m.workspace for m in await accounts.workspaces.memberships("bob")] == ["bob"]


async def test_one_cannot_delete_oneself_nor_the_last_admin(accounts: Accounts) -> None:
    await accounts.users.create("root", "correct horse", Role.ADMIN)
    with pytest.raises(Conflict, match="yourself"):
        await accounts.users.delete("root", actor="root")
    with pytest.raises(Conflict, match="last admin"):
        await accounts.users.delete("root", actor="someone")
    with pytest.raises(NotFound):
        await accounts.users.delete("ghost", actor="root")


async def test_users_are_listed_by_name(accounts: Accounts) -> None:
    for name in ("carol", "alice", "bob"):
        await accounts.users.create(name, "correct horse")
    assert [u.name for u in await accounts.users.all()] == ["alice", "bob", "carol"]


async def test_a_flood_of_hashes_runs_a_few_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    passwords = Passwords(CHEAP, parallel=2)
    running, most = 0, 0
    lock = threading.Lock()
    original = passwords._hash

    def counted(password: str) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return original(password)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(passwords, "_hash", counted)
    await asyncio.gather(*(passwords.hash(f"password {i}") for i in range(12)))
    assert 1 <= most <= 2
