"""`GET /api/health`: the gateway, the RAG service, what the RAG service says of its parts, and
the limits of an upload and of a question (so that a client can refuse what is too large before
sending it).

While sign-in is on, a caller without valid credentials gets only `{"status"}` (a load
balancer's question): the parts, versions, model and URLs are for signed-in callers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ragis import __version__
from ragis.errors import AuthError, RedisUnavailable, UpstreamError
from ragis.gateway.deps import RagDep, SettingsDep
from ragis.gateway.identity import resolve
from ragis.gateway.rag_client import RagAnswerError
from ragis.gateway.schemas import (
    HealthPart,
    HealthPublic,
    HealthStatus,
    LimitsPublic,
    RagHealthPart,
)
from ragis.gateway.settings import GatewaySettings

router = APIRouter(prefix="/api", tags=["health"])

PARTS = ("redis", "embedder", "llm")


@router.get(
    "/health",
    response_model=HealthPublic | HealthStatus,
    summary="Every part: ok or why not (always 200; `status` says degraded)",
    description="Without credentials while sign-in is on: only `status`.",
)
async def health(
    request: Request, rag: RagDep, settings: SettingsDep
) -> HealthPublic | HealthStatus:
    full = await _full(rag, settings)
    if await _signed_in(request):
        return full
    return HealthStatus(status=full.status)


async def _signed_in(request: Request) -> bool:
    try:
        await resolve(request)
    except (AuthError, RedisUnavailable):
        # Redis down: health still answers (degraded comes from the RAG service's view).
        return False
    return True


async def _full(rag: RagDep, settings: SettingsDep) -> HealthPublic:
    gateway = HealthPart(ok=True, detail=f"ragis gateway {__version__} answers")
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
            limits=_limits(settings, None),
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
        limits=_limits(settings, body.get("max_message_chars")),
    )


def _part(value: Any) -> HealthPart:
    if isinstance(value, dict) and isinstance(value.get("ok"), bool):
        return HealthPart(ok=value["ok"], detail=str(value.get("detail", "")))
    return HealthPart(ok=False, detail="the RAG service did not report this part")


def _limits(settings: GatewaySettings, max_message_chars: Any) -> LimitsPublic:
    # The message limit is the RAG service's setting: the gateway only relays what it reports.
    valid = isinstance(max_message_chars, int) and not isinstance(max_message_chars, bool)
    return LimitsPublic(
        max_upload_bytes=settings.max_upload_bytes,
        max_files_per_upload=settings.max_files_per_upload,
        max_message_chars=max_message_chars if valid and max_message_chars > 0 else None,
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
