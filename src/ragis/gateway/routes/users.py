"""Users, for admins: `POST /api/users` (with their personal workspace), `GET /api/users`,
`DELETE /api/users/{name}` (their keys, sign-ins, memberships, and their personal workspace's
data in the RAG service)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Path, Request

from ragis.accounts import User
from ragis.contract import USERNAME_PATTERN, Caller
from ragis.errors import RagisError
from ragis.gateway.account_schemas import (
    ACCOUNT_ERRORS,
    UserCreate,
    UserDeleted,
    UserPublic,
    UsersPublic,
)
from ragis.gateway.audit_trail import Action, record
from ragis.gateway.deps import AccountsDep, RagDep
from ragis.gateway.identity import AdminDep
from ragis.gateway.schemas import ErrorPublic

__all__ = ["router"]

log = logging.getLogger("ragis.gateway")

router = APIRouter(prefix="/api/users", tags=["users"], responses=ACCOUNT_ERRORS)

_ADMIN_ONLY: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorPublic, "description": "Not an admin"}
}


@router.post(
    "",
    status_code=201,
    response_model=UserPublic,
    responses={**_ADMIN_ONLY, 409: {"model": ErrorPublic, "description": "Name taken"}},
    summary="Make a user (and their personal workspace)",
)
async def create_user(
    body: UserCreate, admin: AdminDep, accounts: AccountsDep, request: Request
) -> UserPublic:
    user = await accounts.users.create(body.username, body.password, body.role)
    await record(request, Action.USER_CREATED, admin, user.name)
    return _public(user)


@router.get("", response_model=UsersPublic, responses=_ADMIN_ONLY, summary="Every user")
async def list_users(admin: AdminDep, accounts: AccountsDep) -> UsersPublic:
    return UsersPublic(users=[_public(u) for u in await accounts.users.all()])


@router.delete(
    "/{username}",
    response_model=UserDeleted,
    responses={
        **_ADMIN_ONLY,
        404: {"model": ErrorPublic},
        409: {"model": ErrorPublic, "description": "Yourself, or the last admin"},
    },
    summary="Delete a user, their keys, sign-ins, memberships and personal workspace",
)
async def delete_user(
    admin: AdminDep,
    accounts: AccountsDep,
    rag: RagDep,
    request: Request,
    username: str = Path(pattern=USERNAME_PATTERN),
) -> UserDeleted:
    user = await accounts.users.delete(username, actor=admin.user)
    await record(request, Action.USER_DELETED, admin, user.name)
    # The accounts are gone (the user can do nothing more); the personal workspace's data
    # goes next. If the RAG service fails here, the data stays unreachable (no one is a member
    # of that workspace), and deleting a new user of the same name would not find it: say so.
    try:
        await rag.delete_workspace(Caller(user.name, admin.user))
    except RagisError as exc:
        log.warning(
            "user %r deleted, but the data of their workspace was not: %s", user.name, exc.message
        )
        raise
    return UserDeleted(username=user.name)


def _public(user: User) -> UserPublic:
    return UserPublic(username=user.name, role=user.role, created=user.created)
