"""Collections and their documents, for the gateway's document management, in the workspace
the gateway names (`WorkspaceStoreDep`): another workspace's collection is not there (404).

Listings first remove documents whose ingestion was interrupted (store/recovery.py): a listing
never shows a document stuck in `ingesting` without a writer, and a collection's `chunks` count
what is searchable plus what live writers are adding.

A collection answers with its own grounded threshold (`min_score`, set with PATCH; null when the
service's RAGIS_MIN_SCORE applies) and the one that applies (`effective_min_score`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from ragis.contract import (
    CollectionPublic,
    CollectionsPublic,
    CollectionUpdate,
    DocumentPassages,
    DocumentPublic,
    DocumentsPublic,
    DocumentUpdate,
    ErrorPublic,
    OptionalJsonInt,
    StoredPassage,
)
from ragis.contract.documents import MAX_SOURCE_CHARS
from ragis.contract.search import MAX_PASSAGES_PER_READ
from ragis.errors import NotFound
from ragis.rag.deps import EmbedderDep, SettingsDep, WorkspaceStoreDep
from ragis.store import CollectionInfo, DocumentRecord, DocumentStatus
from ragis.store.keys import ID_PATTERN as LONG_ID
from ragis.store.keys import NAME_PATTERN as NAME

router = APIRouter(tags=["collections"])


class CollectionCreate(BaseModel):
    name: str = Field(pattern=NAME)
    shards: OptionalJsonInt = Field(  # `"2"` or `true` is not a number
        default=None,
        ge=1,
        le=256,
        description="Vector-set shards (Redis Cluster); default RAGIS_SHARDS. Fixed at creation.",
    )


def _collection(info: CollectionInfo, default_min_score: float) -> CollectionPublic:
    return CollectionPublic(
        name=info.name,
        model=info.model,
        dim=info.dim,
        quantization=info.quantization,
        documents=info.documents,
        chunks=info.vectors,
        version=info.version,
        created=info.created,
        shards=info.shards,
        min_score=info.min_score,
        effective_min_score=info.min_score if info.min_score is not None else default_min_score,
        keyword_index="ready" if info.lexical is not None else "building",
    )


def _document(record: DocumentRecord) -> DocumentPublic:
    return DocumentPublic(
        id=record.id,
        filename=record.filename,
        content_type=record.content_type,
        size=record.size,
        sha256=record.sha256,
        chunks=record.chunk_count,
        pages=record.pages,
        created=record.created,
        status=record.status.value,
        tags=record.tags,
        error=record.error,
        source=record.source,
        original=record.original,
    )


@router.get("/collections", response_model=CollectionsPublic, summary="All collections")
async def list_collections(store: WorkspaceStoreDep, settings: SettingsDep) -> CollectionsPublic:
    await store.recovery.sweep_all()
    found = await store.collections.list()
    return CollectionsPublic(collections=[_collection(c, settings.min_score) for c in found])


@router.post(
    "/collections",
    response_model=CollectionPublic,
    responses={422: {"model": ErrorPublic}},
    summary="Create an empty collection (idempotent)",
)
async def create_collection(
    body: CollectionCreate, store: WorkspaceStoreDep, embedder: EmbedderDep, settings: SettingsDep
) -> CollectionPublic:
    # `embedder` is the default: an existing collection keeps its own model (idempotent).
    if await store.collections.get(body.name) is None:
        await store.collections.ensure(
            body.name, model=embedder.model_name, dim=embedder.dim, shards=body.shards
        )
    info = await store.collections.get(body.name)
    if info is None:  # deleted between the two calls
        raise NotFound(f"The collection {body.name!r} was deleted meanwhile.")
    return _collection(info, settings.min_score)


@router.patch(
    "/collections/{name}",
    response_model=CollectionPublic,
    responses={404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
    summary="Change a collection's settings (its grounded threshold)",
)
async def update_collection(
    body: CollectionUpdate,
    store: WorkspaceStoreDep,
    settings: SettingsDep,
    name: str = Path(pattern=NAME),
) -> CollectionPublic:
    await store.collections.set_min_score(name, body.min_score)
    info = await store.collections.get(name)
    if info is None:  # deleted between the two calls
        raise NotFound(f"The collection {name!r} was deleted meanwhile.")
    return _collection(info, settings.min_score)


@router.delete(
    "/collections/{name}",
    responses={404: {"model": ErrorPublic}},
    summary="Delete a collection and everything in it",
)
async def delete_collection(
    store: WorkspaceStoreDep, name: str = Path(pattern=NAME)
) -> dict[str, object]:
    await store.collections.require(name)
    removed = await store.collections.delete(name)
    return {"deleted": True, "name": name, "keys_removed": removed}


@router.get(
    "/collections/{name}/documents",
    response_model=DocumentsPublic,
    responses={404: {"model": ErrorPublic}},
    summary="The documents of a collection, oldest first",
)
async def list_documents(
    store: WorkspaceStoreDep,
    name: str = Path(pattern=NAME),
    source: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_SOURCE_CHARS,
            description="Only the ready document with this exact source.",
        ),
    ] = None,
) -> DocumentsPublic:
    await store.collections.require(name)
    await store.recovery.sweep(name)
    if source is not None:
        found = await store.documents.find_by_source(name, source)
        return DocumentsPublic(collection=name, documents=[_document(found)] if found else [])
    records = await store.documents.list(name)
    # A version retired by a replacement is on its way out: never listed beside its successor.
    return DocumentsPublic(
        collection=name,
        documents=[_document(r) for r in records if r.status is not DocumentStatus.RETIRED],
    )


@router.patch(
    "/collections/{name}/documents/{doc_id}",
    response_model=DocumentPublic,
    responses={404: {"model": ErrorPublic}, 409: {"model": ErrorPublic}},
    summary="Change a ready document's source and/or tags (no re-embedding)",
    description="A source another ready document has is refused (409 `source_taken`). New "
    "tags replace the old ones in the record and in every chunk's filter attributes, and the "
    "collection's version is bumped (its cached answers were filtered by the old tags).",
)
async def update_document(
    body: DocumentUpdate,
    store: WorkspaceStoreDep,
    name: str = Path(pattern=NAME),
    doc_id: str = Path(pattern=LONG_ID),
) -> DocumentPublic:
    await store.collections.require(name)
    record = await store.documents.require(name, doc_id)
    if body.source is not None:
        record = await store.documents.rename(name, doc_id, body.source)
    if body.tags is not None:
        record = await store.documents.set_tags(name, doc_id, body.tags)
    return _document(record)


@router.get(
    "/collections/{name}/documents/{doc_id}",
    response_model=DocumentPublic,
    responses={404: {"model": ErrorPublic}},
    summary="One document's record",
)
async def get_document(
    store: WorkspaceStoreDep,
    name: str = Path(pattern=NAME),
    doc_id: str = Path(pattern=LONG_ID),
) -> DocumentPublic:
    record = await store.documents.require(name, doc_id)
    if record.status is not DocumentStatus.READY:
        await store.recovery.sweep(name)
        record = await store.documents.require(name, doc_id)
    return _document(record)


@router.get(
    "/collections/{name}/documents/{doc_id}/passages",
    response_model=DocumentPassages,
    responses={404: {"model": ErrorPublic}, 422: {"model": ErrorPublic}},
    summary="A document's stored passages, in order, from `start`",
)
async def document_passages(
    store: WorkspaceStoreDep,
    name: str = Path(pattern=NAME),
    doc_id: str = Path(pattern=LONG_ID),
    start: Annotated[int, Query(ge=0, le=10_000_000, description="The first position.")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PASSAGES_PER_READ, description="At most this many passages.")
    ] = 50,
) -> DocumentPassages:
    info = await store.collections.require(name)
    record = await store.documents.require(name, doc_id)
    total = record.chunk_count
    # Past the end: nothing to read (no round trip), the total says where the end is.
    chunks = (
        await store.chunks.in_order(info, doc_id, min(start + limit, total), start=start)
        if start < total
        else []
    )
    return DocumentPassages(
        collection=name,
        document=_document(record),
        start=start,
        total=total,
        passages=[
            StoredPassage(position=c.position, page=c.page, locator=c.locator, text=c.text)
            for c in chunks
        ],
    )
