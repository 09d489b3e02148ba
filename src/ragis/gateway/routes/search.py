"""`POST /api/search`: the passages closest to a query in the request's workspace, without an
answer (the RAG service's `/search`, passed through). For tools that bring their own LLM or agent
(the MCP server's `search`); a viewer may search."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ragis.contract import SearchRequest, SearchResponse
from ragis.gateway.deps import RagDep
from ragis.gateway.identity import ViewerDep
from ragis.gateway.schemas import ErrorPublic
from ragis.web.openapi import json_error

router = APIRouter(prefix="/api/search", tags=["search"])


@router.post(
    "",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": SearchResponse},
        # The RAG service's refusals, passed through with their status and code.
        404: json_error("No such collection in the workspace.", ErrorPublic),
        413: json_error("The query is over RAGIS_MAX_MESSAGE_CHARS.", ErrorPublic),
        422: json_error("The request is invalid.", ErrorPublic),
        503: {"model": ErrorPublic},
    },
    summary="The passages closest to a query, without an answer",
    description="The same retrieval as a chat turn (mode, filter, top_k, the grounded gate's "
    "`grounded` and `best_score`), with no LLM call, no cache and no session.",
)
async def search(body: SearchRequest, rag: RagDep, access: ViewerDep) -> dict[str, Any]:
    return await rag.search(body.model_dump(mode="json", exclude_none=True), access.caller)
