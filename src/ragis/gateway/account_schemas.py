"""Request and response models of the accounts API: sign-in, API keys, users, workspaces and
members, the audit. Bounded everywhere (lengths, counts), so that nothing a client sends reaches
the KDF or Redis unbounded."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from ragis.accounts import MAX_PASSWORD, MIN_PASSWORD
from ragis.contract import (
    USERNAME_PATTERN,
    WORKSPACE_PATTERN,
    ErrorPublic,
    Role,
    Strict,
    Text,
    WorkspaceRole,
)

__all__ = [
    "ACCOUNT_ERRORS",
    "AuditEventPublic",
    "AuditPublic",
    "KeyCreate",
    "KeyCreated",
    "KeyPublic",
    "KeyRevoked",
    "KeysPublic",
    "LoggedOut",
    "LoginRequest",
    "MePublic",
    "MeWorkspace",
    "MemberChanged",
    "MemberPublic",
    "MemberRemoved",
    "MemberSet",
    "MembersPublic",
    "UserCreate",
    "UserDeleted",
    "UserPublic",
    "UsersPublic",
    "WorkspaceCreate",
    "WorkspacePublic",
    "WorkspacesPublic",
]

#: What every route of the accounts API may answer besides its own errors.
ACCOUNT_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorPublic, "description": "Sign-in is off (`auth_off`), or a conflict"},
    503: {"model": ErrorPublic, "description": "Redis does not answer"},
}

Username = Annotated[str, StringConstraints(pattern=USERNAME_PATTERN)]
WorkspaceName = Annotated[str, StringConstraints(pattern=WORKSPACE_PATTERN)]


# --- Sign-in ----------------------------------------------------------------------------------


class LoginRequest(Strict):
    # Any text up to the bounds (a wrong name is a wrong name, answered like a wrong password).
    username: Annotated[Text, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[Text, StringConstraints(min_length=1, max_length=MAX_PASSWORD)]


class LoggedOut(BaseModel):
    logged_out: Literal[True] = True


class MeWorkspace(BaseModel):
    name: str
    role: WorkspaceRole
    personal: bool


class MePublic(BaseModel):
    username: str
    role: Role
    auth: Literal["on", "off"]
    via: Literal["session", "key", "off"]
    workspace: str = Field(description="The workspace this request works in.")
    workspaces: list[MeWorkspace]


# --- API keys ---------------------------------------------------------------------------------


class KeyCreate(Strict):
    name: Annotated[Text, StringConstraints(min_length=1, max_length=64)]
    workspace: WorkspaceName | None = Field(
        default=None, description="The only workspace the key works in; unset: any of yours."
    )


class KeyPublic(BaseModel):
    id: str
    name: str
    workspace: str | None
    created: float
    prefix: str = Field(description="The key's first characters (`rgs_XXXX`), to recognise it.")
    last_used: float | None = Field(description="About when it was last used (to the minute).")


class KeyCreated(BaseModel):
    id: str
    key: str = Field(description="The key itself: shown this once, stored only as a hash.")
    name: str
    workspace: str | None
    created: float
    prefix: str


class KeysPublic(BaseModel):
    keys: list[KeyPublic]


class KeyRevoked(BaseModel):
    revoked: Literal[True] = True
    id: str


# --- Users ------------------------------------------------------------------------------------


class UserCreate(Strict):
    username: Username
    password: Annotated[Text, StringConstraints(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]
    role: Role = Role.MEMBER


class UserPublic(BaseModel):
    username: str
    role: Role
    created: float


class UsersPublic(BaseModel):
    users: list[UserPublic]


class UserDeleted(BaseModel):
    deleted: Literal[True] = True
    username: str


# --- Workspaces and members -------------------------------------------------------------------


class WorkspaceCreate(Strict):
    name: WorkspaceName


class WorkspacePublic(BaseModel):
    name: str
    role: WorkspaceRole | None = Field(description="Yours there; null where you are not a member.")
    personal: bool
    created: float


class WorkspacesPublic(BaseModel):
    workspaces: list[WorkspacePublic]


class MemberSet(Strict):
    username: Username
    role: WorkspaceRole


class MemberPublic(BaseModel):
    username: str
    role: WorkspaceRole


class MembersPublic(BaseModel):
    workspace: str
    members: list[MemberPublic]


class MemberChanged(BaseModel):
    workspace: str
    username: str
    role: WorkspaceRole


class MemberRemoved(BaseModel):
    removed: Literal[True] = True
    workspace: str
    username: str


# --- Audit ------------------------------------------------------------------------------------


class AuditEventPublic(BaseModel):
    id: str
    time: float
    actor: str
    action: str
    target: str
    workspace: str | None
    address: str | None
    ok: bool


class AuditPublic(BaseModel):
    events: list[AuditEventPublic]
