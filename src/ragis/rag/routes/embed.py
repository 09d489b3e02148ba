from __future__ import annotations

from fastapi import APIRouter

from ragis.embedding import encode_vectors
from ragis.errors import TooLarge
from ragis.rag.deps import EmbeddersDep, SettingsDep
from ragis.rag.schemas import EmbedRequest, EmbedResponse, ErrorPublic

router = APIRouter(tags=["embeddings"])


@router.post(
    "/embed",
    response_model=EmbedResponse,
    responses={
        409: {"model": ErrorPublic},
        413: {"model": ErrorPublic},
        422: {"model": ErrorPublic},
        503: {"model": ErrorPublic},
    },
    summary="Embed texts (L2-normalised, base64 little-endian float32)",
)
async def embed(
    body: EmbedRequest, embedders: EmbeddersDep, settings: SettingsDep
) -> EmbedResponse:
    if len(body.texts) > settings.embed_max_texts:
        raise TooLarge(
            f"{len(body.texts)} texts in one request; the limit is {settings.embed_max_texts} "
            "(RAGIS_EMBED_MAX_TEXTS): send them in batches."
        )
    for i, text in enumerate(body.texts):
        if len(text) > settings.max_text_chars:
            raise TooLarge(
                f"Text {i} has {len(text)} characters; the limit is {settings.max_text_chars} "
                "(RAGIS_MAX_TEXT_CHARS). The model reads only its first 256 tokens anyway."
            )
    embedder = await embedders.get(body.model) if body.model else embedders.default
    vectors = await embedder.embed(body.texts)
    return EmbedResponse(
        model=embedder.model_name, dim=embedder.dim, embeddings=encode_vectors(vectors)
    )
