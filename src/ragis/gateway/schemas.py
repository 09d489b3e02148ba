"""Response models of the gateway: its own answers, and what it passes through from the RAG service.

The pass-through models (collections, documents, sessions, deletions and the chat stream's events)
only describe answers in the OpenAPI schema (`responses={200: {"model": ...}}`), from which the
web UI's types are generated (`ragis.gateway.openapi`); they do not filter them.
tests/gateway/test_openapi_types.py keeps them equal to what the RAG service really answers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

from ragis.rag.schemas import CitationPublic, ErrorBody, ErrorPublic, SessionPublic

__all__ = [
    "ChatEvent",
    "CitationPublic",
    "CitationsEvent",
    "CollectionDeleted",
    "CollectionPublic",
    "CollectionsPublic",
    "DocumentDeleted",
    "DocumentPublic",
    "DocumentsPublic",
    "DoneEvent",
    "ErrorBody",
    "ErrorEvent",
    "ErrorPublic",
    "FileFailed",
    "FileIndexed",
    "HealthPart",
    "HealthPublic",
    "LimitsPublic",
    "MetaEvent",
    "RagHealthPart",
    "SessionDeleted",
    "SessionPublic",
    "TokenEvent",
    "UploadPublic",
    "UploadTimings",
]


class UploadTimings(BaseModel):
    parse_ms: float = Field(description="Type detection, text extraction and hashing.")
    chunk_ms: float
    index_ms: float = Field(description="The RAG service's /index: embedding and writing.")
    total_ms: float


class FileIndexed(BaseModel):
    filename: str = Field(description="The sanitised name, for display only.")
    ok: Literal[True] = True
    document_id: str
    chunks: int
    pages: int | None = Field(description="Pages of a PDF; null for other types.")
    size: int
    content_type: str
    duplicate: bool = Field(
        description="The same bytes were already in the collection: nothing new was stored."
    )
    timings: UploadTimings


class FileFailed(BaseModel):
    filename: str
    ok: Literal[False] = False
    error: ErrorBody


class UploadPublic(BaseModel):
    collection: str
    results: list[FileIndexed | FileFailed] = Field(description="One per file, in upload order.")
    error: ErrorBody | None = Field(
        default=None, description="Only when every file failed: the first failure."
    )


class HealthPart(BaseModel):
    ok: bool
    detail: str


class RagHealthPart(HealthPart):
    url: str


class LimitsPublic(BaseModel):
    """What an upload may carry, so that a client can refuse a file before sending it."""

    max_upload_bytes: int
    max_files_per_upload: int


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    gateway: HealthPart
    rag: RagHealthPart
    redis: HealthPart
    embedder: HealthPart
    llm: HealthPart
    provider: str | None = Field(description="null when the RAG service does not answer.")
    model: str | None
    limits: LimitsPublic


# --- Passed through from the RAG service (described, not filtered) ------------------------------


class CollectionPublic(BaseModel):
    name: str
    model: str = Field(description="The embedding model of its vectors.")
    dim: int
    quantization: str
    documents: int
    chunks: int
    version: int = Field(description="Grows with every change of the collection's documents.")
    created: float = Field(description="Unix seconds.")
    shards: int


class CollectionsPublic(BaseModel):
    collections: list[CollectionPublic]


class CollectionDeleted(BaseModel):
    deleted: Literal[True]
    name: str
    keys_removed: int


class DocumentPublic(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    chunks: int
    pages: int | None
    created: float = Field(description="Unix seconds.")
    status: str
    tags: list[str]
    error: str | None = None


class DocumentsPublic(BaseModel):
    collection: str
    documents: list[DocumentPublic]


class DocumentDeleted(BaseModel):
    deleted: Literal[True]
    collection: str
    document_id: str
    version: int = Field(description="The collection's version after the deletion.")


class SessionDeleted(BaseModel):
    deleted: Literal[True]
    session_id: str


class MetaEvent(BaseModel):
    type: Literal["meta"]
    session_id: str = Field(description="The session to continue with (a new one if none given).")
    collection: str
    provider: str = Field(description="`openai`, `ollama` or `none` (retrieval-only).")
    model: str | None
    cache_hit: bool
    query: str = Field(description="The standalone query used for retrieval.")
    partial: bool = Field(
        description="A shard did not answer: the sources come from the others (not cached)."
    )


class CitationsEvent(BaseModel):
    type: Literal["citations"]
    citations: list[CitationPublic] = Field(description="`n` is the `[n]` the answer cites.")


class TokenEvent(BaseModel):
    type: Literal["token"]
    text: str = Field(description="The next piece of the answer.")


class DoneEvent(BaseModel):
    type: Literal["done"]
    timings: dict[str, float] = Field(
        description="Milliseconds: embed, cache, search, first_token, total (rewrite for a "
        "follow-up)."
    )
    cache_hit: bool


class ErrorEvent(BaseModel):
    type: Literal["error"]
    code: str = Field(description="Stable machine-readable name, e.g. `llm_unavailable`.")
    message: str = Field(description="A sentence for the user.")


class ChatEvent(
    RootModel[
        Annotated[
            MetaEvent | CitationsEvent | TokenEvent | DoneEvent | ErrorEvent,
            Field(discriminator="type"),
        ]
    ]
):
    """The JSON of one chat stream event's `data:` line; its `type` is also the `event:` name."""
