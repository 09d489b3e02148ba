"""What travels between the gateway and the RAG service: one contract both services import.

    caller.py     the workspace and user a request is for (headers), roles
    fields.py     name and id patterns, and the checked values of a request (Text, JsonInt, ...)
    errors.py     the error body {"error": {"code", "message"}}
    chat.py       the chat request, the answer stream's events, sessions
    documents.py  indexing a document, and collections and documents as the RAG service answers
    health.py     a part of a health answer
    llm.py        the LLM models a turn may ask for

It imports pydantic only: neither service's code, nor the store, nor redis-py, so the gateway's
process loads none of them (tests/gateway/test_imports.py proves it).
"""

from ragis.contract.caller import (
    DEFAULT_WORKSPACE,
    LOCAL_USER,
    USER_HEADER,
    USERNAME_PATTERN,
    WORKSPACE_HEADER,
    WORKSPACE_PATTERN,
    Caller,
    Role,
    WorkspaceRole,
)
from ragis.contract.chat import (
    ChatEvent,
    ChatFilter,
    ChatRequest,
    CitationPublic,
    CitationsEvent,
    ConversationPublic,
    ConversationsPublic,
    ConversationUpdate,
    DoneEvent,
    ErrorEvent,
    HistoryMessage,
    MessagePublic,
    MetaEvent,
    SessionDeleted,
    SessionPublic,
    TokenEvent,
    TruncateRequest,
)
from ragis.contract.documents import (
    ChunkIn,
    CollectionDeleted,
    CollectionPublic,
    CollectionsPublic,
    CollectionUpdate,
    DocumentDeleted,
    DocumentIn,
    DocumentPublic,
    DocumentSourceUpdate,
    DocumentsPublic,
    DocumentUpdate,
    IndexRequest,
    IndexResponse,
    IndexTimings,
)
from ragis.contract.errors import ErrorBody, ErrorPublic
from ragis.contract.fields import (
    ID_PATTERN,
    NAME_PATTERN,
    JsonInt,
    LongId,
    Name,
    OptionalJsonInt,
    OptionalJsonNumber,
    Sha256,
    Strict,
    Tag,
    Text,
)
from ragis.contract.health import HealthPart
from ragis.contract.llm import MODEL_PATTERN, ModelName, ModelsPublic
from ragis.contract.search import (
    DocumentPassages,
    PassagePublic,
    SearchRequest,
    SearchResponse,
    StoredPassage,
)

__all__ = [
    "DEFAULT_WORKSPACE",
    "ID_PATTERN",
    "LOCAL_USER",
    "MODEL_PATTERN",
    "NAME_PATTERN",
    "USERNAME_PATTERN",
    "USER_HEADER",
    "WORKSPACE_HEADER",
    "WORKSPACE_PATTERN",
    "Caller",
    "ChatEvent",
    "ChatFilter",
    "ChatRequest",
    "ChunkIn",
    "CitationPublic",
    "CitationsEvent",
    "CollectionDeleted",
    "CollectionPublic",
    "CollectionUpdate",
    "CollectionsPublic",
    "ConversationPublic",
    "ConversationUpdate",
    "ConversationsPublic",
    "DocumentDeleted",
    "DocumentIn",
    "DocumentPassages",
    "DocumentPublic",
    "DocumentSourceUpdate",
    "DocumentUpdate",
    "DocumentsPublic",
    "DoneEvent",
    "ErrorBody",
    "ErrorEvent",
    "ErrorPublic",
    "HealthPart",
    "HistoryMessage",
    "IndexRequest",
    "IndexResponse",
    "IndexTimings",
    "JsonInt",
    "LongId",
    "MessagePublic",
    "MetaEvent",
    "ModelName",
    "ModelsPublic",
    "Name",
    "OptionalJsonInt",
    "OptionalJsonNumber",
    "PassagePublic",
    "Role",
    "SearchRequest",
    "SearchResponse",
    "SessionDeleted",
    "SessionPublic",
    "Sha256",
    "StoredPassage",
    "Strict",
    "Tag",
    "Text",
    "TokenEvent",
    "TruncateRequest",
    "WorkspaceRole",
]
