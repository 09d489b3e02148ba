from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Path
from starlette.responses import Response

from ragis.errors import TooLarge
from ragis.obs import hooks
from ragis.rag.deps import CallerDep, IndexDep, SettingsDep, WorkspaceStoreDep
from ragis.rag.index_stream import NDJSON, NdjsonResponse, index_lines, wants_stream
from ragis.rag.indexing import IndexResult, Progress
from ragis.rag.schemas import ErrorPublic, IndexRequest, IndexResponse, IndexTimings
from ragis.store import DocumentRecord
from ragis.store.keys import ID_PATTERN as LONG_ID
from ragis.store.keys import NAME_PATTERN as NAME

router = APIRouter(tags=["index"])

INDEX_DOC = """With `Accept: application/x-ndjson`, the answer streams one JSON object per line:
`{"type": "progress", "embedded": n, "total": N}` after each written batch, then `{"type":
"result", ...IndexResponse}` or `{"type": "error", "status": int, "error": {code, message}}`.
A client that closes the stream cancels the indexing: nothing of the document is kept. The
request's own checks (limits, a malformed body) still answer JSON errors before any line."""


@router.post(
    "/index",
    response_model=IndexResponse,
    responses={
        200: {"content": {NDJSON: {"schema": {"type": "object"}}}},
        413: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
    },
    summary="Embed and index one document's chunks (replaces a document with the same id)",
    description=INDEX_DOC,
)
async def index_document(
    body: IndexRequest,
    indexer: IndexDep,
    settings: SettingsDep,
    caller: CallerDep,
    accept: str | None = Header(None, include_in_schema=False),
) -> IndexResponse | Response:
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
    record = DocumentRecord(
        id=doc.id,
        filename=doc.filename,
        content_type=doc.content_type,
        size=doc.size,
        sha256=doc.sha256,
        pages=doc.pages,
        tags=list(doc.tags),
        source=doc.source,
    )

    async def run(progress: Progress | None = None) -> IndexResult:
        return await indexer.index(
            body.collection, record, body.chunks, workspace=caller.workspace,
            replaces=body.replaces, progress=progress,
        )  # fmt: skip

    if wants_stream(accept):

        async def answer(progress: Progress) -> dict[str, Any]:
            return _response(await run(progress)).model_dump(mode="json")

        return NdjsonResponse(index_lines(answer))
    return _response(await run())


def _response(result: IndexResult) -> IndexResponse:
    hooks.indexed(
        chunks=result.chunks, duplicate=result.duplicate, embed_ms=result.embed_ms,
        write_ms=result.write_ms, total_ms=result.total_ms,
    )  # fmt: skip
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
