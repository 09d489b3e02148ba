"""Reindexing a collection into another embedding model: the request, and the stream's lines.

`POST /collections/{name}/reindex` (RAG service) and `POST /api/collections/{name}/reindex`
(gateway) take a `ReindexRequest` and answer NDJSON, one object per line:

    {"type": "progress", "done": 640, "total": 10000}      after each written batch
    ...
    {"type": "result", ...ReindexPublic}                    or
    {"type": "error", "status": 409, "error": {"code": ..., "message": ...}}

A client that closes the stream stops the reindex; run again with the same model, it resumes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictBool

from ragis.contract.fields import Strict

__all__ = [
    "MODEL_ID_PATTERN",
    "ReindexError",
    "ReindexProgress",
    "ReindexPublic",
    "ReindexRequest",
    "ReindexTimings",
]

#: An embedding model id: the built-in model's name (`sentence-transformers/all-MiniLM-L6-v2`)
#: or `openai:<model>` / `ollama:<model>[:tag]`. Printable ASCII, no spaces, at most 256.
MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/@+-]*(?::[A-Za-z0-9._/@+-]+)*$"


class ReindexRequest(Strict):
    model: str | None = Field(
        None,
        max_length=256,
        pattern=MODEL_ID_PATTERN,
        description="The embedding model to move to: the built-in model's name, "
        "`openai:<model>` or `ollama:<model>`; null for the service's default "
        "(RAGIS_EMBED_PROVIDER / RAGIS_EMBED_MODEL).",
    )
    restart: StrictBool = Field(
        False,
        description="Drop a reindex to another model that stopped midway, and begin this one.",
    )
    force: StrictBool = Field(
        False, description="Re-embed even when the collection already has this model."
    )


class ReindexTimings(BaseModel):
    embed_ms: float
    write_ms: float
    total_ms: float


class ReindexPublic(BaseModel):
    """The last line of a reindex that ended well."""

    type: Literal["result"] = "result"
    collection: str
    previous_model: str = Field(description="The model the collection's vectors came from.")
    model: str = Field(description="The model they come from now.")
    dim: int
    embedded: int = Field(description="Chunks this run embedded.")
    chunks: int = Field(description="Chunks the collection holds now.")
    documents: int
    version: int
    resumed: bool = Field(description="This run finished a reindex that had stopped midway.")
    unchanged: bool = Field(description="The collection had this model already: nothing done.")
    timings: ReindexTimings


class ReindexProgress(BaseModel):
    type: Literal["progress"] = "progress"
    done: int = Field(description="Chunks of the collection in the new model so far.")
    total: int


class ReindexError(BaseModel):
    type: Literal["error"] = "error"
    status: int
    error: dict[str, str]
