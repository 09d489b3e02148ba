"""`POST /search`: the passages a chat turn would cite for a query, with their scores, and no
answer (rag/search.py). For clients that bring their own LLM or agent."""

from __future__ import annotations

from fastapi import APIRouter

from ragis.rag.deps import CallerDep, SearchDep
from ragis.rag.schemas import ErrorPublic, PassagePublic, SearchRequest, SearchResponse
from ragis.store import NO_FILTER, RetrievedChunk, SearchFilter
from ragis.web.openapi import json_error

router = APIRouter(tags=["search"])


@router.post(
    "/search",
    response_model=SearchResponse,
    responses={
        404: json_error("The collection does not exist.", ErrorPublic),
        413: json_error("The query is over RAGIS_MAX_MESSAGE_CHARS.", ErrorPublic),
        422: json_error("The request is invalid.", ErrorPublic),
    },
    summary="The passages closest to a query, without an answer",
)
async def search(body: SearchRequest, searcher: SearchDep, caller: CallerDep) -> SearchResponse:
    flt = (
        SearchFilter(doc_ids=tuple(body.filter.doc_ids), tags=tuple(body.filter.tags))
        if body.filter
        else NO_FILTER
    )
    result = await searcher.search(
        body.query,
        caller,
        collection=body.collection,
        top_k=body.top_k,
        flt=flt,
        retrieval=body.retrieval,
    )
    found = result.found
    best = found.grounding.best_score
    return SearchResponse(
        collection=result.collection,
        query=result.query,
        retrieval=found.mode,
        partial=found.partial,
        grounded=found.grounding.grounded,
        best_score=round(best, 4) if best is not None else None,
        passages=[_passage(n, r) for n, r in enumerate(found.chunks, start=1)],
    )


def _passage(n: int, found: RetrievedChunk) -> PassagePublic:
    return PassagePublic(
        n=n,
        doc_id=found.chunk.doc_id,
        filename=found.filename,
        page=found.chunk.page,
        locator=found.chunk.locator,
        position=found.chunk.position,
        score=round(found.score, 4),
        text=found.chunk.text,
        legs=list(found.legs),
    )
