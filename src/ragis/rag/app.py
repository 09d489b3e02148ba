"""The RAG service's FastAPI app: wiring only. Dependencies are built in the lifespan.

`create_app(settings)` refuses to build a service without RAGIS_INTERNAL_TOKEN and puts the
token check in front of every path (rag/auth.py). The lifespan builds everything at start-up:
the Redis client (checked for Vector Sets), the data migrated to the current format (refused
if newer: ragis.store.migrations), the data layer, the embedder (chosen and loaded once, off
the event loop: the first start on a machine measures the backends, see
ragis.embedding.select), the LLM provider. Tests pass an already loaded embedder so the model
loads once per test session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ragis import __version__
from ragis.db import connect
from ragis.embedding import Embedder, load_embedder
from ragis.errors import ConfigError
from ragis.llm.select import describe_selection, select_provider
from ragis.obs import observe
from ragis.rag.auth import InternalToken, require_token
from ragis.rag.backfill import start_backfill, stop_backfill
from ragis.rag.chat import ChatService
from ragis.rag.deps import Services
from ragis.rag.indexing import IndexService
from ragis.rag.recovery import start_recovery, stop_recovery
from ragis.rag.routes import (
    chat,
    collections,
    embed,
    health,
    index,
    models,
    originals,
    search,
    sessions,
    workspace,
)
from ragis.rag.search import Searcher
from ragis.rag.settings import RagSettings
from ragis.store import Store
from ragis.store.migrations import migrate
from ragis.web.errors import install_error_handlers

__all__ = ["create_app"]

log = logging.getLogger("ragis.rag")


def create_app(settings: RagSettings, *, embedder: Embedder | None = None) -> FastAPI:
    # Refused here, not in the lifespan: a service that would answer anyone must not start.
    token = require_token(
        settings.internal_token.get_secret_value() if settings.internal_token else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.redis_url:
            raise ConfigError(
                "The RAG service needs REDIS_URL (ragis up sets it to the embedded Redis)."
            )
        redis = await connect(settings.redis_url)
        own_embedder = embedder is None
        llm = None
        recovery: asyncio.Task[None] | None = None
        backfill: asyncio.Task[None] | None = None
        try:
            # Before anything reads data: refuse a newer format, move an older one.
            await migrate(redis, settings.key_prefix, url=settings.redis_url)
            model: Embedder = (
                embedder
                if embedder is not None
                else await asyncio.to_thread(
                    load_embedder,
                    settings.embed_backend,
                    cache_dir=settings.model_cache_dir,
                    batch_size=settings.embed_batch_size,
                    threads=settings.embed_threads or None,
                )
            )
            llm = await select_provider(settings)
            store = Store.create(redis, settings)
            # Before serving: remove what writers killed earlier left half-written.
            recovery = await start_recovery(store, every=settings.index_lease)
            # Collections from before the keyword index get one, while the service serves.
            backfill = start_backfill(store)
            app.state.services = Services(
                settings=settings,
                store=store,
                embedder=model,
                llm=llm,
                indexer=IndexService(
                    store, model, batch_size=settings.embed_batch_size, lease=settings.index_lease
                ),
                chat=ChatService(store, model, llm, settings),
                searcher=Searcher(store, model, settings),
            )
            log.info("embedder: %s; LLM: %s", model.describe(), describe_selection(llm))
            yield
            if own_embedder:
                await model.aclose()
        finally:
            if backfill is not None:
                await stop_backfill(backfill)
            if recovery is not None:
                await stop_recovery(recovery)
            if llm is not None:
                await llm.aclose()
            await redis.aclose()

    app = FastAPI(
        title="ragis RAG service",
        version=__version__,
        description=(
            "Internal service of ragis: embeddings, indexing into Redis Vector Sets, retrieval "
            "and streamed answers with citations. Its only public caller is the gateway. "
            'Errors are `{"error": {"code", "message"}}` with a 4xx/5xx status.'
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    # Outermost: nothing of the app runs for a request without the token.
    app.add_middleware(InternalToken, token=token)
    for module in (embed, index, collections, originals, chat, search, sessions, workspace, health):
        app.include_router(module.router)
    app.include_router(models.router)
    # Outermost: request ids, metrics and spans for every request, refusals included.
    observe(app, "rag", settings)
    return app
