"""Workspaces and their members: `POST /api/workspaces`, `GET /api/workspaces`,
`GET|POST /api/workspaces/{ws}/members`, `DELETE /api/workspaces/{ws}/members/{username}`.

Members of a workspace (and admins) see its members; its owners (and admins) change them. A
workspace that is not the caller's answers 404 to a member who is not in it, as if it did not
exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Request

from ragis.accounts import Accounts
from ragis.contract import USERNAME_PATTERN, WORKSPACE_PATTERN, WorkspaceRole
from ragis.errors import Forbidden, NotFound
from ragis.gateway.account_schemas import (
    ACCOUNT_ERRORS,
    MemberChanged,
    MemberPublic,
    MemberRemoved,
    MemberSet,
    MembersPublic,
    WorkspaceCreate,
    WorkspacePublic,
    WorkspacesPublic,
)
from ragis.gateway.audit_trail import Action, record
from ragis.gateway.deps import AccountsDep
from ragis.gateway.identity import Identity, IdentityDep
from ragis.gateway.schemas import ErrorPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/workspaces", tags=["workspaces"], responses=ACCOUNT_ERRORS)

_NOT_YOURS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic, "description": "Not a workspace of yours"}
}


@router.post(
    "",
    status_code=201,
    response_model=WorkspacePublic,
    responses={409: {"model": ErrorPublic, "description": "Name taken"}},
    summary="Make a shared workspace (you are its owner)",
)
async def create_workspace(
    body: WorkspaceCreate, identity: IdentityDep, accounts: AccountsDep, request: Request
) -> WorkspacePublic:
    workspace = await accounts.workspaces.create(body.name, identity.user)
    await record(
        request, Action.WORKSPACE_CREATED, identity, workspace.name, workspace=workspace.name
    )
    return WorkspacePublic(
        name=workspace.name, role=WorkspaceRole.OWNER, personal=False, created=workspace.created
    )


@router.get("", response_model=WorkspacesPublic, summary="Your workspaces (an admin's: every one)")
async def list_workspaces(identity: IdentityDep, accounts: AccountsDep) -> WorkspacesPublic:
    roles = {m.workspace: m.role for m in await accounts.workspaces.memberships(identity.user)}
    found = [
        WorkspacePublic(
            name=w.name, role=roles.get(w.name), personal=w.personal is not None, created=w.created
        )
        for w in await accounts.workspaces.all()
        if identity.is_admin or w.name in roles
    ]
    return WorkspacesPublic(workspaces=found)


@router.get(
    "/{workspace}/members",
    response_model=MembersPublic,
    responses=_NOT_YOURS,
    summary="The members of a workspace and their roles",
)
async def list_members(
    identity: IdentityDep,
    accounts: AccountsDep,
    workspace: str = Path(pattern=WORKSPACE_PATTERN),
) -> MembersPublic:
    await _require(accounts, identity, workspace, WorkspaceRole.VIEWER)
    members = await accounts.workspaces.members(workspace)
    return MembersPublic(
        workspace=workspace,
        members=[MemberPublic(username=m.username, role=m.role) for m in members],
    )


@router.post(
    "/{workspace}/members",
    response_model=MemberChanged,
    responses={
        **_NOT_YOURS,
        403: {"model": ErrorPublic, "description": "Not its owner"},
        409: {"model": ErrorPublic, "description": "It would lose its last owner"},
    },
    summary="Add a member or change their role (owners and admins)",
)
async def set_member(
    body: MemberSet,
    identity: IdentityDep,
    accounts: AccountsDep,
    request: Request,
    workspace: str = Path(pattern=WORKSPACE_PATTERN),
) -> MemberChanged:
    await _require(accounts, identity, workspace, WorkspaceRole.OWNER)
    member = await accounts.workspaces.set_member(workspace, body.username, body.role)
    await record(
        request,
        Action.MEMBER_SET,
        identity,
        f"{member.username}:{member.role.value}",
        workspace=workspace,
    )
    return MemberChanged(workspace=workspace, username=member.username, role=member.role)


@router.delete(
    "/{workspace}/members/{username}",
    response_model=MemberRemoved,
    responses={
        **_NOT_YOURS,
        403: {"model": ErrorPublic, "description": "Not its owner"},
        409: {"model": ErrorPublic, "description": "Its last owner"},
    },
    summary="Remove a member (owners and admins)",
)
async def remove_member(
    identity: IdentityDep,
    accounts: AccountsDep,
    request: Request,
    workspace: str = Path(pattern=WORKSPACE_PATTERN),
    username: str = Path(pattern=USERNAME_PATTERN),
) -> MemberRemoved:
    await _require(accounts, identity, workspace, WorkspaceRole.OWNER)
    await accounts.workspaces.remove_member(workspace, username)
    await record(request, Action.MEMBER_REMOVED, identity, username, workspace=workspace)
    return MemberRemoved(workspace=workspace, username=username)


async def _require(
    accounts: Accounts, identity: Identity, workspace: str, needed: WorkspaceRole
) -> None:
    """Admins may manage every workspace; others need `needed` in it (404 if not a member).
    A key made for one workspace manages only that one."""
    if identity.key_workspace is not None and identity.key_workspace != workspace:
        raise NotFound(f"There is no workspace {workspace!r}.")
    if identity.is_admin:
        await accounts.workspaces.require(workspace)
        return
    role = await accounts.workspaces.role_of(identity.user, workspace)
    if role is None:
        raise NotFound(f"There is no workspace {workspace!r}.")
    if not role.allows(needed):
        raise Forbidden(
            f"You are {role.value} of workspace {workspace!r}: only its owners manage members."
        )
