"""Putting small documents into a store the way the indexing service does."""

from __future__ import annotations

from collections.abc import Sequence

from ragis.store import (
    DocumentRecord,
    Store,
    StoredChunk,
    Vector,
    VectorItem,
    chunk_id,
)
from support.vectors import DIM

MODEL = "test-model"


async def add_document(
    store: Store,
    collection: str,
    doc_id: str,
    vectors: Sequence[Vector],
    *,
    filename: str = "doc.txt",
    sha256: str | None = None,
    tags: Sequence[str] = (),
    ready: bool = True,
    pages: Sequence[int | None] | None = None,
) -> DocumentRecord:
    info = await store.collections.ensure(collection, model=MODEL, dim=DIM)
    record = await store.documents.begin(
        collection,
        DocumentRecord(
            id=doc_id,
            filename=filename,
            content_type="text/plain",
            size=100,
            sha256=sha256 or f"sha-{doc_id}",
            chunk_count=len(vectors),
            tags=list(tags),
        ),
    )
    chunks = [
        StoredChunk(
            id=chunk_id(doc_id, i),
            doc_id=doc_id,
            text=f"text {i} of {doc_id}",
            position=i,
            page=pages[i] if pages else None,
        )
        for i in range(len(vectors))
    ]
    await store.chunks.put_many(info, chunks)
    await store.vectors.add(
        info,
        [
            VectorItem(
                id=c.id,
                vector=v,
                attributes={"doc": doc_id, "src": filename, "pos": c.position, "tags": list(tags)},
            )
            for c, v in zip(chunks, vectors, strict=True)
        ],
    )
    if ready:
        await store.documents.mark_ready(collection, doc_id)
    return record
