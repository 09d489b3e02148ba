"""Workspaces and members: upserts, the last owner kept, both sides of a membership in step."""

from __future__ import annotations

import pytest

from ragis.accounts import Accounts, Member
from ragis.contract import Role, WorkspaceRole
from ragis.errors import Conflict, InvalidInput, NotFound


@pytest.fixture
async def people(accounts: Accounts) -> Accounts:
    await accounts.users.create("alice", "correct horse", Role.ADMIN)
    await accounts.users.create("bob", "correct horse")
    return accounts


async def test_a_new_workspace_is_owned_by_its_maker(people: Accounts) -> None:
    workspace = await people.workspaces.create("team", owner="bob")
    assert workspace.personal is None
    assert await people.workspaces.members("team") == [Member("bob", WorkspaceRole.OWNER)]
    assert await people.workspaces.role_of("bob", "team") is WorkspaceRole.OWNER
    assert await people.workspaces.role_of("alice", "team") is None


async def test_a_workspace_name_taken_by_a_workspace_or_a_user_is_a_conflict(
    people: Accounts,
) -> None:
    await people.workspaces.create("team", owner="bob")
    with pytest.raises(Conflict, match="already a workspace"):
        await people.workspaces.create("team", owner="alice")
    with pytest.raises(Conflict):
        await people.workspaces.create("bob", owner="alice")
    with pytest.raises(InvalidInput):
        await people.workspaces.create("-bad name", owner="alice")


async def test_members_are_upserted_and_seen_from_both_sides(people: Accounts) -> None:
    await people.workspaces.create("team", owner="bob")
    await people.workspaces.set_member("team", "alice", WorkspaceRole.VIEWER)
    await people.workspaces.set_member("team", "alice", "editor")
    assert await people.workspaces.members("team") == [
        Member("alice", WorkspaceRole.EDITOR),
        Member("bob", WorkspaceRole.OWNER),
    ]
    roles = {m.workspace: m.role for m in await people.workspaces.memberships("alice")}
    assert roles["team"] is WorkspaceRole.EDITOR
    await people.workspaces.remove_member("team", "alice")
    assert "team" not in {m.workspace for m in await people.workspaces.memberships("alice")}


async def test_the_last_owner_can_be_neither_removed_nor_demoted(people: Accounts) -> None:
    await people.workspaces.create("team", owner="bob")
    with pytest.raises(Conflict, match="last owner"):
        await people.workspaces.remove_member("team", "bob")
    with pytest.raises(Conflict, match="last owner"):
        await people.workspaces.set_member("team", "bob", WorkspaceRole.EDITOR)
    await people.workspaces.set_member("team", "alice", WorkspaceRole.OWNER)
    await people.workspaces.remove_member("team", "bob")
    assert await people.workspaces.members("team") == [Member("alice", WorkspaceRole.OWNER)]


async def test_unknown_users_workspaces_and_members_are_not_found(people: Accounts) -> None:
    await people.workspaces.create("team", owner="bob")
    with pytest.raises(NotFound, match="no user"):
        await people.workspaces.set_member("team", "ghost", WorkspaceRole.VIEWER)
    with pytest.raises(NotFound, match="no workspace"):
        await people.workspaces.set_member("nowhere", "alice", WorkspaceRole.VIEWER)
    with pytest.raises(NotFound, match="not a member"):
        await people.workspaces.remove_member("team", "alice")
    with pytest.raises(InvalidInput, match="Invalid role"):
        await people.workspaces.set_member("team", "alice", "admin")
