"""`/v1`: the OpenAI-compatible API, for clients that speak OpenAI's chat completions.

    GET  /v1/models             one model per collection of the workspace, and `ragis`
    GET  /v1/models/{model}     one of them
    POST /v1/chat/completions   a chat turn through the same pipeline as /api/chat/stream

Sign-in and workspace are the rest of the API's (an API key as `Authorization: Bearer rgs_...`,
`X-Ragis-Workspace`); errors are OpenAI's shape (`ragis.gateway.openai_api.errors`). The answer
is the RAG service's stream, relayed as it arrives and translated event by event
(`ragis.gateway.openai_api.translate`); a client that leaves, streaming or not, closes the
upstream at once, so the RAG service cancels its LLM call. See docs/openai-api.md.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from ragis.contract import Caller
from ragis.gateway.deps import RagDep, SettingsDep, services_of
from ragis.gateway.identity import ViewerDep
from ragis.gateway.openai_api import (
    DEFAULT_MODEL,
    ChatCompletion,
    ChatCompletionRequest,
    CollectedResponse,
    ModelList,
    ModelNotFound,
    ModelPublic,
    OpenAIRoute,
    StreamFailed,
    Turn,
    Usage,
    UsageEstimator,
    collect,
    completion,
    error_for,
    error_response,
    model_id,
    stream_chunks,
    to_chat_request,
)
from ragis.gateway.proxy import ProxyStreamResponse, relay
from ragis.gateway.rag_client import RagClient

router = APIRouter(prefix="/v1", tags=["openai"], route_class=OpenAIRoute)

# Every error, in OpenAI's shape; "default" also keeps FastAPI from documenting a 422, which
# /v1 never answers (OpenAI says 400).
_ERROR = {
    "description": 'Any error, in OpenAI\'s shape: `{"error": {"message", "type", "code", '
    '"param"}}` (docs/openai-api.md lists the statuses).',
    "content": {"application/json": {"schema": {"type": "object"}}},
}
_ROUTES = {"/v1/models": "GET", "/v1/chat/completions": "POST"}
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

STREAM_DOC = """`stream: false`: one `chat.completion` (JSON). `stream: true`:
`chat.completion.chunk` events (`data: {...}` lines), the Sources block as the last content
delta, then a chunk with `finish_reason: "stop"` and the `ragis` field, a usage chunk if
`stream_options.include_usage`, then `data: [DONE]`; an error after the stream began is
`data: {"error": {...}}`, then the end.
The answer text ends with a "Sources" block; `ragis` carries the citations."""


async def _usage(request: Request) -> UsageEstimator:
    return UsageEstimator(services_of(request).pipeline.chunker)


UsageDep = Annotated[UsageEstimator, Depends(_usage)]


@router.get(
    "/models",
    response_model=ModelList,
    responses={"default": _ERROR},
    summary="The models: `ragis` and one `ragis/<collection>` per collection",
)
async def list_models(rag: RagDep, access: ViewerDep) -> ModelList:
    return ModelList(object="list", data=await _models(rag, access.caller))


@router.get(
    "/models/{model:path}",
    response_model=ModelPublic,
    responses={"default": _ERROR},
    summary="One model",
)
async def get_model(
    rag: RagDep, access: ViewerDep, model: Annotated[str, Path(max_length=256)]
) -> ModelPublic:
    for known in await _models(rag, access.caller):
        if known.id == model:
            return known
    raise ModelNotFound(f"The model {model[:80]!r} does not exist: GET /v1/models lists them.")


@router.post(
    "/chat/completions",
    response_model=None,
    responses={
        200: {
            "model": ChatCompletion,
            "description": STREAM_DOC,
            # Each `data:` line is a `chat.completion.chunk` (FastAPI would say "string", the
            # stream's type; a $ref here would name a schema no route puts in the components).
            "content": {"text/event-stream": {"schema": {"type": "object"}}},
        },
        "default": _ERROR,
    },
    summary="Ask the documents, as OpenAI's chat completions",
)
async def chat_completions(
    request: Request,
    body: ChatCompletionRequest,
    rag: RagDep,
    settings: SettingsDep,
    usage: UsageDep,
    access: ViewerDep,
) -> Response:
    turn_request = to_chat_request(body)
    # A refusal (404, 409, 413, 422) or the RAG service down (503) raises: answered as JSON.
    upstream = await rag.open_chat(turn_request.model_dump(exclude_none=True), access.caller)
    turn = Turn(model=body.model)
    events = relay(upstream, heartbeat_seconds=settings.sse_heartbeat)
    if body.stream:

        async def estimate(turn: Turn) -> Usage:
            return await usage.estimate(turn_request, turn)

        chunks = stream_chunks(events, turn, usage=estimate if body.include_usage else None)
        return ProxyStreamResponse(chunks, on_close=upstream.aclose)

    async def answer() -> Response:
        try:
            async with contextlib.aclosing(events):
                await collect(events, turn)
            done = completion(turn, await usage.estimate(turn_request, turn))
        except StreamFailed as exc:
            return error_response(exc.status, exc.code, exc.message)
        except Exception as exc:  # run in a task group: answered here, not by the route class
            return error_for(request, exc)
        return JSONResponse(done.model_dump(mode="json"))

    return CollectedResponse(answer, on_close=upstream.aclose)


@router.api_route("", methods=_METHODS, include_in_schema=False)
@router.api_route("/{path:path}", methods=_METHODS, include_in_schema=False)
async def elsewhere(request: Request) -> JSONResponse:
    """Any other path under /v1 (embeddings, the Assistants API, ...), in OpenAI's shape."""
    path = request.url.path
    if path in _ROUTES:
        allowed = _ROUTES[path]
        message = f"{path} does not take {request.method}; it takes {allowed}."
        return error_response(405, "method_not_allowed", message, {"Allow": allowed})
    message = (
        f"There is no endpoint {request.method} {path[:200]}: ragis serves GET /v1/models and "
        "POST /v1/chat/completions."
    )
    return error_response(404, "not_found", message)


async def _models(rag: RagClient, caller: Caller) -> list[ModelPublic]:
    answer = await rag.list_collections(caller)
    models = [ModelPublic(id=DEFAULT_MODEL, object="model", created=0, owned_by="ragis")]
    for collection in answer.get("collections", []):
        models.append(
            ModelPublic(
                id=model_id(str(collection["name"])),
                object="model",
                created=int(collection.get("created") or 0),
                owned_by="ragis",
            )
        )
    return models
