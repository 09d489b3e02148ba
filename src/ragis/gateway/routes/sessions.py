"""Chat sessions, passed through to the RAG service: the caller's own, in the request's workspace
(another user's session is a 404)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from ragis.contract import ID_PATTERN as LONG_ID
from ragis.gateway.deps import RagDep
from ragis.gateway.identity import ViewerDep
from ragis.gateway.schemas import ErrorPublic, SessionDeleted, SessionPublic

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


@router.get(
    "/{session_id}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": SessionPublic},
        404: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="A chat session's messages, oldest first",
)
async def get_session(
    rag: RagDep, access: ViewerDep, session_id: str = Path(pattern=LONG_ID)
) -> dict[str, Any]:
    return await rag.get_session(session_id, access.caller)


@router.delete(
    "/{session_id}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": SessionDeleted},
        404: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Forget a chat session",
)
async def delete_session(
    rag: RagDep, access: ViewerDep, session_id: str = Path(pattern=LONG_ID)
) -> dict[str, Any]:
    return await rag.delete_session(session_id, access.caller)
