"""API keys of the caller: `POST /api/keys` (the key is shown once), `GET /api/keys`,
`DELETE /api/keys/{id}` (effective on the next request; an admin may revoke anyone's)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request

from ragis.accounts import ApiKey
from ragis.errors import NotFound
from ragis.gateway.account_schemas import (
    ACCOUNT_ERRORS,
    KeyCreate,
    KeyCreated,
    KeyPublic,
    KeyRevoked,
    KeysPublic,
)
from ragis.gateway.audit_trail import Action, record
from ragis.gateway.deps import AccountsDep
from ragis.gateway.identity import IdentityDep
from ragis.gateway.schemas import ErrorPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/keys", tags=["keys"], responses=ACCOUNT_ERRORS)

KEY_ID = r"^[0-9a-f]{1,64}$"


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    responses={
        404: {"model": ErrorPublic, "description": "Not a workspace of yours"},
        409: {"model": ErrorPublic, "description": "100 keys already, or sign-in is off"},
    },
    summary="Make an API key (shown once: copy it now)",
)
async def create_key(
    body: KeyCreate, identity: IdentityDep, accounts: AccountsDep, request: Request
) -> KeyCreated:
    if body.workspace is not None:
        if await accounts.workspaces.role_of(identity.user, body.workspace) is None:
            raise NotFound(f"There is no workspace {body.workspace!r}.")
        if identity.key_workspace not in (None, body.workspace):
            raise NotFound(f"There is no workspace {body.workspace!r}.")
    # A key bound to one workspace makes keys bound to it too, never wider ones.
    workspace = body.workspace or identity.key_workspace
    made = await accounts.keys.create(identity.user, body.name, workspace)
    await record(request, Action.KEY_CREATED, identity, made.key.id, workspace=workspace)
    key = made.key
    return KeyCreated(
        id=key.id,
        key=made.secret,
        name=key.name,
        workspace=key.workspace,
        created=key.created,
        prefix=key.prefix,
    )


@router.get("", response_model=KeysPublic, summary="Your API keys (never the keys themselves)")
async def list_keys(identity: IdentityDep, accounts: AccountsDep) -> KeysPublic:
    return KeysPublic(keys=[_public(k) for k in await accounts.keys.all(identity.user)])


@router.delete(
    "/{key_id}",
    response_model=KeyRevoked,
    responses={404: {"model": ErrorPublic}},
    summary="Revoke an API key (it fails from the next request on)",
)
async def revoke_key(
    identity: IdentityDep,
    accounts: AccountsDep,
    request: Request,
    key_id: str = Path(pattern=KEY_ID),
) -> KeyRevoked:
    key = await accounts.keys.revoke(key_id, actor=identity.user, admin=identity.is_admin)
    await record(request, Action.KEY_REVOKED, identity, f"{key.user}/{key.id}")
    return KeyRevoked(id=key.id)


def _public(key: ApiKey) -> KeyPublic:
    return KeyPublic(
        id=key.id,
        name=key.name,
        workspace=key.workspace,
        created=key.created,
        prefix=key.prefix,
        last_used=key.last_used,
    )
