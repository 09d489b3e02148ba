"""Request and response models of the RAG service, split by direction (`*Request`, `*Public`).

What the gateway also sends or reads lives in the shared contract (`ragis.contract`) and is
re-exported here; the rest (`/embed`, the service's own health answer) is the RAG service's alone.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ragis.contract import (
    ChatFilter,
    ChatRequest,
    ChunkIn,
    CitationPublic,
    DocumentIn,
    DocumentPassages,
    ErrorBody,
    ErrorPublic,
    HealthPart,
    HistoryMessage,
    IndexRequest,
    IndexResponse,
    IndexTimings,
    JsonInt,
    MessagePublic,
    OptionalJsonInt,
    PassagePublic,
    SearchRequest,
    SearchResponse,
    SessionPublic,
    StoredPassage,
    Strict,
    Text,
)

__all__ = [
    "ChatFilter",
    "ChatRequest",
    "ChunkIn",
    "CitationPublic",
    "DocumentIn",
    "DocumentPassages",
    "EmbedRequest",
    "EmbedResponse",
    "ErrorBody",
    "ErrorPublic",
    "HealthPart",
    "HealthPublic",
    "HistoryMessage",
    "IndexRequest",
    "IndexResponse",
    "IndexTimings",
    "JsonInt",
    "MessagePublic",
    "OptionalJsonInt",
    "PassagePublic",
    "SearchRequest",
    "SearchResponse",
    "SessionPublic",
    "StoredPassage",
    "Strict",
    "Text",
]


class EmbedRequest(Strict):
    texts: list[Text] = Field(min_length=1, description="Texts to embed, in order.")
    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The embedding model id to embed with (a collection's `model`); unset: the "
        "service's default, what a new collection gets. One it cannot embed with: 409.",
    )


class EmbedResponse(BaseModel):
    model: str
    dim: int
    embeddings: list[str] = Field(description="Base64 of little-endian float32, one per text.")


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    redis: HealthPart
    embedder: HealthPart
    llm: HealthPart
    provider: str
    model: str | None
    max_message_chars: int = Field(
        description="The longest question or query accepted (RAGIS_MAX_MESSAGE_CHARS)."
    )
