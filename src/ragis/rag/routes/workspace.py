"""Removing a whole workspace's data (the gateway calls it when a user or workspace goes)."""

from __future__ import annotations

from fastapi import APIRouter

from ragis.rag.deps import CallerDep, StoreDep
from ragis.rag.schemas import ErrorPublic

router = APIRouter(tags=["workspace"])


@router.delete(
    "/workspace",
    responses={422: {"model": ErrorPublic}},
    summary="Remove every collection, document, cached answer and session of the workspace",
)
async def delete_workspace(store: StoreDep, caller: CallerDep) -> dict[str, object]:
    removed = await store.workspaces.delete(caller.workspace)
    return {"deleted": True, "workspace": caller.workspace, "keys_removed": removed}
