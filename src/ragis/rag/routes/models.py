"""`GET /models`: the LLM models a chat turn may name (`ChatRequest.model`)."""

from __future__ import annotations

from fastapi import APIRouter

from ragis.contract import ModelsPublic
from ragis.rag.deps import ChatDep

router = APIRouter(tags=["chat"])


@router.get(
    "/models",
    response_model=ModelsPublic,
    summary="The LLM provider's models (kept 30 s); the default alone while it does not answer",
)
async def list_models(chat: ChatDep) -> ModelsPublic:
    listing = await chat.catalog.listing()
    return ModelsPublic(
        provider=listing.provider,
        default=listing.default,
        models=list(listing.models),
        error=listing.error,
    )
