"""Putting small documents into a store the way the indexing service does."""

from __future__ import annotations

from collections.abc import Sequence

from ragis.store import ChunkText, DocumentRecord, Store, Vector
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
    texts: Sequence[str] | None = None,
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
        ChunkText(texts[i] if texts else f"text {i} of {doc_id}", i, pages[i] if pages else None)
        for i in range(len(vectors))
    ]
    await store.documents.write_chunks(info, record, chunks, vectors)
    if ready:
        await store.documents.mark_ready(collection, doc_id)
    return record
