"""Request and response models of the RAG service, split by direction (`*Request`, `*Public`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from ragis.store.keys import ID_PATTERN, NAME_PATTERN

__all__ = [
    "ChatFilter",
    "ChatRequest",
    "ChunkIn",
    "DocumentIn",
    "EmbedRequest",
    "EmbedResponse",
    "ErrorBody",
    "ErrorPublic",
    "HealthPart",
    "HealthPublic",
    "IndexRequest",
    "IndexResponse",
    "IndexTimings",
    "JsonInt",
    "MessagePublic",
    "OptionalJsonInt",
    "SessionPublic",
    "Strict",
    "Text",
]

# Ids that end up inside Redis keys: the data layer re-checks them, this documents them.
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
LongId = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


def _whole_characters(value: object) -> object:
    # JSON may carry a lone UTF-16 surrogate ("\ud800"): Python decodes it into a str that
    # cannot be encoded (tokenizer, Redis, the LLM's JSON), so it is refused here, with a 422.
    # Checked before pydantic's own checks, whose message for it says nothing useful.
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(
                f"the text holds a lone surrogate ({value[exc.start]!r} at character "
                f"{exc.start}), which is not a character: send valid Unicode"
            ) from None
    return value


def _json_integer(value: object) -> object:
    # Pydantic's lax mode turns "5" and true into 5. A JSON integer is a number without a
    # fraction (5 and 5.0 alike, as JSON Schema has it): strings and booleans are refused.
    if isinstance(value, bool | str | bytes):
        raise ValueError(f"must be a JSON integer such as 5, not {type(value).__name__}")
    return value


# Free text from a caller: any Unicode, but whole characters only.
Text = Annotated[str, BeforeValidator(_whole_characters)]
# A count or position from a caller: a JSON integer, never a string or a boolean.
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
OptionalJsonInt = Annotated[int | None, BeforeValidator(_json_integer)]
Tag = Annotated[Text, StringConstraints(min_length=1, max_length=64)]


class Strict(BaseModel):
    """A request body: unknown fields refused; its integers are `JsonInt` (no `"5"` nor
    `true`), its texts `Text` (no lone surrogate)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ErrorBody(BaseModel):
    code: str = Field(description="Stable machine-readable name, e.g. `not_found`.")
    message: str = Field(description="A sentence for the user.")


class ErrorPublic(BaseModel):
    error: ErrorBody


class EmbedRequest(Strict):
    texts: list[Text] = Field(min_length=1, description="Texts to embed, in order.")


class EmbedResponse(BaseModel):
    model: str
    dim: int
    embeddings: list[str] = Field(description="Base64 of little-endian float32, one per text.")


class DocumentIn(Strict):
    id: LongId
    filename: Text = Field(min_length=1, max_length=255)
    content_type: Text = Field(min_length=1, max_length=200)
    sha256: Sha256
    size: JsonInt = Field(ge=0)
    pages: OptionalJsonInt = Field(default=None, ge=0)
    tags: list[Tag] = Field(default_factory=list, max_length=32)


class ChunkIn(Strict):
    text: Text = Field(min_length=1)
    position: JsonInt = Field(ge=0)
    page: OptionalJsonInt = Field(default=None, ge=1)


class IndexRequest(Strict):
    collection: Name = "default"
    document: DocumentIn
    chunks: list[ChunkIn] = Field(min_length=1)


class IndexTimings(BaseModel):
    embed_ms: float
    write_ms: float
    total_ms: float


class IndexResponse(BaseModel):
    collection: str
    document_id: str
    chunks: int
    duplicate: bool = Field(description="The same bytes were already ready in this collection.")
    replaced: bool = Field(description="A document with this id existed and was replaced.")
    version: int = Field(description="The collection version after this request.")
    timings: IndexTimings


class ChatFilter(Strict):
    doc_ids: list[LongId] = Field(default_factory=list, max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=32)


class ChatRequest(Strict):
    message: Text = Field(min_length=1)
    session_id: LongId | None = None
    collection: Name | None = None
    top_k: OptionalJsonInt = Field(default=None, ge=1, le=50)
    filter: ChatFilter | None = None


class CitationPublic(BaseModel):
    n: int
    doc_id: str
    filename: str
    page: int | None
    score: float
    text: str


class MessagePublic(BaseModel):
    role: Literal["user", "assistant"] | str
    content: str
    time: float
    citations: list[CitationPublic] = Field(default_factory=list)
    cache_hit: bool | None = None


class SessionPublic(BaseModel):
    session_id: str
    messages: list[MessagePublic]
    ttl: int = Field(description="Seconds until the session expires without a new message.")


class HealthPart(BaseModel):
    ok: bool
    detail: str


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    redis: HealthPart
    embedder: HealthPart
    llm: HealthPart
    provider: str
    model: str | None
