"""Who is calling the gateway, and what they may do in the workspace they work in.

Routes declare what they need as a dependency and receive it resolved and checked:

    IdentityDep  any signed-in caller (a session cookie or an API key); 401 without
    AdminDep     a caller whose role is admin; 403 for a member
    ViewerDep    an `Access` to the request's workspace with at least viewer rights
    EditorDep    ... at least editor rights (upload, delete); 403 for a viewer
    OwnerDep     ... owner rights (manage members)

The request's workspace is the one named by `X-Ragis-Workspace`, else the API key's, else the
caller's personal one. A workspace the caller is not a member of answers 404, as if it did not
exist. While RAGIS_AUTH is off every request acts as the local user, owner of every workspace
(default: `default`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request

from ragis.contract import (
    DEFAULT_WORKSPACE,
    LOCAL_USER,
    WORKSPACE_HEADER,
    WORKSPACE_PATTERN,
    Caller,
    Role,
    WorkspaceRole,
)
from ragis.errors import InvalidName

__all__ = [
    "Access",
    "AccessDep",
    "AdminDep",
    "EditorDep",
    "Identity",
    "IdentityDep",
    "OwnerDep",
    "Via",
    "ViewerDep",
    "requested_workspace",
]

_WORKSPACE = re.compile(WORKSPACE_PATTERN)


class Via(StrEnum):
    """How the caller proved who they are."""

    OFF = "off"  # RAGIS_AUTH off: the local user
    SESSION = "session"  # the sign-in cookie
    KEY = "key"  # an API key (Authorization: Bearer rgs_...)


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    role: Role
    via: Via
    key_id: str | None = None
    # An API key made for one workspace works only there.
    key_workspace: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class Access:
    """An identity working in one workspace, with its role there."""

    identity: Identity
    workspace: str
    role: WorkspaceRole

    @property
    def caller(self) -> Caller:
        """What the RAG service is told about this request."""
        return Caller(self.workspace, self.identity.user)


LOCAL = Identity(user=LOCAL_USER, role=Role.ADMIN, via=Via.OFF)


def requested_workspace(request: Request) -> str | None:
    """The workspace named by the request's header, checked; None when it names none."""
    value = request.headers.get(WORKSPACE_HEADER)
    if value is None:
        return None
    if not _WORKSPACE.fullmatch(value):
        raise InvalidName(
            f"Invalid {WORKSPACE_HEADER} {value[:80]!r}: use 1-64 letters, digits, '_', '.' or "
            "'-', starting with a letter or digit."
        )
    return value


async def _identity(request: Request) -> Identity:
    return LOCAL


async def _access(request: Request) -> Access:
    identity = await _identity(request)
    return Access(identity, requested_workspace(request) or DEFAULT_WORKSPACE, WorkspaceRole.OWNER)


async def _admin(request: Request) -> Identity:
    return await _identity(request)


async def _viewer(request: Request) -> Access:
    return await _access(request)


async def _editor(request: Request) -> Access:
    return await _access(request)


async def _owner(request: Request) -> Access:
    return await _access(request)


IdentityDep = Annotated[Identity, Depends(_identity)]
AdminDep = Annotated[Identity, Depends(_admin)]
AccessDep = Annotated[Access, Depends(_access)]
ViewerDep = Annotated[Access, Depends(_viewer)]
EditorDep = Annotated[Access, Depends(_editor)]
OwnerDep = Annotated[Access, Depends(_owner)]
