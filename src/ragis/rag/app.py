"""The RAG service's FastAPI app: wiring only. Dependencies are built in the lifespan.

`create_app(settings)` refuses to build a service without RAGIS_INTERNAL_TOKEN and puts the
token check in front of every path (rag/auth.py). The lifespan builds everything at start-up:
the Redis client (checked for Vector Sets), the data migrated to the current format (refused
if newer: ragis.store.migrations), the data layer, the embedders (ragis.embedding.registry:
the built-in model chosen and loaded once, off the event loop, the first start on a machine
measuring the backends (ragis.embedding.select); or an embedding server's model, probed), the
LLM provider. Tests pass an already loaded built-in embedder so the model loads once per test
session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ragis import __version__
from ragis.db import connect
from ragis.embedding import Embedder
from ragis.embedding.registry import Embedders
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
    reindex,
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
        embedders: Embedders | None = None
        llm = None
        recovery: asyncio.Task[None] | None = None
        backfill: asyncio.Task[None] | None = None
        try:
            # Before anything reads data: refuse a newer format, move an older one.
            await migrate(redis, settings.key_prefix, url=settings.redis_url)
            # The default for new collections (the built-in model, loaded now, or the remote
            # one, probed now) and the models existing collections recorded, made on demand.
            embedders = await Embedders.start(settings, builtin=embedder)
            llm = await select_provider(settings)
            store = Store.create(redis, settings)
            # Before serving: remove what writers killed earlier left half-written.
            recovery = await start_recovery(store, every=settings.index_lease)
            # Collections from before the keyword index get one, while the service serves.
            backfill = start_backfill(store)
            app.state.services = Services(
                settings=settings,
                store=store,
                embedders=embedders,
                llm=llm,
                indexer=IndexService(
                    store,
                    embedders,
                    batch_size=settings.embed_batch_size,
                    lease=settings.index_lease,
                ),
                chat=ChatService(store, embedders, llm, settings),
                searcher=Searcher(store, embedders, settings),
            )
            log.info(
                "embedder: %s (new collections; provider %s); LLM: %s",
                embedders.default.describe(),
                embedders.provider,
                describe_selection(llm),
            )
            yield
        finally:
            if embedders is not None:
                await embedders.aclose()
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
    app.include_router(reindex.router)
    app.include_router(models.router)
    # Outermost: request ids, metrics and spans for every request, refusals included.
    observe(app, "rag", settings)
    return app
