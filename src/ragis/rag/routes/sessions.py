"""Chat sessions and the conversations they make: the caller's own, in the request's workspace
(another user's session is a 404, and never listed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from ragis.contract import (
    NAME_PATTERN,
    ConversationPublic,
    ConversationsPublic,
    ConversationUpdate,
    TruncateRequest,
)
from ragis.errors import NotFound
from ragis.rag.deps import CallerDep, WorkspaceStoreDep
from ragis.rag.schemas import ErrorPublic, MessagePublic, SessionPublic
from ragis.store import Store
from ragis.store.conversations import Conversation
from ragis.store.keys import ID_PATTERN as LONG_ID

router = APIRouter(tags=["sessions"])

#: Conversations listed at most (and by default) per request.
MAX_LISTED = 200
DEFAULT_LISTED = 100
#: The longest title search.
MAX_QUERY_CHARS = 200

SessionId = Annotated[str, Path(pattern=LONG_ID)]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorPublic},
    422: {"model": ErrorPublic},
}


def _no_session(session_id: str) -> NotFound:
    return NotFound(
        f"There is no session {session_id!r} (sessions expire after RAGIS_SESSION_TTL seconds "
        "without a message)."
    )


def public(conversation: Conversation) -> ConversationPublic:
    return ConversationPublic(
        session_id=conversation.session_id,
        title=conversation.title,
        collection=conversation.collection,
        created=conversation.created,
        updated=conversation.updated,
        messages=conversation.messages,
        ttl=conversation.ttl,
    )


async def _conversation(store: Store, session_id: str, user: str) -> ConversationPublic:
    found = await store.sessions.conversations.get(session_id, user=user)
    if found is None:
        raise _no_session(session_id)
    return public(found)


@router.get(
    "/sessions",
    response_model=ConversationsPublic,
    responses={422: {"model": ErrorPublic}},
    summary="The caller's conversations, newest first",
)
async def list_conversations(
    store: WorkspaceStoreDep,
    caller: CallerDep,
    collection: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LISTED)] = DEFAULT_LISTED,
) -> ConversationsPublic:
    """Those of `collection` only when given; `q` keeps the titles that hold it (any case).
    Conversations whose collection was deleted are left out, and forgotten."""
    found = await store.sessions.conversations.recent(
        user=caller.user, collection=collection, query=q or None, limit=limit
    )
    return ConversationsPublic(conversations=[public(c) for c in found])


@router.get(
    "/sessions/{session_id}",
    response_model=SessionPublic,
    responses=_ERRORS,
    summary="A chat session's messages, oldest first",
)
async def get_session(
    store: WorkspaceStoreDep, caller: CallerDep, session_id: SessionId
) -> SessionPublic:
    # Another user's session, even in this workspace, has no messages for this one: 404.
    messages = await store.sessions.history(session_id, user=caller.user)
    if not messages:
        # A conversation truncated to nothing is still there, with no messages.
        empty = await store.sessions.conversations.get(session_id, user=caller.user)
        if empty is None:
            raise _no_session(session_id)
        return SessionPublic(session_id=session_id, messages=[], ttl=empty.ttl)
    return SessionPublic(
        session_id=session_id,
        messages=[MessagePublic.model_validate(m.to_dict()) for m in messages],
        ttl=await store.sessions.ttl_of(session_id),
    )


@router.patch(
    "/sessions/{session_id}",
    response_model=ConversationPublic,
    responses=_ERRORS,
    summary="Rename a conversation",
)
async def rename_conversation(
    body: ConversationUpdate, store: WorkspaceStoreDep, caller: CallerDep, session_id: SessionId
) -> ConversationPublic:
    if not await store.sessions.conversations.rename(
        session_id, user=caller.user, title=body.title
    ):
        raise _no_session(session_id)
    return await _conversation(store, session_id, caller.user)


@router.post(
    "/sessions/{session_id}/truncate",
    response_model=ConversationPublic,
    responses=_ERRORS,
    summary="Keep a conversation's first messages (to retry or edit a question)",
)
async def truncate_session(
    body: TruncateRequest, store: WorkspaceStoreDep, caller: CallerDep, session_id: SessionId
) -> ConversationPublic:
    # Only a conversation (a session written since they exist) can be truncated and continued:
    # an older session truncated to nothing would leave nothing that says whose it was.
    await _conversation(store, session_id, caller.user)
    await store.sessions.truncate(session_id, body.keep, user=caller.user)
    return await _conversation(store, session_id, caller.user)


@router.delete(
    "/sessions/{session_id}",
    responses={404: {"model": ErrorPublic}},
    summary="Forget a chat session (and take it out of the list)",
)
async def delete_session(
    store: WorkspaceStoreDep, caller: CallerDep, session_id: SessionId
) -> dict[str, object]:
    if not await store.sessions.delete(session_id, user=caller.user):
        raise NotFound(f"There is no session {session_id!r}.")
    return {"deleted": True, "session_id": session_id}
