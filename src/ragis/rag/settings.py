"""Settings of the RAG service: Redis, the store and the LLM (`Settings`) plus its own limits
and defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from ragis.rag.grounding import MIN_SCORE
from ragis.settings import Port, Settings, env, read_secret_file

__all__ = ["RagSettings", "load_rag_settings"]


class RagSettings(Settings):
    rag_host: str = Field(default="127.0.0.1", validation_alias=env("RAGIS_RAG_HOST"))
    rag_port: Port = Field(default=8001, validation_alias=env("RAGIS_RAG_PORT"))

    # --- Embedding ---------------------------------------------------------------------------
    embed_backend: Literal["auto", "torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8"] = Field(
        default="auto",
        validation_alias=env("RAGIS_EMBED_BACKEND"),
        description="auto: the fastest backend whose vectors keep cosine >= 0.99 to torch fp32, "
        "measured on the first start and remembered in the model cache.",
    )
    model_cache: Path | None = Field(
        default=None,
        validation_alias=env("RAGIS_MODEL_CACHE"),
        description="Where the ONNX exports and the backend choice live (unset: <data>/models).",
    )
    embed_threads: Annotated[int, Field(ge=0, le=1024)] = Field(
        default=0,
        validation_alias=env("RAGIS_EMBED_THREADS"),
        description="Threads of the embedding model; 0: all cores.",
    )
    embed_batch_size: Annotated[int, Field(ge=1, le=1024)] = Field(
        default=32, validation_alias=env("RAGIS_EMBED_BATCH")
    )
    embed_provider: Literal["local", "openai", "ollama"] = Field(
        default="local",
        validation_alias=env("RAGIS_EMBED_PROVIDER"),
        description="Who embeds for new collections: the built-in model (local), an "
        "OpenAI-compatible /v1/embeddings server (openai: OpenAI, vLLM, TEI, llama.cpp) or "
        "Ollama's /api/embed (ollama). A collection keeps the model its vectors came from.",
    )
    embed_model: str | None = Field(
        default=None,
        validation_alias=env("RAGIS_EMBED_MODEL"),
        description="The server's model name (bge-m3, nomic-embed-text ...); required unless "
        "the provider is local. Collections record it as openai:<model> / ollama:<model>.",
    )
    embed_base_url: str | None = Field(
        default=None,
        validation_alias=env("RAGIS_EMBED_BASE_URL"),
        description="openai: the base URL with its /v1 (unset with a key: OpenAI's); ollama: "
        "the Ollama host (unset: http://localhost:11434).",
    )
    embed_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=env("RAGIS_EMBED_API_KEY"),
        description="Sent as a bearer token to the embedding server.",
    )
    embed_api_key_file: Path | None = Field(
        default=None,
        validation_alias=env("RAGIS_EMBED_API_KEY_FILE"),
        description="A file holding RAGIS_EMBED_API_KEY (a Compose secret).",
    )
    embed_timeout: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=60.0,
        validation_alias=env("RAGIS_EMBED_TIMEOUT"),
        description="Seconds one request to the embedding server may take in all.",
    )
    embed_retries: Annotated[int, Field(ge=0, le=10)] = Field(
        default=3,
        validation_alias=env("RAGIS_EMBED_RETRIES"),
        description="Retries of a request that failed to connect or got 429 or 5xx.",
    )
    embed_max_texts: Annotated[int, Field(ge=1, le=100_000)] = Field(
        default=256, validation_alias=env("RAGIS_EMBED_MAX_TEXTS")
    )
    max_text_chars: Annotated[int, Field(ge=100, le=1_000_000)] = Field(
        default=20_000,
        validation_alias=env("RAGIS_MAX_TEXT_CHARS"),
        description="Longest text /embed and /index accept (the model reads 256 tokens).",
    )
    index_max_chunks: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=50_000, validation_alias=env("RAGIS_INDEX_MAX_CHUNKS")
    )
    index_lease: Annotated[float, Field(ge=0.5, le=3600)] = Field(
        default=30.0,
        validation_alias=env("RAGIS_INDEX_LEASE"),
        description="Seconds a document being indexed stays claimed without a heartbeat from "
        "its writer; after that a killed writer's partial document is removed.",
    )

    # --- Chat --------------------------------------------------------------------------------
    default_collection: str = Field(
        default="default", validation_alias=env("RAGIS_DEFAULT_COLLECTION")
    )
    top_k: Annotated[int, Field(ge=1, le=50)] = Field(
        default=5, validation_alias=env("RAGIS_TOP_K")
    )
    max_message_chars: Annotated[int, Field(ge=10, le=100_000)] = Field(
        default=4_000, validation_alias=env("RAGIS_MAX_MESSAGE_CHARS")
    )
    rewrite_followups: bool = Field(default=True, validation_alias=env("RAGIS_REWRITE_FOLLOWUPS"))
    history_messages: Annotated[int, Field(ge=0, le=100)] = Field(
        default=6,
        validation_alias=env("RAGIS_HISTORY_MESSAGES"),
        description="Earlier messages of the session given to the LLM with each question.",
    )
    max_answer_tokens: Annotated[int, Field(ge=16, le=32_000)] = Field(
        default=1024, validation_alias=env("RAGIS_MAX_ANSWER_TOKENS")
    )
    retrieval: Literal["hybrid", "vector", "lexical"] = Field(
        default="hybrid",
        validation_alias=env("RAGIS_RETRIEVAL"),
        description="How passages are found: both legs fused (hybrid), by meaning (vector) or "
        "by words (lexical); a request may ask for another.",
    )
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        default=MIN_SCORE,
        validation_alias=env("RAGIS_MIN_SCORE"),
        description="Similarity (0..1) the best passage needs for ragis to answer from the "
        "documents; below it, ragis says they do not hold the answer. 0 turns the gate off. "
        "A collection may set its own.",
    )

    document_context_chars: Annotated[int, Field(ge=1_000, le=2_000_000)] = Field(
        default=10_000,
        validation_alias=env("RAGIS_DOCUMENT_CONTEXT_CHARS"),
        description="Characters of one document given to the LLM for a question about the "
        "whole document (a summary of a document picked with a one-document filter; "
        "rag/whole_document.py). The default, about 2,500-3,000 tokens, fits a 4k-token model "
        "with the answer's tokens; a longer document is summarised in parts of this size.",
    )

    # --- Originals (store/originals.py) ------------------------------------------------------
    keep_originals_mb: Annotated[int, Field(ge=0, le=100_000)] = Field(
        default=25,
        validation_alias=env("RAGIS_KEEP_ORIGINALS_MB"),
        description="Largest uploaded file (MiB) whose bytes are kept in Redis for the viewer "
        "(a PDF's pages); 0 keeps none. Costs about the file's size in Redis memory.",
    )

    @field_validator(
        "embed_model", "embed_base_url", "embed_api_key", "embed_api_key_file", mode="before"
    )
    @classmethod
    def _embed_blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip() == "" else value

    @model_validator(mode="after")
    def _embed_provider_complete(self) -> Self:
        if self.embed_api_key_file is not None:
            variable = "RAGIS_EMBED_API_KEY_FILE"
            if self.embed_api_key is not None:
                raise ValueError(f"RAGIS_EMBED_API_KEY and {variable} are both set: give one")
            self.embed_api_key = SecretStr(read_secret_file(self.embed_api_key_file, variable))
        provider = self.embed_provider
        if provider == "local":
            return self
        if not self.embed_model:
            raise ValueError(
                f"RAGIS_EMBED_PROVIDER={provider} needs RAGIS_EMBED_MODEL, the name of the "
                "embedding model on the server (e.g. bge-m3, nomic-embed-text)"
            )
        if provider == "openai" and not self.embed_base_url and self.embed_api_key is None:
            raise ValueError(
                "RAGIS_EMBED_PROVIDER=openai needs RAGIS_EMBED_BASE_URL (the server's URL with "
                "its /v1, e.g. http://gpu-box:8000/v1), or RAGIS_EMBED_API_KEY for OpenAI itself"
            )
        if self.embed_base_url and not self.embed_base_url.startswith(("http://", "https://")):
            raise ValueError("RAGIS_EMBED_BASE_URL must start with http:// or https://")
        return self

    @property
    def keep_originals_bytes(self) -> int:
        return self.keep_originals_mb * 1024 * 1024

    @property
    def model_cache_dir(self) -> Path:
        return self.model_cache or self.data_dir / "models"


load_rag_settings = RagSettings.load
