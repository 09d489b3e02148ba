"""`GET /api/health`: the gateway, the RAG service, what the RAG service says of its parts, and
the upload limits (so that a client can refuse a file that is too large before sending it)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ragis import __version__
from ragis.errors import UpstreamError
from ragis.gateway.deps import RagDep, SettingsDep
from ragis.gateway.rag_client import RagAnswerError
from ragis.gateway.schemas import HealthPart, HealthPublic, LimitsPublic, RagHealthPart

router = APIRouter(prefix="/api", tags=["health"])

PARTS = ("redis", "embedder", "llm")


@router.get(
    "/health",
    response_model=HealthPublic,
    summary="Every part: ok or why not (always 200; `status` says degraded)",
)
async def health(rag: RagDep, settings: SettingsDep) -> HealthPublic:
    gateway = HealthPart(ok=True, detail=f"ragis gateway {__version__} answers")
    limits = LimitsPublic(
        max_upload_bytes=settings.max_upload_bytes,
        max_files_per_upload=settings.max_files_per_upload,
    )
    try:
        url, body = await rag.health()
    except (RagAnswerError, UpstreamError) as exc:
        unknown = HealthPart(ok=False, detail="unknown: the RAG service does not answer")
        return HealthPublic(
            status="degraded",
            gateway=gateway,
            rag=RagHealthPart(ok=False, detail=exc.message, url=", ".join(rag.urls)),
            redis=unknown,
            embedder=unknown,
            llm=unknown,
            provider=None,
            model=None,
            limits=limits,
        )
    redis, embedder, llm = (_part(body.get(name)) for name in PARTS)
    ok = body.get("status") == "ok" and redis.ok and embedder.ok and llm.ok
    return HealthPublic(
        status="ok" if ok else "degraded",
        gateway=gateway,
        rag=RagHealthPart(ok=True, detail="the RAG service answers", url=url),
        redis=redis,
        embedder=embedder,
        llm=llm,
        provider=_text(body.get("provider")),
        model=_text(body.get("model")),
        limits=limits,
    )


def _part(value: Any) -> HealthPart:
    if isinstance(value, dict) and isinstance(value.get("ok"), bool):
        return HealthPart(ok=value["ok"], detail=str(value.get("detail", "")))
    return HealthPart(ok=False, detail="the RAG service did not report this part")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
