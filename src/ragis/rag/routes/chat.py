from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter

from ragis.obs import hooks
from ragis.rag.chat import ChatService, ChatTurn
from ragis.rag.deps import CallerDep, ChatDep
from ragis.rag.schemas import ChatRequest, ErrorPublic
from ragis.store import NO_FILTER, Message, SearchFilter
from ragis.web.openapi import event_stream, json_error
from ragis.web.sse import EventStreamResponse, encode_event

router = APIRouter(tags=["chat"])

STREAM_DOC = """Server-Sent Events, each `data:` line a JSON object with a `type`, in this order:
`meta` {session_id (null for a stateless turn: `history` given), collection, provider, model,
cache_hit, query, partial, retrieval, grounded, best_score, scope}; `citations` {citations: [{n,
doc_id, filename, page, score, text, legs}]}; any number of `token` {text}; then `done`
{timings: {embed, cache, search, first_token, total[, rewrite, summarise]} in ms, cache_hit} —
or `error` {code, message} at any point, after which the stream ends."""


@router.post(
    "/chat/stream",
    response_class=EventStreamResponse,
    response_model=None,
    responses={
        # Refusals come before the stream starts: JSON with their status, not an event stream.
        200: event_stream(STREAM_DOC),
        404: json_error(
            "The collection, the session, or the one document of a whole-document question "
            "does not exist.",
            ErrorPublic,
        ),
        409: json_error("The session belongs to another collection.", ErrorPublic),
        413: json_error("The message is over RAGIS_MAX_MESSAGE_CHARS.", ErrorPublic),
        422: json_error(
            "The request is invalid (e.g. both `history` and `session_id`; a `model` the "
            "provider does not list: `unknown_model`).",
            ErrorPublic,
        ),
    },
    summary="Answer a question from the collection, streamed",
)
async def chat_stream(body: ChatRequest, chat: ChatDep, caller: CallerDep) -> EventStreamResponse:
    flt = (
        SearchFilter(doc_ids=tuple(body.filter.doc_ids), tags=tuple(body.filter.tags))
        if body.filter
        else NO_FILTER
    )
    turn = await chat.prepare(
        body.message,
        session_id=body.session_id,
        collection=body.collection,
        top_k=body.top_k,
        flt=flt,
        caller=caller,
        retrieval=body.retrieval,
        # An inline message has no time of its own: the turn's history is not kept anywhere.
        history=(
            [Message(m.role, m.content, 0.0) for m in body.history]
            if body.history is not None
            else None
        ),
        temperature=body.temperature,
        max_tokens=body.max_tokens,
        model=body.model,
        fresh=bool(body.fresh),
    )
    return EventStreamResponse(_encode(chat, turn))


async def _encode(chat: ChatService, turn: ChatTurn) -> AsyncIterator[bytes]:
    # Closed with this stream, not whenever it is collected: a turn the client left is stored
    # (as stopped) before the response ends.
    async with contextlib.aclosing(chat.events(turn)) as events:
        async for event, data in events:
            hooks.chat_event(event, data)  # metrics and spans of the turn (ragis.obs)
            yield encode_event(event, data)
