"""`GET /api/audit`, for admins: the audit trail, newest first, a page at a time."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ragis.accounts.audit import STREAM_ID_PATTERN
from ragis.gateway.account_schemas import ACCOUNT_ERRORS, AuditEventPublic, AuditPublic
from ragis.gateway.deps import AccountsDep
from ragis.gateway.identity import AdminDep
from ragis.gateway.schemas import ErrorPublic

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["audit"], responses=ACCOUNT_ERRORS)


@router.get(
    "/audit",
    response_model=AuditPublic,
    responses={403: {"model": ErrorPublic, "description": "Not an admin"}},
    summary="Who did what, when (newest first; `before`: the last id of the previous page)",
)
async def audit(
    admin: AdminDep,
    accounts: AccountsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[str | None, Query(pattern=STREAM_ID_PATTERN)] = None,
) -> AuditPublic:
    events = await accounts.audit.recent(limit, before)
    return AuditPublic(
        events=[
            AuditEventPublic(
                id=e.id,
                time=e.time,
                actor=e.actor,
                action=e.action,
                target=e.target,
                workspace=e.workspace,
                address=e.address,
                ok=e.ok,
            )
            for e in events
        ]
    )
