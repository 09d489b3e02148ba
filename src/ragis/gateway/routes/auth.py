"""Signing in and out, and who am I: `POST /api/auth/login`, `POST /api/auth/logout`,
`GET /api/me`.

The session cookie is HttpOnly (no script reads it), SameSite=Lax (no cross-site POST carries
it), Path=/, Max-Age RAGIS_LOGIN_TTL, and Secure when the request came over https (directly, or
through a proxy RAGIS_TRUSTED_PROXIES trusts). A password is never logged: only the username
and the outcome reach the audit.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from ragis.gateway.account_schemas import LoggedOut, LoginRequest, MePublic, MeWorkspace
from ragis.gateway.audit_trail import Action, record
from ragis.gateway.deps import AccountsDep, services_of
from ragis.gateway.identity import SESSION_COOKIE, IdentityDep, Via, client_address, resolve
from ragis.gateway.schemas import ErrorPublic

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["auth"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "Wrong username or password"},
    409: {"model": ErrorPublic, "description": "Sign-in is off (RAGIS_AUTH)"},
    503: {"model": ErrorPublic, "description": "Redis does not answer"},
    429: {"model": ErrorPublic, "description": "Too many failed sign-ins: see Retry-After"},
}


@router.post(
    "/auth/login",
    response_model=MePublic,
    responses=_ERRORS,
    summary="Sign in: sets the session cookie and returns who you are",
)
async def login(
    body: LoginRequest, request: Request, response: Response, accounts: AccountsDep
) -> MePublic:
    user, token = await accounts.sign_in(
        body.username.strip().lower(), body.password, client_address(request)
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=accounts.policy.ttl,
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    memberships = await accounts.workspaces.memberships(user.name)
    return MePublic(
        username=user.name,
        role=user.role,
        auth="on",
        via="session",
        workspace=user.name,
        workspaces=[
            MeWorkspace(name=m.workspace, role=m.role, personal=m.personal) for m in memberships
        ],
    )


@router.post(
    "/auth/logout",
    response_model=LoggedOut,
    responses={503: {"model": ErrorPublic, "description": "Redis does not answer"}},
    summary="Sign out: ends the session",
)
async def logout(request: Request, response: Response) -> LoggedOut:
    accounts = services_of(request).accounts
    token = request.cookies.get(SESSION_COOKIE)
    if accounts is not None and token:
        user = await accounts.logins.end(token)
        if user is not None:
            await record(request, Action.LOGOUT, user, user)
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=request.url.scheme == "https", httponly=True,
        samesite="lax",
    )  # fmt: skip
    return LoggedOut()


@router.get(
    "/me",
    response_model=MePublic,
    responses={
        401: {"model": ErrorPublic, "description": "No valid session or API key"},
        503: {"model": ErrorPublic, "description": "Redis does not answer"},
    },
    summary="Who you are, your role, and your workspaces",
)
async def me(identity: IdentityDep, request: Request) -> MePublic:
    resolved = await resolve(request)
    accounts = services_of(request).accounts
    if accounts is None or identity.via is Via.OFF:
        return MePublic(
            username=identity.user,
            role=identity.role,
            auth="off",
            via="off",
            workspace=resolved.workspace,
            workspaces=[MeWorkspace(name=resolved.workspace, role="owner", personal=False)],
        )
    memberships = await accounts.workspaces.memberships(identity.user)
    return MePublic(
        username=identity.user,
        role=identity.role,
        auth="on",
        via=identity.via.value,
        workspace=resolved.workspace,
        workspaces=[
            MeWorkspace(name=m.workspace, role=m.role, personal=m.personal)
            for m in memberships
            if identity.key_workspace is None or m.workspace == identity.key_workspace
        ],
    )
