"""Collections, passed through to the RAG service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from ragis.gateway.deps import RagDep
from ragis.gateway.schemas import ErrorPublic
from ragis.store.keys import NAME_PATTERN as NAME

router = APIRouter(prefix="/api/collections", tags=["collections"])


class CollectionCreate(BaseModel):
    name: str = Field(pattern=NAME, description="Letters, digits, '_', '.', '-'; up to 64.")


@router.get("", responses={503: {"model": ErrorPublic}}, summary="All collections")
async def list_collections(rag: RagDep) -> dict[str, Any]:
    return await rag.list_collections()


@router.post(
    "",
    responses={422: {"model": ErrorPublic}, 503: {"model": ErrorPublic}},
    summary="Create an empty collection (idempotent)",
)
async def create_collection(body: CollectionCreate, rag: RagDep) -> dict[str, Any]:
    return await rag.create_collection(body.name)


@router.delete(
    "/{name}",
    responses={404: {"model": ErrorPublic}, 503: {"model": ErrorPublic}},
    summary="Delete a collection and everything in it",
)
async def delete_collection(rag: RagDep, name: str = Path(pattern=NAME)) -> dict[str, Any]:
    return await rag.delete_collection(name)
