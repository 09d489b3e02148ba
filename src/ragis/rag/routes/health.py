from __future__ import annotations

import asyncio

from fastapi import APIRouter

from ragis.errors import RedisUnavailable
from ragis.llm.select import describe_selection
from ragis.rag.deps import ServicesDep, SettingsDep
from ragis.rag.schemas import HealthPart, HealthPublic

router = APIRouter(tags=["health"])


@router.get(
    "/health", response_model=HealthPublic, summary="Redis, embedder and LLM: ok or why not"
)
async def health(services: ServicesDep, settings: SettingsDep) -> HealthPublic:
    async def redis_part() -> HealthPart:
        try:
            await services.store.ping()
        except RedisUnavailable as exc:
            return HealthPart(ok=False, detail=exc.message)
        return HealthPart(ok=True, detail="Redis 8 with Vector Sets answers")

    async def llm_part() -> HealthPart:
        if services.llm is None:
            return HealthPart(ok=True, detail=describe_selection(None))
        state = await services.llm.health()
        return HealthPart(ok=state.ok, detail=state.detail)

    redis_state, llm_state = await asyncio.gather(redis_part(), llm_part())
    embedder_state = HealthPart(ok=True, detail=services.embedder.describe())
    ok = redis_state.ok and llm_state.ok
    return HealthPublic(
        status="ok" if ok else "degraded",
        redis=redis_state,
        embedder=embedder_state,
        llm=llm_state,
        provider=services.llm.name if services.llm else "none",
        model=services.llm.model if services.llm else None,
        max_message_chars=settings.max_message_chars,
    )
