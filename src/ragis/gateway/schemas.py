"""Response models of the gateway: its own answers, and what it passes through from the RAG service.

The pass-through models (collections, documents, sessions, deletions and the chat stream's events)
are the shared contract's (`ragis.contract`), the very models the RAG service answers with,
re-exported here. They only describe answers in the OpenAPI schema (`responses={200: {"model":
...}}`), from which the web UI's types are generated (`ragis.gateway.openapi`); they do not filter
them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, RootModel

from ragis.contract import (
    ChatEvent,
    CitationPublic,
    CitationsEvent,
    CollectionDeleted,
    CollectionPublic,
    CollectionsPublic,
    ConversationPublic,
    ConversationsPublic,
    DocumentDeleted,
    DocumentPublic,
    DocumentsPublic,
    DoneEvent,
    ErrorBody,
    ErrorEvent,
    ErrorPublic,
    HealthPart,
    MetaEvent,
    SessionDeleted,
    SessionPublic,
    TokenEvent,
)

__all__ = [
    "ChatEvent",
    "CitationPublic",
    "CitationsEvent",
    "CollectionDeleted",
    "CollectionPublic",
    "CollectionsPublic",
    "ConversationPublic",
    "ConversationsPublic",
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
    "HealthStatus",
    "LimitsPublic",
    "MetaEvent",
    "RagHealthPart",
    "SessionDeleted",
    "SessionPublic",
    "TokenEvent",
    "UploadDoneEvent",
    "UploadEvent",
    "UploadFileEvent",
    "UploadProgressEvent",
    "UploadPublic",
    "UploadStageEvent",
    "UploadTimings",
]


class UploadTimings(BaseModel):
    parse_ms: float = Field(description="Type detection, text extraction and hashing.")
    chunk_ms: float
    index_ms: float = Field(description="The RAG service's /index: embedding and writing.")
    total_ms: float


class AttachmentIndexed(BaseModel):
    """A file carried inside an upload (an e-mail's attachment), ingested as its own document
    with the source `<the upload's source or name>#<its name>`."""

    filename: str
    ok: bool
    document_id: str | None = None
    chunks: int = 0
    duplicate: bool = False
    error: ErrorBody | None = Field(default=None, description="Why it was not ingested.")


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
    retired: str | None = Field(
        default=None,
        description="The document `replaces` named, now removed (null: none was ready).",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What of the file could not be read, e.g. scanned PDF pages without OCR.",
    )
    attachments: list[AttachmentIndexed] = Field(
        default_factory=list,
        description="The files it carried (an e-mail's attachments of types ragis reads), each "
        "its own document.",
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


# --- The SSE form of an upload (`Accept: text/event-stream`) ------------------------------


class UploadStageEvent(BaseModel):
    type: Literal["stage"]
    index: int = Field(description="The file's place in the upload, from 0.")
    file: str = Field(description="The file's sanitised name.")
    stage: Literal["upload", "parse", "chunk", "embed", "done"] = Field(
        description="`upload`: received; `parse`: text being extracted; `chunk`: being split; "
        "`embed`: being embedded and written (`progress` events follow); `done`: indexed."
    )


class UploadProgressEvent(BaseModel):
    type: Literal["progress"]
    index: int
    file: str
    embedded: int = Field(description="Chunks embedded and written so far.")
    total: int = Field(description="Chunks of the file.")
    eta_ms: int | None = Field(
        description="An estimate of the milliseconds left, from the pace so far; null until "
        "there is a pace to go by."
    )


class UploadFileEvent(BaseModel):
    type: Literal["file"]
    index: int
    result: FileIndexed | FileFailed = Field(description="As in the JSON answer's `results`.")


class UploadDoneEvent(BaseModel):
    type: Literal["done"]
    upload: UploadPublic = Field(description="The JSON answer, `error` set if every file failed.")


class UploadEvent(
    RootModel[
        Annotated[
            UploadStageEvent | UploadProgressEvent | UploadFileEvent | UploadDoneEvent,
            Field(discriminator="type"),
        ]
    ]
):
    """The JSON of one upload stream event's `data:` line; its `type` is also the `event:`
    name."""


class RagHealthPart(HealthPart):
    url: str


class LimitsPublic(BaseModel):
    """What an upload or a question may carry, so that a client can refuse it before sending it."""

    max_upload_bytes: int
    max_files_per_upload: int
    max_message_chars: int | None = Field(
        default=None,
        description="The longest question the RAG service accepts (RAGIS_MAX_MESSAGE_CHARS); "
        "null while it does not answer.",
    )


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


class HealthStatus(BaseModel):
    """What `/api/health` tells a caller without credentials while sign-in is on: only
    whether ragis works (for a load balancer), nothing of its parts."""

    status: Literal["ok", "degraded"]
