"""The records the store reads and writes. Plain dataclasses: the layers above never see Redis."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "NO_FILTER",
    "CachedAnswer",
    "ChunkContent",
    "ChunkText",
    "Citation",
    "CollectionInfo",
    "DocumentRecord",
    "DocumentStatus",
    "Message",
    "RetrievedChunk",
    "SearchFilter",
    "StoredChunk",
    "Vector",
    "VectorHit",
    "VectorItem",
    "VectorSearch",
]

Vector = npt.NDArray[np.float32]


class DocumentStatus(StrEnum):
    INGESTING = "ingesting"
    READY = "ready"
    FAILED = "failed"
    #: Replaced by a newer version in the step that made that one ready: never searched, and
    #: removed right after (or by recovery, if the writer died first).
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class CollectionInfo:
    name: str
    model: str
    dim: int
    quantization: str
    m: int
    version: int
    created: float
    documents: int = 0
    vectors: int = 0
    shards: int = 1
    #: The language its keyword index is built in; None while the index is not built (a
    #: collection from before the keyword index, until the backfill has run: store/backfill.py).
    lexical: str | None = None
    #: Its own threshold for a grounded answer (rag/grounding.py); None: the service's.
    min_score: float | None = None


@dataclass(slots=True)
class DocumentRecord:
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    chunk_count: int = 0
    pages: int | None = None
    created: float = 0.0
    status: DocumentStatus = DocumentStatus.INGESTING
    tags: list[str] = field(default_factory=list)
    error: str | None = None
    #: Where it came from: a synced folder's relative path, or a URL (the source index's key).
    source: str | None = None
    #: Whether its uploaded file is kept (store/originals.py).
    original: bool = False


class ChunkContent(Protocol):
    """A chunk as a writer hands it to the store: its text, position and page (if known).

    `ChunkText` is one; the RAG service's request model of a chunk is another, passed through
    to the store as it is.
    """

    @property
    def text(self) -> str: ...
    @property
    def position(self) -> int: ...
    @property
    def page(self) -> int | None: ...
    @property
    def locator(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ChunkText:
    """A chunk to write (`ChunkContent`)."""

    text: str
    position: int
    page: int | None = None
    locator: str | None = None


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """One chunk as the chunk store keeps it (without its vector)."""

    id: str
    doc_id: str
    text: str
    position: int
    page: int | None = None
    locator: str | None = None


@dataclass(frozen=True, slots=True)
class VectorItem:
    """One vector to add: its element id and the attributes FILTER expressions can test."""

    id: str
    vector: Vector
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class VectorHit:
    id: str
    score: float
    attributes: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """Restrict a search to some documents and/or to chunks carrying any of some tags."""

    doc_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.tags)


#: The one way to say "search the whole collection": the empty filter.
NO_FILTER = SearchFilter()

#: The legs of retrieval a passage can be found by.
_LEGS = ("vector", "lexical")


@dataclass(frozen=True, slots=True)
class VectorSearch:
    """The hits of a search over every shard; `partial` when some shard could not answer."""

    hits: list[VectorHit]
    partial: bool = False


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    """A search result: the chunk, its document's display name, and the VSIM score (0..1)."""

    chunk: StoredChunk
    filename: str
    score: float
    #: Which legs of retrieval found it: "vector", "lexical", or both (store/retrieval.py).
    legs: tuple[str, ...] = ("vector",)


@dataclass(frozen=True, slots=True)
class Citation:
    n: int
    doc_id: str
    filename: str
    page: int | None
    score: float
    text: str
    legs: tuple[str, ...] = ()
    locator: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {
            "n": self.n,
            "doc_id": self.doc_id,
            "filename": self.filename,
            "page": self.page,
            "score": self.score,
            "text": self.text,
            "legs": list(self.legs),
        }
        if self.locator is not None:  # absent rather than null: older readers stay unchanged
            data["locator"] = self.locator
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        page = data.get("page")
        return cls(
            n=int(data["n"]),
            doc_id=str(data["doc_id"]),
            filename=str(data["filename"]),
            page=int(page) if page is not None else None,
            score=float(data["score"]),
            text=str(data["text"]),
            legs=tuple(str(leg) for leg in data.get("legs") or () if leg in _LEGS),
            locator=str(data["locator"]) if data.get("locator") is not None else None,
        )


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str
    time: float
    citations: tuple[Citation, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "role": self.role,
            "content": self.content,
            "time": self.time,
            "citations": [c.to_dict() for c in self.citations],
        }
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        known = {"role", "content", "time", "citations"}
        return cls(
            role=str(data["role"]),
            content=str(data["content"]),
            time=float(data.get("time", 0.0)),
            citations=tuple(Citation.from_dict(c) for c in data.get("citations") or []),
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A semantic-cache hit: the answer of an earlier, similar enough question."""

    entry_id: str
    question: str
    answer: str
    citations: tuple[Citation, ...]
    model: str
    created: float
    similarity: float
