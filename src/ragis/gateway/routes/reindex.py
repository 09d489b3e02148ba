"""`POST /api/collections/{name}/reindex`: move a collection to another embedding model.

Only an owner of the workspace (or an admin) may: a reindex re-embeds every chunk, which costs
the embedding server's time and changes what every member's questions are embedded with. The
RAG service does the work (rag/routes/reindex.py); this route relays its NDJSON lines as they
come (contract/reindex.py). A client that leaves closes the upstream request, which stops the
reindex; run again with the same model, it resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator

import aiohttp
from fastapi import APIRouter, Path

from ragis.contract import NAME_PATTERN as NAME
from ragis.contract.reindex import ReindexRequest
from ragis.gateway.deps import RagDep
from ragis.gateway.identity import OwnerDep
from ragis.gateway.proxy import ProxyStreamResponse
from ragis.gateway.rag_client import ChatStream
from ragis.gateway.schemas import ErrorPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/collections", tags=["collections"])

NDJSON = "application/x-ndjson"
_BROKEN = (aiohttp.ClientError, TimeoutError, ConnectionError)

DESCRIPTION = """Re-embeds every chunk of the collection from its stored text with `model` (the
built-in model's name, `openai:<model>` or `ollama:<model>`; null: the RAG service's default)
into a new vector set beside the old one, then swaps them in one step. Questions are answered
from the old vectors meanwhile. The answer streams one JSON object per line:
`{"type": "progress", "done": n, "total": N}` after each written batch, then `{"type":
"result", ...}` or `{"type": "error", "status": int, "error": {code, message}}`. Closing the
stream stops the reindex; running it again with the same model resumes it. `restart` drops a
stopped reindex to another model; `force` re-embeds with the model the collection has."""


class NdjsonProxyResponse(ProxyStreamResponse):
    media_type = NDJSON


@router.post(
    "/{name}/reindex",
    response_model=None,
    responses={
        200: {"content": {NDJSON: {"schema": {"type": "object"}}}},
        401: {"model": ErrorPublic},
        403: {"model": ErrorPublic, "description": "Not an owner of the workspace"},
        404: {"model": ErrorPublic, "description": "No such collection in the workspace"},
        409: {"model": ErrorPublic, "description": "Model unavailable, or a reindex running"},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Re-embed a collection with another embedding model (owners only)",
    description=DESCRIPTION,
)
async def reindex_collection(
    body: ReindexRequest, rag: RagDep, access: OwnerDep, name: str = Path(pattern=NAME)
) -> NdjsonProxyResponse:
    upstream = await rag.open_reindex(name, body.model_dump(mode="json"), access.caller)
    return NdjsonProxyResponse(_relay(upstream), on_close=upstream.aclose)


async def _relay(upstream: ChatStream) -> AsyncGenerator[bytes]:
    """The upstream's lines as they arrive; an error line if it breaks off before its end."""
    finished = False
    try:
        async for raw in upstream.response.content:
            if not raw.strip():
                continue
            finished = finished or b'"type":"result"' in raw or b'"type":"error"' in raw
            yield raw if raw.endswith(b"\n") else raw + b"\n"
    except _BROKEN as exc:
        if not finished:
            yield _broken(upstream.url, type(exc).__name__)
        return
    if not finished:
        yield _broken(upstream.url, "the stream ended before its result")


def _broken(url: str, reason: str) -> bytes:
    line = {
        "type": "error",
        "status": 502,
        "error": {
            "code": "upstream_error",
            "message": f"The RAG service at {url} broke off the reindex ({reason}); run it "
            "again to resume.",
        },
    }
    return json.dumps(line, separators=(",", ":")).encode() + b"\n"
