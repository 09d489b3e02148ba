"""What the MCP tools answer: typed, so that each tool publishes an output schema and its result
travels as structured content (with the same JSON as text, for hosts that read only text)."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "Answer",
    "Citation",
    "CollectionInfo",
    "Collections",
    "DocumentInfo",
    "DocumentText",
    "Documents",
    "Ingested",
    "Passage",
    "PassageWindow",
    "SearchResult",
    "StoredPassage",
]


class Passage(BaseModel):
    n: int = Field(description="Rank, from 1.")
    document: str = Field(description="The document's file name.")
    doc_id: str
    page: int | None = Field(description="The page of a PDF; null for other types.")
    locator: str | None = Field(
        default=None,
        description="Where the passage is, finer than the page: `slide 4`, `Sheet1, rows "
        "2-41`, a chapter's title; null when the format has none.",
    )
    position: int = Field(description="The passage's place in its document, from 0.")
    score: float = Field(description="Similarity of passage and query, 0..1.")
    text: str


class SearchResult(BaseModel):
    collection: str
    query: str
    grounded: bool = Field(
        description="False: no passage is close enough to answer the query; the passages are "
        "the closest there are."
    )
    best_score: float | None
    partial: bool = Field(description="Part of the index did not answer: results may be missing.")
    passages: list[Passage]


class Citation(BaseModel):
    n: int = Field(description="The [n] the answer cites.")
    document: str
    doc_id: str
    page: int | None
    locator: str | None = None
    score: float
    text: str


class Answer(BaseModel):
    answer: str
    citations: list[Citation]
    grounded: bool = Field(
        description="False: the documents do not hold the answer (it says so; the citations are "
        "the closest passages)."
    )
    collection: str
    cache_hit: bool = Field(description="Answered from the semantic cache of earlier answers.")


class CollectionInfo(BaseModel):
    name: str
    documents: int
    passages: int


class Collections(BaseModel):
    collections: list[CollectionInfo]


class DocumentInfo(BaseModel):
    doc_id: str
    collection: str
    document: str = Field(description="The file name.")
    uri: str = Field(description="The document as an MCP resource (its text).")
    pages: int | None
    passages: int
    size: int = Field(description="Bytes of the uploaded file.")
    created: float = Field(description="Unix seconds.")
    status: str
    tags: list[str]


class Documents(BaseModel):
    documents: list[DocumentInfo]
    truncated: bool = Field(description="True: there are more than the listing shows.")


class StoredPassage(BaseModel):
    position: int
    page: int | None
    locator: str | None = None
    text: str


class PassageWindow(BaseModel):
    collection: str
    doc_id: str
    document: str
    position: int = Field(description="The passage asked for.")
    total: int = Field(description="How many passages the document has.")
    passages: list[StoredPassage] = Field(
        description="The passage and its neighbours, in order (neighbours overlap by a few words)."
    )


class DocumentText(BaseModel):
    collection: str
    doc_id: str
    document: str
    offset: int = Field(description="Where `text` starts in the document's text, in characters.")
    text: str
    truncated: bool = Field(description="True: the text goes on past `text`.")
    next_offset: int | None = Field(description="The offset to read on from; null at the end.")
    passages: int = Field(description="How many passages the document has.")


class Ingested(BaseModel):
    collection: str
    document: str = Field(description="The file name as stored.")
    doc_id: str
    uri: str = Field(description="The document as an MCP resource (its text).")
    passages: int
    pages: int | None
    duplicate: bool = Field(
        description="The same bytes were already there: nothing new was stored."
    )
