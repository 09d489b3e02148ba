"""The OpenAI-compatible API's parts (`/v1`, served by `ragis.gateway.routes.openai`).

schemas.py       the request OpenAI's clients send, and the answers' models
conversation.py  a request as one ragis chat turn; model ids <-> collections
translate.py     ragis's answer stream -> chat.completion.chunk events / one chat.completion
usage.py         the `usage` numbers, estimated with the gateway's tokenizer
response.py      a non-streamed answer that stops the upstream when the client leaves
errors.py        OpenAI's error shape, and the route class that renders every error in it
"""

from ragis.gateway.openai_api.conversation import (
    DEFAULT_MODEL,
    ModelNotFound,
    collection_of,
    model_id,
    strip_sources,
    to_chat_request,
)
from ragis.gateway.openai_api.errors import OpenAIRoute, error_body, error_for, error_response
from ragis.gateway.openai_api.response import CollectedResponse
from ragis.gateway.openai_api.schemas import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ModelList,
    ModelPublic,
    Usage,
)
from ragis.gateway.openai_api.translate import (
    StreamFailed,
    Turn,
    collect,
    completion,
    sources_block,
    stream_chunks,
)
from ragis.gateway.openai_api.usage import UsageEstimator

__all__ = [
    "DEFAULT_MODEL",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "CollectedResponse",
    "ModelList",
    "ModelNotFound",
    "ModelPublic",
    "OpenAIRoute",
    "StreamFailed",
    "Turn",
    "Usage",
    "UsageEstimator",
    "collect",
    "collection_of",
    "completion",
    "error_body",
    "error_for",
    "error_response",
    "model_id",
    "sources_block",
    "stream_chunks",
    "strip_sources",
    "to_chat_request",
]
