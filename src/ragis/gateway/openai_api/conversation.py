"""An OpenAI conversation as one ragis chat turn, and the model ids that name collections.

    messages = [system?, user, assistant, ..., user]   ->   ChatRequest(
                                                              message=<the last user message>,
                                                              history=<the user and assistant
                                                                       messages before it>,
                                                              collection=<from the model id>)

The client keeps the conversation, so the turn is stateless: no session is read or written.
`system` and `developer` messages are ignored (ragis answers with its own prompt, which keeps the
model to the documents), as are `tool` and `function` messages. An assistant message that ends
with the "Sources" block ragis appended to its answer (`translate.sources_block`) loses it, so
that the list of file names does not travel back into the next prompt as if the model had written
it. Only the last `MAX_HISTORY_MESSAGES` messages of the conversation are kept.
"""

from __future__ import annotations

import re

from ragis.contract import NAME_PATTERN, ChatRequest, HistoryMessage
from ragis.contract.chat import MAX_HISTORY_MESSAGES
from ragis.errors import InvalidInput, NotFound
from ragis.gateway.openai_api.schemas import ChatCompletionRequest

__all__ = [
    "DEFAULT_MODEL",
    "MODEL_PREFIX",
    "ModelNotFound",
    "collection_of",
    "model_id",
    "strip_sources",
    "to_chat_request",
]

#: The model that asks the default collection (the RAG service's RAGIS_DEFAULT_COLLECTION).
DEFAULT_MODEL = "ragis"
MODEL_PREFIX = DEFAULT_MODEL + "/"
#: The most the answer may be asked to hold, as the contract takes it (the service then caps
#: it at its RAGIS_MAX_ANSWER_TOKENS).
MAX_ANSWER_TOKENS = 1_000_000

_NAME = re.compile(NAME_PATTERN)
# The block `translate.sources_block` appends: a blank line, "Sources:", then one "[n] ..." line
# per passage, at the very end of the message.
_SOURCES = re.compile(r"\n\nSources:\n(?:\[\d+\] [^\n]*\n?)+\Z")


class ModelNotFound(NotFound):
    code = "model_not_found"


def model_id(collection: str | None) -> str:
    """The model id of `collection` (None: the default collection)."""
    return DEFAULT_MODEL if collection is None else MODEL_PREFIX + collection


def collection_of(model: str) -> str | None:
    """The collection a model id names (None: the default one); `ModelNotFound` otherwise."""
    if model == DEFAULT_MODEL:
        return None
    name = model.removeprefix(MODEL_PREFIX)
    if name == model or not _NAME.fullmatch(name):
        raise ModelNotFound(
            f"The model {model[:80]!r} does not exist: use 'ragis' (the default collection) or "
            "'ragis/<collection>' (GET /v1/models lists them)."
        )
    return name


def strip_sources(answer: str) -> str:
    """`answer` without the Sources block ragis appended to it, if it ends with one."""
    return _SOURCES.sub("", answer)


def to_chat_request(request: ChatCompletionRequest) -> ChatRequest:
    """The ragis chat turn an OpenAI request asks for. Raises `ModelNotFound` for a model id
    that names no collection, `InvalidInput` when the last message is not the user's question."""
    collection = collection_of(request.model)
    *earlier, last = request.messages
    question = last.text()
    if last.role != "user" or not question.strip():
        raise InvalidInput(
            "The last message must be the user's question (role 'user', with text): ragis "
            "answers it from the documents."
        )
    history: list[HistoryMessage] = []
    for message in earlier:
        text = message.text()
        if message.role == "user" and text.strip():
            history.append(HistoryMessage(role="user", content=text))
        elif message.role == "assistant" and (text := strip_sources(text)).strip():
            history.append(HistoryMessage(role="assistant", content=text))
    tokens = request.answer_tokens
    return ChatRequest(
        message=question,
        # Given even when empty: a stateless turn, which no session records.
        history=history[-MAX_HISTORY_MESSAGES:],
        collection=collection,
        temperature=request.temperature,
        max_tokens=None if tokens is None else min(tokens, MAX_ANSWER_TOKENS),
    )
