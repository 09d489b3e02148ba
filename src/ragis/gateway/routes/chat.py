"""`POST /api/chat/stream`: the RAG service's answer stream, relayed event by event."""

from __future__ import annotations

from fastapi import APIRouter

from ragis.contract import ChatRequest
from ragis.errors import UpstreamError
from ragis.gateway.deps import RagDep, SettingsDep
from ragis.gateway.identity import ViewerDep
from ragis.gateway.proxy import ProxyStreamResponse, failure_stream, relay
from ragis.gateway.rag_client import RagAnswerError
from ragis.gateway.schemas import ChatEvent, ErrorPublic
from ragis.web.openapi import json_error
from ragis.web.sse import EventStreamResponse

router = APIRouter(prefix="/api/chat", tags=["chat"])

STREAM_DOC = """Server-Sent Events relayed from the RAG service as they arrive: `meta`, `citations`,
any number of `token`, then `done` — or `error` {code, message} at any point, after which the
stream ends. SSE comments (`: keep-alive`) come while the answer is slow to start. The RAG service
refusing the question (unknown collection 404, a session of another collection 409, message too
long 413, bad request 422) is passed through as JSON with its status; the RAG service being down
or failing (connection refused, 5xx, a stream cut in the middle) is a 200 stream with one `error`
event."""


@router.post(
    "/stream",
    response_class=EventStreamResponse,
    response_model=None,
    responses={
        200: {
            "model": ChatEvent,
            "description": STREAM_DOC,
            # Each event's `data:` line (FastAPI would say "string", the stream's type).
            "content": {"text/event-stream": {"schema": {"type": "object"}}},
        },
        # The RAG service's refusals, passed through before any event: JSON, not a stream.
        404: json_error(
            "The collection, the session, or the one document of a whole-document question "
            "does not exist.",
            ErrorPublic,
        ),
        409: json_error("The session belongs to another collection.", ErrorPublic),
        413: json_error("The message is over RAGIS_MAX_MESSAGE_CHARS.", ErrorPublic),
        422: json_error("The request is invalid.", ErrorPublic),
    },
    summary="Ask a question; the answer streams with its citations",
)
async def chat_stream(
    body: ChatRequest, rag: RagDep, settings: SettingsDep, access: ViewerDep
) -> EventStreamResponse:
    try:
        upstream = await rag.open_chat(body.model_dump(exclude_none=True), access.caller)
    except RagAnswerError as exc:
        if exc.status < 500:
            raise
        return EventStreamResponse(failure_stream(exc.code, exc.message))
    except UpstreamError as exc:
        return EventStreamResponse(failure_stream(exc.code, exc.message))
    return ProxyStreamResponse(
        relay(upstream, heartbeat_seconds=settings.sse_heartbeat), on_close=upstream.aclose
    )
