from __future__ import annotations

from fastapi import APIRouter, Path

from ragis.errors import TooLarge
from ragis.rag.deps import CallerDep, IndexDep, SettingsDep, WorkspaceStoreDep
from ragis.rag.schemas import ErrorPublic, IndexRequest, IndexResponse, IndexTimings
from ragis.store import DocumentRecord
from ragis.store.keys import ID_PATTERN as LONG_ID
from ragis.store.keys import NAME_PATTERN as NAME

router = APIRouter(tags=["index"])


@router.post(
    "/index",
    response_model=IndexResponse,
    responses={413: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
    summary="Embed and index one document's chunks (replaces a document with the same id)",
)
async def index_document(
    body: IndexRequest, indexer: IndexDep, settings: SettingsDep, caller: CallerDep
) -> IndexResponse:
    if len(body.chunks) > settings.index_max_chunks:
        raise TooLarge(
            f"{len(body.chunks)} chunks in one document; the limit is "
            f"{settings.index_max_chunks} (RAGIS_INDEX_MAX_CHUNKS)."
        )
    for chunk in body.chunks:
        if len(chunk.text) > settings.max_text_chars:
            raise TooLarge(
                f"Chunk {chunk.position} has {len(chunk.text)} characters; the limit is "
                f"{settings.max_text_chars} (RAGIS_MAX_TEXT_CHARS)."
            )
    doc = body.document
    result = await indexer.index(
        body.collection,
        DocumentRecord(
            id=doc.id,
            filename=doc.filename,
            content_type=doc.content_type,
            size=doc.size,
            sha256=doc.sha256,
            pages=doc.pages,
            tags=list(doc.tags),
            source=doc.source,
        ),
        body.chunks,
        workspace=caller.workspace,
        replaces=body.replaces,
    )
    return IndexResponse(
        collection=result.collection,
        document_id=result.document_id,
        chunks=result.chunks,
        duplicate=result.duplicate,
        replaced=result.replaced,
        retired=result.retired,
        version=result.version,
        timings=IndexTimings(
            embed_ms=result.embed_ms, write_ms=result.write_ms, total_ms=result.total_ms
        ),
    )


@router.delete(
    "/index/{collection}/{doc_id}",
    responses={404: {"model": ErrorPublic}},
    summary="Remove a document's vectors, chunks and record",
)
async def delete_document(
    store: WorkspaceStoreDep,
    collection: str = Path(pattern=NAME),
    doc_id: str = Path(pattern=LONG_ID),
) -> dict[str, object]:
    record = await store.documents.delete(collection, doc_id)
    return {
        "deleted": True,
        "collection": collection,
        "document_id": record.id,
        "version": await store.collections.version(collection),
    }
