"""The ragis error tree. Everything ragis raises on purpose derives from `RagisError`.

    RagisError
    ├── ConfigError                 a setting is missing or has a value ragis cannot use
    ├── RedisUnavailable            cannot start or reach Redis, or it failed a command (the
    │   │                           store and the accounts raise it for every redis-py error:
    │   │                           db/failures.py)
    │   ├── DataDirInUse            another ragis Redis already owns RAGIS_DATA_DIR
    │   └── VectorSetsMissing       the server is not Redis 8 / has no Vector Sets
    ├── InvalidInput                a caller sent something ragis refuses (client's fault)
    │   ├── InvalidVector           wrong dimension, NaN or Inf
    │   ├── InvalidName             a collection / document / session id with bad characters
    │   ├── ModelMismatch           vectors of another embedding model for an existing collection
    │   ├── TooLarge                a request over a count or size limit (413)
    │   │   └── PageTooLarge        a fetched web page over the upload limit (413)
    │   ├── SessionMismatch         a session continued in another collection than its own (409)
    │   ├── UnknownModel            a chat turn asks for an LLM model the provider does not list
    │   ├── UrlRefused              a URL ragis will not fetch: its scheme, credentials, or an
    │   │                           address the SSRF guard refuses (422)
    │   └── FileRejected            an uploaded file ragis will not ingest (carries the file name)
    │       ├── UnsupportedFile     not a type ragis reads (415)
    │       ├── CorruptFile         a supported type that cannot be parsed, or built to expand (422)
    │       ├── EmptyFile           no bytes, or no text once extracted (422)
    │       └── FileTooLarge        over a size, page or expansion limit (413)
    ├── NotFound                    an unknown collection, document or session (or another
    │                               workspace's: isolation answers as if it did not exist)
    ├── Conflict                    a name already taken (a user, a workspace) (409)
    │   └── SourceTaken             another ready document of the collection has that source
    ├── AuthError                   who is asking, and may they
    │   ├── Unauthenticated         no credentials, or credentials ragis does not accept (401)
    │   ├── Forbidden               known caller without the right, a foreign Host, a
    │   │                           cross-site request (403)
    │   └── TooManyAttempts         sign-in failures locked out for a while (429 + Retry-After)
    ├── DataFormatTooNew            Redis holds data of a newer ragis than this one
    ├── IndexInterrupted            an ingest lost its lease midway (stalled writer, Redis restart)
    ├── EmbeddingUnavailable        the embedding server failed: unreachable, timed out, an error
    │                               status or an answer ragis cannot use (names URL and status; 503)
    ├── ModelUnavailable            a collection's vectors came from a model this service cannot
    │                               embed with; says what to set or to reindex (409)
    ├── LLMError                    the language model failed; says which provider and what to do
    │   ├── LLMUnavailable          cannot connect, or timed out before answering
    │   ├── LLMAuthError            the key was refused (401/403)
    │   ├── LLMModelNotFound        the server does not know the model
    │   └── LLMStreamBroken         the stream broke after the answer had started
    ├── UpstreamError               the gateway could not get an answer from the RAG service
    ├── UrlUnreachable              a web page to ingest could not be fetched (502)
    │   └── UrlTimeout              ... not within RAGIS_URL_TIMEOUT (504)
    └── ServiceCrashed              a service of `ragis up` kept crashing, so ragis stopped

Each error's message is a sentence a user can act on; the HTTP edge maps the classes to statuses
(`InvalidInput` -> 4xx, `NotFound` -> 404, `RedisUnavailable` -> 503) and never sends a traceback.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "Conflict",
    "CorruptFile",
    "DataDirInUse",
    "DataFormatTooNew",
    "EmbeddingUnavailable",
    "EmptyFile",
    "FileRejected",
    "FileTooLarge",
    "Forbidden",
    "IndexInterrupted",
    "InvalidInput",
    "InvalidName",
    "InvalidVector",
    "LLMAuthError",
    "LLMError",
    "LLMModelNotFound",
    "LLMStreamBroken",
    "LLMUnavailable",
    "ModelMismatch",
    "ModelUnavailable",
    "NotFound",
    "PageTooLarge",
    "RagisError",
    "RedisUnavailable",
    "ServiceCrashed",
    "SessionMismatch",
    "SourceTaken",
    "TooLarge",
    "TooManyAttempts",
    "Unauthenticated",
    "UnknownModel",
    "UnsupportedFile",
    "UpstreamError",
    "UrlRefused",
    "UrlTimeout",
    "UrlUnreachable",
    "VectorSetsMissing",
]


class RagisError(Exception):
    """Base of every error ragis raises on purpose; `code` is a stable machine-readable name."""

    code = "ragis_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(RagisError):
    code = "config_error"


class RedisUnavailable(RagisError):
    code = "redis_unavailable"


class DataDirInUse(RedisUnavailable):
    code = "data_dir_in_use"


class VectorSetsMissing(RedisUnavailable):
    code = "vector_sets_missing"


class InvalidInput(RagisError):
    code = "invalid_input"


class InvalidVector(InvalidInput):
    code = "invalid_vector"


class InvalidName(InvalidInput):
    code = "invalid_name"


class ModelMismatch(InvalidInput):
    code = "model_mismatch"


class TooLarge(InvalidInput):
    code = "too_large"


class PageTooLarge(TooLarge):
    code = "url_too_large"


class UrlRefused(InvalidInput):
    """A URL the gateway will not fetch (a scheme other than http/https, credentials in it, or
    a host that resolves to an address the SSRF guard refuses)."""

    code = "url_refused"


class SessionMismatch(InvalidInput):
    """A session is bound to the collection it started in; the sentence names only the
    requested one (the other may be none of the caller's business)."""

    code = "session_collection_mismatch"

    @classmethod
    def for_collection(cls, collection: str) -> SessionMismatch:
        return cls(
            f"This session belongs to another collection, not {collection!r}: start a new "
            "conversation (leave out session_id) to ask this collection."
        )


class UnknownModel(InvalidInput):
    """A chat turn named an LLM model the provider does not list (GET /api/models lists them)."""

    code = "unknown_model"


class NotFound(RagisError):
    code = "not_found"


class Conflict(RagisError):
    code = "conflict"


class SourceTaken(Conflict):
    code = "source_taken"


class AuthError(RagisError):
    code = "auth_error"


class Unauthenticated(AuthError):
    code = "unauthenticated"


class Forbidden(AuthError):
    code = "forbidden"


class TooManyAttempts(AuthError):
    """Sign-in refused for `retry_after` seconds after repeated failures."""

    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DataFormatTooNew(RagisError):
    """Redis holds data written by a newer ragis: this one refuses to start rather than
    misread or damage it."""

    code = "data_format_too_new"


class IndexInterrupted(RagisError):
    """An ingest stopped because its lease lapsed: another process may be removing its chunks,
    so it keeps nothing (503: uploading again works)."""

    code = "index_interrupted"


class FileRejected(InvalidInput):
    """An uploaded file ragis will not ingest; `filename` is the (sanitised) name to show."""

    code = "file_rejected"

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason


class UnsupportedFile(FileRejected):
    code = "unsupported_file"


class CorruptFile(FileRejected):
    code = "corrupt_file"


class EmptyFile(FileRejected):
    code = "empty_file"


class FileTooLarge(FileRejected):
    code = "file_too_large"


class EmbeddingUnavailable(RagisError):
    """The embedding server (RAGIS_EMBED_BASE_URL) gave no usable vectors: the sentence names
    the URL (credentials redacted), the status and what to check."""

    code = "embedding_unavailable"


class ModelUnavailable(RagisError):
    """A collection's vectors came from an embedding model this service cannot embed with (a
    query embedded with another model would find garbage): set the provider, or reindex."""

    code = "model_unavailable"


class LLMError(RagisError):
    code = "llm_error"

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.provider = provider


class LLMUnavailable(LLMError):
    code = "llm_unavailable"


class LLMAuthError(LLMError):
    code = "llm_auth"


class LLMModelNotFound(LLMError):
    code = "llm_model_not_found"


class LLMStreamBroken(LLMError):
    code = "llm_stream_broken"


class UpstreamError(RagisError):
    code = "upstream_error"


class UrlUnreachable(RagisError):
    """A web page to ingest could not be fetched: no answer, a refused connection, an error
    status. The server's fault or the network's, not the caller's request (502)."""

    code = "url_unreachable"


class UrlTimeout(UrlUnreachable):
    code = "url_timeout"


class ServiceCrashed(RagisError):
    code = "service_crashed"
