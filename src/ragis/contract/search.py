"""Passages without an answer: a search (`POST /search`), and a document's stored passages read
in order (`GET /collections/{name}/documents/{doc_id}/passages`).

Both serve clients that bring their own LLM or agent (the MCP server's `search`, `get_passage`
and `get_document` tools): the same retrieval as a chat turn, no LLM call, nothing cached.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ragis.contract.chat import ChatFilter, Leg, RetrievalMode
from ragis.contract.documents import DocumentPublic
from ragis.contract.fields import Name, OptionalJsonInt, Strict, Text

__all__ = [
    "MAX_PASSAGES_PER_READ",
    "DocumentPassages",
    "PassagePublic",
    "SearchRequest",
    "SearchResponse",
    "StoredPassage",
]

#: At most this many passages in one read of a document's passages.
MAX_PASSAGES_PER_READ = 200


class SearchRequest(Strict):
    query: Text = Field(min_length=1)
    collection: Name | None = None
    top_k: OptionalJsonInt = Field(default=None, ge=1, le=50)
    filter: ChatFilter | None = None
    retrieval: RetrievalMode | None = Field(
        default=None,
        description="`hybrid`, `vector` or `lexical`; leave out for the service's RAGIS_RETRIEVAL.",
    )


class PassagePublic(BaseModel):
    n: int = Field(description="Rank, from 1.")
    doc_id: str
    filename: str
    page: int | None
    position: int = Field(description="The passage's place in its document, from 0.")
    score: float = Field(description="Similarity of passage and query, 0..1.")
    text: str
    legs: list[Leg] = Field(description="Which legs of retrieval found the passage.")
    locator: str | None = Field(
        default=None, description="Where the passage is, finer than `page` (`slide 4`, ...)."
    )


class SearchResponse(BaseModel):
    collection: str
    query: str
    retrieval: RetrievalMode = Field(description="The mode that found the passages.")
    partial: bool = Field(description="A shard did not answer: the passages come from the others.")
    grounded: bool = Field(
        description="False: no passage is close enough to the query to answer it (the passages "
        "are the closest there are)."
    )
    best_score: float | None
    passages: list[PassagePublic]


class StoredPassage(BaseModel):
    position: int
    page: int | None
    text: str
    locator: str | None = None


class DocumentPassages(BaseModel):
    collection: str
    document: DocumentPublic
    start: int = Field(description="The position of the first passage asked for.")
    total: int = Field(description="How many passages the document has.")
    passages: list[StoredPassage] = Field(
        description="The passages from `start` on, in order (consecutive passages overlap by a "
        "few words)."
    )
