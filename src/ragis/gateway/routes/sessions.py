"""Chat sessions and the conversation list, passed through to the RAG service: the caller's own,
in the request's workspace (another user's session is a 404 and never listed). A viewer may ask
questions, so a viewer keeps, renames and deletes their own conversations too."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ragis.contract import ID_PATTERN as LONG_ID
from ragis.contract import NAME_PATTERN as NAME
from ragis.contract import ConversationUpdate, TruncateRequest
from ragis.gateway.deps import RagDep
from ragis.gateway.identity import ViewerDep
from ragis.gateway.schemas import (
    ConversationPublic,
    ConversationsPublic,
    ErrorPublic,
    SessionDeleted,
    SessionPublic,
)

router = APIRouter(prefix="/api/sessions", tags=["sessions"])

#: As the RAG service's: at most this many conversations per answer, titles searched this long.
MAX_LISTED = 200
MAX_QUERY_CHARS = 200

SessionId = Annotated[str, Path(pattern=LONG_ID)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic},
    422: {"model": ErrorPublic},
    503: {"model": ErrorPublic},
}


@router.get(
    "",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": ConversationsPublic},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="The caller's conversations in this workspace, newest first",
)
async def list_conversations(
    rag: RagDep,
    access: ViewerDep,
    collection: Annotated[
        str | None, Query(pattern=NAME, description="Only this collection's conversations.")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=MAX_QUERY_CHARS, description="Only titles holding this (any case)."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED, description="At most this many.")] = 100,
) -> dict[str, Any]:
    """Conversations whose collection was deleted are left out (and forgotten); expired ones
    leave by themselves (RAGIS_SESSION_TTL after their last message)."""
    return await rag.list_conversations(
        access.caller, collection=collection, query=q or None, limit=limit
    )


@router.get(
    "/{session_id}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={**_ERRORS, 200: {"model": SessionPublic}},
    summary="A chat session's messages, oldest first",
)
async def get_session(rag: RagDep, access: ViewerDep, session_id: SessionId) -> dict[str, Any]:
    return await rag.get_session(session_id, access.caller)


@router.patch(
    "/{session_id}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={**_ERRORS, 200: {"model": ConversationPublic}},
    summary="Rename a conversation",
)
async def rename_conversation(
    body: ConversationUpdate, rag: RagDep, access: ViewerDep, session_id: SessionId
) -> dict[str, Any]:
    return await rag.rename_conversation(session_id, body, access.caller)


@router.post(
    "/{session_id}/truncate",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={**_ERRORS, 200: {"model": ConversationPublic}},
    summary="Keep a conversation's first messages (to retry an answer or edit a question)",
)
async def truncate_session(
    body: TruncateRequest, rag: RagDep, access: ViewerDep, session_id: SessionId
) -> dict[str, Any]:
    """Keep the first `keep` messages; continue with the same session_id. A conversation
    truncated to 0 keeps its title and collection."""
    return await rag.truncate_session(session_id, body, access.caller)


@router.delete(
    "/{session_id}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": SessionDeleted},
        404: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Forget a chat session (and take it out of the list)",
)
async def delete_session(rag: RagDep, access: ViewerDep, session_id: SessionId) -> dict[str, Any]:
    return await rag.delete_session(session_id, access.caller)
