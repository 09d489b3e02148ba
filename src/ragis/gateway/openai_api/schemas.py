"""The `/v1` wire models: OpenAI's chat-completions request, and what ragis answers.

The request takes what OpenAI's clients send. Used: `model`, `messages`, `stream`,
`stream_options.include_usage`, `temperature`, `max_tokens` (or `max_completion_tokens`). Every
other field is accepted and ignored (`extra="allow"`: `top_p`, `user`, `seed`, `tools`, ...),
except those that ask for what ragis cannot give: more than one choice (`n` > 1), a forced tool
call (`tool_choice` "required" or a named function), and content parts that are not text (an
image, an audio clip, a file): those are refused, with a sentence that says why.

The fields ragis uses are strict JSON types (no "true" for a boolean, no "0.5" for a number):
a forged type is a 400, not a guess.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, field_validator

from ragis.contract import OptionalJsonInt, OptionalJsonNumber, Text

__all__ = [
    "MAX_MESSAGES",
    "AssistantMessage",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "Choice",
    "ChunkChoice",
    "Delta",
    "InputMessage",
    "ModelList",
    "ModelPublic",
    "RagisCitation",
    "RagisExtension",
    "StreamOptions",
    "TextPart",
    "Usage",
]

#: At most this many messages in one request (the last 100 user and assistant messages before
#: the question are kept as the conversation; the body is at most 1 MiB anyway).
MAX_MESSAGES = 1000
_MAX_MODEL_CHARS = 256


class _Open(BaseModel):
    """Part of a request: fields ragis does not use are accepted and ignored."""

    model_config = ConfigDict(extra="allow")


class TextPart(_Open):
    type: Literal["text"]
    text: Text


class InputMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"] = Field(
        description="`system` and `developer` are ignored (ragis has its own prompt), as are "
        "`tool` and `function`."
    )
    content: Text | list[TextPart] | None = Field(
        default=None, description="A string, or a list of `{type: text, text}` parts."
    )

    @field_validator("content", mode="before")
    @classmethod
    def _text_parts_only(cls, value: object) -> object:
        # Pydantic's own message for a union is a list of every branch's failure: say what is
        # wrong in one sentence instead.
        if isinstance(value, list):
            for i, part in enumerate(value):
                if not isinstance(part, dict):
                    raise ValueError(f"part {i} must be an object {{type: text, text}}")
                kind = part.get("type")
                if kind != "text":
                    shown = repr(kind) if isinstance(kind, str) and len(kind) <= 40 else "?"
                    raise ValueError(
                        f"part {i} is of type {shown}: ragis reads text only (type 'text'), "
                        "not images, audio or files"
                    )
        elif value is not None and not isinstance(value, str):
            raise ValueError("must be a string or a list of {type: text, text} parts")
        return value

    def text(self) -> str:
        """The message's text (its text parts, one per line)."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(part.text for part in self.content)


def _one_choice(value: object) -> object:
    # Checked before the type, so that `n: 2` gets a sentence rather than "less than or equal
    # to 1"; the schema still says 1.
    if isinstance(value, int) and not isinstance(value, bool) and value != 1:
        raise ValueError("ragis gives one answer per request: leave out n, or set it to 1")
    return value


def _no_forced_tool(value: object) -> object:
    if value is not None and value not in ("none", "auto"):
        raise ValueError(
            "ragis calls no tools: leave out tool_choice, or set it to 'none' or 'auto'"
        )
    return value


class StreamOptions(_Open):
    include_usage: StrictBool | None = None


class ChatCompletionRequest(_Open):
    model: Text = Field(
        min_length=1,
        max_length=_MAX_MODEL_CHARS,
        description="`ragis` (the default collection) or `ragis/<collection>`: GET /v1/models.",
    )
    messages: list[InputMessage] = Field(
        min_length=1,
        max_length=MAX_MESSAGES,
        description="The conversation; the last message is the user's question.",
    )
    stream: StrictBool | None = None
    stream_options: StreamOptions | None = None
    temperature: OptionalJsonNumber = Field(default=None, ge=0, le=2, allow_inf_nan=False)
    max_tokens: OptionalJsonInt = Field(default=None, ge=1)
    max_completion_tokens: OptionalJsonInt = Field(default=None, ge=1)
    n: Annotated[OptionalJsonInt, BeforeValidator(_one_choice)] = Field(
        default=None, ge=1, le=1, description="1 if given: ragis gives one answer."
    )
    tool_choice: Annotated[Literal["none", "auto"] | None, BeforeValidator(_no_forced_tool)] = (
        Field(default=None, description="`none` or `auto`: ragis calls no tools.")
    )

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)

    @property
    def answer_tokens(self) -> int | None:
        """The answer's token limit asked for (`max_completion_tokens` is the newer name)."""
        return self.max_completion_tokens or self.max_tokens


# --- Answers -------------------------------------------------------------------------------


class ModelPublic(BaseModel):
    id: str = Field(description="`ragis` (the default collection) or `ragis/<collection>`.")
    object: Literal["model"]
    created: int = Field(description="When the collection was made (Unix seconds); 0: unknown.")
    owned_by: Literal["ragis"]


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelPublic]


class RagisCitation(BaseModel):
    n: int = Field(description="The `[n]` of the answer.")
    doc_id: str
    document: str = Field(description="The document's file name.")
    page: int | None
    locator: str | None = Field(
        default=None, description="Where the passage is, finer than the page (`slide 4`, ...)."
    )
    score: float = Field(description="Similarity of passage and question, 0..1.")
    text: str = Field(description="The passage.")


class RagisExtension(BaseModel):
    """What ragis adds to OpenAI's answer: where the answer comes from."""

    collection: str
    cache_hit: bool
    grounded: bool = Field(
        description="False: no passage was close enough; the answer says the documents do not "
        "hold it."
    )
    retrieval: str = Field(description="`hybrid`, `vector` or `lexical`.")
    citations: list[RagisCitation] = Field(
        description="Every passage given to the model, cited or not."
    )


class Usage(BaseModel):
    """An estimate: tokens of the gateway's tokenizer, not the LLM's (docs/openai-api.md)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class AssistantMessage(BaseModel):
    role: Literal["assistant"]
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    logprobs: None = None
    finish_reason: Literal["stop"]


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    ragis: RagisExtension


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int
    delta: Delta
    logprobs: None = None
    finish_reason: Literal["stop"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = Field(
        default=None, description="Only on the last chunk, with stream_options.include_usage."
    )
    ragis: RagisExtension | None = Field(
        default=None, description="On the chunk whose finish_reason is `stop`."
    )
