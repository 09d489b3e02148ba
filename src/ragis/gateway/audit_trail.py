"""Recording what a request did in the audit trail (`ragis.accounts.audit`), from any route.

    await audit_trail.record(request, Action.DOCUMENT_DELETED, access.identity, doc_id,
                             workspace=access.workspace)

Nothing is recorded while RAGIS_AUTH is off (there are no accounts to record in).
"""

from __future__ import annotations

from fastapi import Request

from ragis.accounts import Action
from ragis.gateway.deps import services_of
from ragis.gateway.identity import Identity, client_address

__all__ = ["Action", "record"]


async def record(
    request: Request,
    action: Action,
    identity: Identity | str,
    target: str = "",
    *,
    workspace: str | None = None,
    ok: bool = True,
) -> None:
    accounts = services_of(request).accounts
    if accounts is None:
        return
    actor = identity if isinstance(identity, str) else identity.user
    await accounts.audit.record(
        action,
        actor=actor,
        target=target,
        workspace=workspace,
        address=client_address(request),
        ok=ok,
    )
