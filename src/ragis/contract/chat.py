"""A chat turn on the wire: the question, the events of its answer stream, and its session.

The RAG service streams the events (`event: <type>` plus one `data:` line of JSON that also
carries `type`); the gateway relays them as they come and describes them in its OpenAPI schema,
from which the web UI's types are generated.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, field_validator

from ragis.contract.errors import ErrorBody
from ragis.contract.fields import (
    JsonInt,
    LongId,
    Name,
    OptionalJsonInt,
    OptionalJsonNumber,
    Strict,
    Tag,
    Text,
)
from ragis.contract.llm import ModelName

RetrievalMode = Literal["hybrid", "vector", "lexical"]
Leg = Literal["vector", "lexical"]

__all__ = [
    "ChatEvent",
    "ChatFilter",
    "ChatRequest",
    "CitationPublic",
    "CitationsEvent",
    "ConversationPublic",
    "ConversationUpdate",
    "ConversationsPublic",
    "DoneEvent",
    "ErrorEvent",
    "HistoryMessage",
    "MessagePublic",
    "MetaEvent",
    "SessionDeleted",
    "SessionPublic",
    "TokenEvent",
    "TruncateRequest",
]


class ChatFilter(Strict):
    doc_ids: list[LongId] = Field(default_factory=list, max_length=100)
    tags: list[Tag] = Field(default_factory=list, max_length=32)


#: At most this many earlier messages travel inline with a stateless turn (`history`).
MAX_HISTORY_MESSAGES = 100


class HistoryMessage(Strict):
    """One earlier message of a conversation the client keeps itself."""

    role: Literal["user", "assistant"]
    content: Text


class ChatRequest(Strict):
    # The schema says what the service refuses (422): a session id with an inline history.
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "required": ["session_id", "history"],
                "properties": {"session_id": {"type": "string"}, "history": {"type": "array"}},
            }
        }
    )

    message: Text = Field(min_length=1)
    session_id: LongId | None = None
    history: list[HistoryMessage] | None = Field(
        default=None,
        max_length=MAX_HISTORY_MESSAGES,
        description="The conversation so far, kept by the client (OpenAI-style): the turn is "
        "then stateless, no session is read or written, and `session_id` must be left out. "
        "Only the last RAGIS_HISTORY_MESSAGES are used, each cut to RAGIS_MAX_MESSAGE_CHARS.",
    )
    temperature: OptionalJsonNumber = Field(
        default=None, ge=0, le=2, allow_inf_nan=False,
        description="The LLM's sampling temperature; leave out for the provider's default.",
    )  # fmt: skip
    max_tokens: OptionalJsonInt = Field(
        default=None, ge=1, le=1_000_000,
        description="At most this many answer tokens (never more than RAGIS_MAX_ANSWER_TOKENS).",
    )  # fmt: skip
    model: ModelName | None = Field(
        default=None,
        description="The LLM model to answer with, one that GET /api/models lists (else 422 "
        "`unknown_model`); leave out for the default. It keys the semantic cache.",
    )
    collection: Name | None = None
    top_k: OptionalJsonInt = Field(default=None, ge=1, le=50)
    filter: ChatFilter | None = None
    retrieval: RetrievalMode | None = Field(
        default=None,
        description="How to find the passages: `hybrid` (meaning and words, fused), `vector` "
        "(meaning) or `lexical` (words, BM25); leave out for the service's RAGIS_RETRIEVAL.",
    )
    # None rather than False by default: a field with a default is a required one in the UI's
    # generated types (openapi-typescript), and leaving it out must stay valid there.
    fresh: StrictBool | None = Field(
        default=None,
        description="True: do not answer from the semantic cache (a retried question is asked "
        "of the LLM again); its new complete answer is cached as any other.",
    )


class CitationPublic(BaseModel):
    n: int
    doc_id: str
    filename: str
    page: int | None
    score: float = Field(description="Similarity of passage and question, 0..1.")
    text: str
    legs: list[Leg] = Field(
        default_factory=list, description="Which legs of retrieval found the passage."
    )
    locator: str | None = Field(
        default=None,
        description="Where the passage is, finer than `page` (`slide 4`, `Sheet1, rows 2-41`, a "
        "chapter): shown instead of the page when set.",
    )


# --- The answer stream's events ------------------------------------------------------------------


class MetaEvent(BaseModel):
    type: Literal["meta"]
    session_id: str | None = Field(
        description="The session to continue with (a new one if none given); null for a "
        "stateless turn (`history` given inline)."
    )
    collection: str
    provider: str = Field(description="`openai`, `ollama` or `none` (retrieval-only).")
    model: str | None
    cache_hit: bool
    query: str = Field(description="The standalone query used for retrieval.")
    partial: bool = Field(
        description="A shard did not answer: the sources come from the others (not cached)."
    )
    retrieval: RetrievalMode = Field(
        description="The mode that found the sources (`vector` while a collection's keyword "
        "index is still being built)."
    )
    grounded: bool = Field(
        description="False: no passage is close enough to the question, so the answer says the "
        "documents do not hold it (the citations are the closest passages)."
    )
    best_score: float | None = Field(description="The best passage's similarity, 0..1.")
    scope: Literal["passages", "document"] = Field(
        description="`document`: the answer read one whole document (a summary of a document "
        "picked with a one-document filter), not the top-k passages."
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


# --- Sessions --------------------------------------------------------------------------------


class MessagePublic(BaseModel):
    role: Literal["user", "assistant"] | str
    content: str
    time: float
    citations: list[CitationPublic] = Field(default_factory=list)
    cache_hit: bool | None = None
    grounded: bool | None = Field(
        default=None, description="An answer's `grounded` (meta event); None for a question."
    )
    # An answer's details, as its stream told them (None for a question, and for answers
    # stored before they were kept).
    stopped: bool | None = Field(
        default=None,
        description="True: the answer was stopped (the client went away or cancelled); "
        "`content` is what was streamed until then.",
    )
    error: ErrorBody | None = Field(
        default=None,
        description="The answer failed with this error (its `error` event); `content` is "
        "what was streamed before it.",
    )
    timings: dict[str, float] | None = Field(
        default=None, description="Milliseconds, as the `done` event's (so far, when stopped)."
    )
    retrieval: RetrievalMode | None = Field(
        default=None, description="The mode that found the sources (meta event)."
    )
    best_score: float | None = Field(
        default=None, description="The best passage's similarity, 0..1 (meta event)."
    )
    scope: Literal["passages", "document"] | None = Field(
        default=None, description="`document`: the answer read one whole document."
    )
    model: str | None = Field(default=None, description="The LLM model that answered.")


class SessionPublic(BaseModel):
    session_id: str
    messages: list[MessagePublic]
    ttl: int = Field(description="Seconds until the session expires without a new message.")


class SessionDeleted(BaseModel):
    deleted: Literal[True]
    session_id: str


# --- Conversations ---------------------------------------------------------------------------

#: The longest title a conversation may be renamed to, in characters.
MAX_TITLE_CHARS = 120
_SPACES = re.compile(r"\s+")
# No control character (Unicode Cc), and one character at least that is not a space.
_TITLE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


class ConversationPublic(BaseModel):
    session_id: str
    title: str = Field(
        description="The first question (whitespace collapsed, cut at 80 characters on a word "
        "boundary, then `…`), or the title it was renamed to."
    )
    collection: str = Field(description="The collection the conversation is bound to.")
    created: float = Field(description="Unix time of its first message.")
    updated: float = Field(description="Unix time of its last message.")
    messages: int = Field(description="Messages in its transcript (0 after a truncation to 0).")
    ttl: int = Field(description="Seconds until it expires without a new message.")


class ConversationsPublic(BaseModel):
    conversations: list[ConversationPublic] = Field(description="The newest `updated` first.")


class ConversationUpdate(Strict):
    title: Text = Field(
        min_length=1,
        max_length=MAX_TITLE_CHARS,
        # What the validator checks, for the schema's readers (the UI, schemathesis).
        json_schema_extra={"pattern": _TITLE_PATTERN},
        description=f"The new title: 1 to {MAX_TITLE_CHARS} characters, at least one of them "
        "not a space, no control characters (tabs and newlines included); spaces around it "
        "are trimmed and runs of spaces collapsed.",
    )

    @field_validator("title")
    @classmethod
    def _clean_title(cls, value: str) -> str:
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            raise ValueError("a title cannot hold control characters (tabs and newlines too)")
        title = _SPACES.sub(" ", value).strip()
        if not title:
            raise ValueError("a title needs at least one character that is not a space")
        return title


class TruncateRequest(Strict):
    keep: JsonInt = Field(
        ge=0, le=1_000_000,
        description="How many of the first messages to keep: retry an answer by keeping those "
        "before its question and asking it again with the same session_id; edit a question by "
        "keeping those before it and asking the new text.",
    )  # fmt: skip
