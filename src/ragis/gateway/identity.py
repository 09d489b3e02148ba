"""Who is calling the gateway, and what they may do in the workspace they work in.

Routes declare what they need as a dependency and receive it resolved and checked:

    IdentityDep  any signed-in caller (a session cookie or an API key); 401 without
    AdminDep     a caller whose role is admin; 403 for a member
    ViewerDep    an `Access` to the request's workspace with at least viewer rights
    EditorDep    ... at least editor rights (upload, delete); 403 for a viewer
    OwnerDep     ... owner rights (manage members)

A caller proves who they are with `Authorization: Bearer rgs_...` (an API key; any other
Authorization is refused, not ignored) or the sign-in cookie `ragis_session`. Both are
resolved in two Redis round trips (`ragis.accounts.credentials`), once per request, and nothing
is cached between requests: a revoked key fails on the next one.

The request's workspace is the one named by `X-Ragis-Workspace`, else the API key's, else the
caller's personal one. A workspace the caller is not a member of answers 404, as if it did not
exist; a key made for one workspace answers 403 elsewhere. While RAGIS_AUTH is off every
request acts as the local user, owner of every workspace (default: `default`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request

from ragis.accounts import Principal
from ragis.contract import (
    DEFAULT_WORKSPACE,
    LOCAL_USER,
    WORKSPACE_HEADER,
    WORKSPACE_PATTERN,
    Caller,
    Role,
    WorkspaceRole,
)
from ragis.errors import Forbidden, InvalidName, NotFound, Unauthenticated
from ragis.gateway.deps import GatewayServices, services_of

__all__ = [
    "LOCAL",
    "SESSION_COOKIE",
    "Access",
    "AccessDep",
    "AdminDep",
    "EditorDep",
    "Identity",
    "IdentityDep",
    "OwnerDep",
    "Via",
    "ViewerDep",
    "client_address",
    "requested_workspace",
    "require_identity",
    "resolve",
]

#: The sign-in cookie (HttpOnly, SameSite=Lax; routes/auth.py sets it).
SESSION_COOKIE = "ragis_session"

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


@dataclass(frozen=True, slots=True)
class Resolved:
    """A request's caller, and the workspace it works in with the caller's role there (None:
    not a member)."""

    identity: Identity
    workspace: str
    workspace_role: WorkspaceRole | None


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


def client_address(request: Request) -> str:
    """The client's address (the proxy's client when RAGIS_TRUSTED_PROXIES trusts it)."""
    return request.client.host if request.client else "unknown"


async def resolve(request: Request) -> Resolved:
    """The request's caller, resolved once per request (several dependencies ask)."""
    cached: Resolved | None = getattr(request.state, "ragis_resolved", None)
    if cached is None:
        cached = await _resolve(request, services_of(request))
        request.state.ragis_resolved = cached
    return cached


async def _resolve(request: Request, services: GatewayServices) -> Resolved:
    accounts = services.accounts
    header = request.headers.get(WORKSPACE_HEADER)
    # A malformed header is refused by the dependencies that use the workspace; here it only
    # does not count.
    hint = header if header is not None and _WORKSPACE.fullmatch(header) else None
    if accounts is None:
        return Resolved(LOCAL, hint or DEFAULT_WORKSPACE, WorkspaceRole.OWNER)
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, secret = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("Send an API key as `Authorization: Bearer rgs_...`, or sign in.")
        return _resolved(await accounts.credentials.by_key(secret.strip(), hint), Via.KEY)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return _resolved(await accounts.credentials.by_login(cookie, hint), Via.SESSION)
    raise Unauthenticated("Sign in, or send an API key as `Authorization: Bearer rgs_...`.")


def _resolved(principal: Principal, via: Via) -> Resolved:
    identity = Identity(
        user=principal.user,
        role=principal.role,
        via=via,
        key_id=principal.key_id,
        key_workspace=principal.key_workspace,
    )
    return Resolved(identity, principal.workspace, principal.workspace_role)


async def _identity(request: Request) -> Identity:
    return (await resolve(request)).identity


async def require_identity(request: Request) -> None:
    """A router's dependency: the request must come from a signed-in caller (401)."""
    await resolve(request)


async def _admin(request: Request) -> Identity:
    identity = await _identity(request)
    if not identity.is_admin:
        raise Forbidden("Only an admin may do this.")
    return identity


async def _access_with(request: Request, needed: WorkspaceRole) -> Access:
    resolved = await resolve(request)
    requested = requested_workspace(request)  # a malformed header: 422
    identity = resolved.identity
    if identity.via is Via.OFF:
        return Access(identity, resolved.workspace, WorkspaceRole.OWNER)
    bound = identity.key_workspace
    if bound is not None and requested is not None and requested != bound:
        raise Forbidden(f"This API key works only in workspace {bound!r}.")
    role = resolved.workspace_role
    if role is None:
        # Not a member: as if it did not exist (its name tells nothing either way).
        raise NotFound(f"There is no workspace {resolved.workspace!r}.")
    if not role.allows(needed):
        raise Forbidden(
            f"You are {role.value} of workspace {resolved.workspace!r}: this needs "
            f"{needed.value} rights."
        )
    return Access(identity, resolved.workspace, role)


async def _access(request: Request) -> Access:
    return await _access_with(request, WorkspaceRole.VIEWER)


async def _editor(request: Request) -> Access:
    return await _access_with(request, WorkspaceRole.EDITOR)


async def _owner(request: Request) -> Access:
    return await _access_with(request, WorkspaceRole.OWNER)


IdentityDep = Annotated[Identity, Depends(_identity)]
AdminDep = Annotated[Identity, Depends(_admin)]
AccessDep = Annotated[Access, Depends(_access)]
ViewerDep = Annotated[Access, Depends(_access)]
EditorDep = Annotated[Access, Depends(_editor)]
OwnerDep = Annotated[Access, Depends(_owner)]
