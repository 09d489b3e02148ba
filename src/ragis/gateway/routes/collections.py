"""Collections, passed through to the RAG service, in the request's workspace: viewers list,
editors create, change (the grounded threshold) and delete; viewers read a document's passages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from ragis.contract import ID_PATTERN as LONG_ID
from ragis.contract import NAME_PATTERN as NAME
from ragis.contract import CollectionUpdate, DocumentPassages
from ragis.contract.search import MAX_PASSAGES_PER_READ
from ragis.gateway import audit_trail
from ragis.gateway.audit_trail import Action
from ragis.gateway.deps import RagDep
from ragis.gateway.identity import EditorDep, ViewerDep
from ragis.gateway.schemas import (
    CollectionDeleted,
    CollectionPublic,
    CollectionsPublic,
    ErrorPublic,
)
from ragis.web.openapi import json_error

router = APIRouter(prefix="/api/collections", tags=["collections"])


class CollectionCreate(BaseModel):
    name: str = Field(pattern=NAME, description="Letters, digits, '_', '.', '-'; up to 64.")


@router.get(
    "",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={200: {"model": CollectionsPublic}, 503: {"model": ErrorPublic}},
    summary="All collections",
)
async def list_collections(rag: RagDep, access: ViewerDep) -> dict[str, Any]:
    return await rag.list_collections(access.caller)


@router.post(
    "",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": CollectionPublic},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Create an empty collection (idempotent)",
)
async def create_collection(
    body: CollectionCreate, rag: RagDep, access: EditorDep
) -> dict[str, Any]:
    return await rag.create_collection(body.name, access.caller)


@router.patch(
    "/{name}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": CollectionPublic},
        403: {"model": ErrorPublic, "description": "Only a viewer of the workspace"},
        404: {"model": ErrorPublic, "description": "No such collection in the workspace"},
        413: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Change a collection's grounded threshold",
    description="`min_score`: the collection's own threshold for a grounded answer (0 to 1), "
    "or null for the service's (RAGIS_MIN_SCORE). Answers the collection as the listing shows it.",
)
async def update_collection(
    body: CollectionUpdate,
    request: Request,
    rag: RagDep,
    access: EditorDep,
    name: str = Path(pattern=NAME),
) -> dict[str, Any]:
    updated = await rag.update_collection(name, body, access.caller)  # a refusal raises
    await audit_trail.record(
        request, Action.COLLECTION_UPDATED, access.identity, name, workspace=access.workspace
    )
    return updated


@router.delete(
    "/{name}",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": CollectionDeleted},
        404: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Delete a collection and everything in it",
)
async def delete_collection(
    request: Request, rag: RagDep, access: EditorDep, name: str = Path(pattern=NAME)
) -> dict[str, Any]:
    deleted = await rag.delete_collection(name, access.caller)  # a refusal raises
    await audit_trail.record(
        request, Action.COLLECTION_DELETED, access.identity, name, workspace=access.workspace
    )
    return deleted


@router.get(
    "/{name}/documents/{doc_id}/passages",
    response_model=None,  # the RAG service's answer, unfiltered
    responses={
        200: {"model": DocumentPassages},
        404: json_error("No such collection or document in the workspace.", ErrorPublic),
        422: json_error("A bad window (`start` < 0, `limit` not 1 to 200).", ErrorPublic),
        503: {"model": ErrorPublic},
    },
    summary="A document's stored passages, in order",
    description="The passages from position `start` on, at most `limit`; an empty list when "
    "`start` is at or past `total`. Read a cited passage (its `position`) or a whole document, "
    "a window at a time.",
)
async def document_passages(
    rag: RagDep,
    access: ViewerDep,
    name: str = Path(pattern=NAME),
    doc_id: str = Path(pattern=LONG_ID),
    start: Annotated[int, Query(ge=0, le=10_000_000, description="The first position.")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PASSAGES_PER_READ, description="At most this many passages.")
    ] = 50,
) -> dict[str, Any]:
    return await rag.document_passages(name, doc_id, start, limit, access.caller)
