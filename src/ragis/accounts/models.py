"""What the accounts hold, as plain records (the HTTP models are the gateway's)."""

from __future__ import annotations

from dataclasses import dataclass

from ragis.contract import Role, WorkspaceRole

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Member",
    "Membership",
    "NewKey",
    "Principal",
    "User",
    "Workspace",
]


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    created: float


@dataclass(frozen=True, slots=True)
class Workspace:
    name: str
    created: float
    #: The user whose personal workspace it is; None for a shared one.
    personal: str | None


@dataclass(frozen=True, slots=True)
class Membership:
    """One of a user's workspaces and the user's role there."""

    workspace: str
    role: WorkspaceRole
    personal: bool


@dataclass(frozen=True, slots=True)
class Member:
    username: str
    role: WorkspaceRole


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    user: str
    name: str
    workspace: str | None
    created: float
    #: The first characters of the key (`rgs_XXXX`), so that a person can tell keys apart.
    prefix: str
    last_used: float | None


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: `secret` is shown once and never stored."""

    key: ApiKey
    secret: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a credential (an API key or a sign-in cookie) belongs to, resolved for one request:
    the user and role, and the user's role in the workspace the request asked about."""

    user: str
    role: Role
    key_id: str | None
    key_workspace: str | None
    workspace: str
    #: None: not a member of `workspace`.
    workspace_role: WorkspaceRole | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    time: float
    actor: str
    action: str
    target: str
    workspace: str | None
    address: str | None
    ok: bool
