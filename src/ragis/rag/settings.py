"""Settings of the RAG service: Redis, the store and the LLM (`Settings`) plus its own limits
and defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from ragis.rag.grounding import MIN_SCORE
from ragis.settings import Port, Settings, env

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

    @property
    def keep_originals_bytes(self) -> int:
        return self.keep_originals_mb * 1024 * 1024

    @property
    def model_cache_dir(self) -> Path:
        return self.model_cache or self.data_dir / "models"


load_rag_settings = RagSettings.load
