"""`GET /api/models`: the LLM models a question may name (`model` of the chat request), as the
RAG service's provider lists them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ragis.contract import ModelsPublic
from ragis.gateway.deps import RagDep
from ragis.gateway.identity import ViewerDep
from ragis.gateway.schemas import ErrorPublic

router = APIRouter(prefix="/api/models", tags=["chat"])


@router.get(
    "",
    response_model=ModelsPublic,
    responses={503: {"model": ErrorPublic}},
    summary="The LLM provider's models (kept 30 s); the default alone, with `error`, while it "
    "does not answer",
)
async def list_models(rag: RagDep, access: ViewerDep) -> Any:
    return await rag.models()
