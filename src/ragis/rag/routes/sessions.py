from __future__ import annotations

from fastapi import APIRouter, Path

from ragis.errors import NotFound
from ragis.rag.deps import CallerDep, WorkspaceStoreDep
from ragis.rag.schemas import ErrorPublic, MessagePublic, SessionPublic
from ragis.store.keys import ID_PATTERN as LONG_ID

router = APIRouter(tags=["sessions"])


@router.get(
    "/sessions/{session_id}",
    response_model=SessionPublic,
    responses={404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
    summary="A chat session's messages, oldest first",
)
async def get_session(
    store: WorkspaceStoreDep, caller: CallerDep, session_id: str = Path(pattern=LONG_ID)
) -> SessionPublic:
    # Another user's session, even in this workspace, has no messages for this one: 404.
    messages = await store.sessions.history(session_id, user=caller.user)
    if not messages:
        raise NotFound(
            f"There is no session {session_id!r} (sessions expire 24 h after their last message)."
        )
    return SessionPublic(
        session_id=session_id,
        messages=[MessagePublic.model_validate(m.to_dict()) for m in messages],
        ttl=await store.sessions.ttl_of(session_id),
    )


@router.delete(
    "/sessions/{session_id}",
    responses={404: {"model": ErrorPublic}},
    summary="Forget a chat session",
)
async def delete_session(
    store: WorkspaceStoreDep, caller: CallerDep, session_id: str = Path(pattern=LONG_ID)
) -> dict[str, object]:
    if not await store.sessions.delete(session_id, user=caller.user):
        raise NotFound(f"There is no session {session_id!r}.")
    return {"deleted": True, "session_id": session_id}
