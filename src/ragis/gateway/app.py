"""The gateway's FastAPI app: wiring only. Its parts are built in the lifespan.

`create_app(settings)` does no work: at start-up the lifespan opens one `aiohttp.ClientSession`
for the RAG service (`rag_client.new_session`: no proxies from the environment, no compression,
streams must flow as they come), closed at shutdown, loads the chunker's tokenizer once, off
the event loop, and starts the forkserver of the parse sandbox (`ragis.ingest.sandbox`). The app
carries its uvicorn options (`ragis.web.guards`: header timeout, connection cap) for
`ragis.web.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from ragis import __version__
from ragis.gateway.accounts_setup import open_gateway_accounts, open_gateway_preferences
from ragis.gateway.deps import GatewayServices
from ragis.gateway.identity import require_identity
from ragis.gateway.limits import BodyLimit
from ragis.gateway.mcp_endpoint import MCP_PATH, McpEndpoint, McpRoute
from ragis.gateway.metrics_access import metrics_access
from ragis.gateway.origin import SameOrigin
from ragis.gateway.pipeline import Pipeline
from ragis.gateway.rag_client import RagAnswerError, RagClient, new_session
from ragis.gateway.routes import (
    audit,
    auth,
    chat,
    collections,
    documents,
    health,
    keys,
    models,
    openai,
    originals,
    preferences,
    reindex,
    search,
    sessions,
    static,
    url,
    users,
    workspaces,
)
from ragis.gateway.schemas import ErrorPublic
from ragis.gateway.security import SecurityHeaders
from ragis.gateway.settings import GatewaySettings
from ragis.ingest import Chunker, IngestLimits
from ragis.ingest.ocr import OcrSettings
from ragis.ingest.sandbox import ParseSandbox, SandboxLimits
from ragis.obs import observe
from ragis.web.errors import error_body, install_error_handlers
from ragis.web.guards import server_options
from ragis.web.openapi import json_error

__all__ = ["create_app"]

log = logging.getLogger("ragis.gateway")

MAX_API_BODY = 1024 * 1024  # every request body but an upload's
UPLOAD_PATH = "/api/documents/upload"
DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/openapi.json"
SIGNED_IN_ERRORS: dict[int | str, dict[str, Any]] = {
    # JSON whatever the route's own response class (the chat's is an event stream).
    401: json_error("No valid session or API key", ErrorPublic),
}


def create_app(settings: GatewaySettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        chunker = Chunker(settings.chunk_tokens, settings.chunk_overlap)
        await asyncio.to_thread(lambda: chunker.tokenizer)
        limits = IngestLimits(max_file_bytes=settings.max_upload_bytes, ocr=_ocr(settings))
        sandbox = ParseSandbox(limits, _sandbox_limits(settings))
        await asyncio.to_thread(sandbox.start)
        async with (
            open_gateway_accounts(settings) as accounts,
            open_gateway_preferences(settings, accounts) as preferences,
            new_session(settings.rag_timeout, settings.internal_token) as http,
            contextlib.aclosing(sandbox),
        ):
            rag = RagClient(http, settings.rag_urls)
            app.state.services = GatewayServices(
                settings=settings,
                rag=rag,
                pipeline=Pipeline(
                    rag, chunker, sandbox, keep_originals_bytes=settings.keep_originals_bytes
                ),
                accounts=accounts,
                preferences=preferences,
            )
            log.info(
                "RAG service: %s; web UI: %s",
                ", ".join(settings.rag_urls),
                settings.static_dir or "not built",
            )
            app.state.mcp = McpEndpoint(settings)
            async with app.state.mcp.run():
                yield

    app = FastAPI(
        title="ragis",
        version=__version__,
        description=(
            "The public API of ragis: upload documents, manage collections, and ask questions "
            "whose answers stream with citations. Errors are "
            '`{"error": {"code", "message"}}` with a 4xx/5xx status.'
        ),
        lifespan=lifespan,
        # Served below, behind sign-in like the rest of /api/.
        docs_url=None,
        openapi_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    signed_in = [Depends(require_identity)]

    @app.get(OPENAPI_PATH, include_in_schema=False, dependencies=signed_in)
    async def _openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get(DOCS_PATH, include_in_schema=False, dependencies=signed_in)
    async def _docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title=f"{app.title} - API")

    @app.exception_handler(RagAnswerError)
    async def _rag_answer(request: Request, exc: RagAnswerError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)

    # An MCP `ingest` carries a whole upload: the MCP endpoint has its own limit (upload-sized).
    app.add_middleware(BodyLimit, max_bytes=MAX_API_BODY, exempt=frozenset({UPLOAD_PATH, MCP_PATH}))
    app.state.server_options = server_options(
        header_timeout=settings.header_timeout,
        body_timeout=settings.body_timeout,
        max_connections=settings.max_connections,
        trusted_proxies=settings.trusted_proxies,
    )
    # Before anything reads a body; inside SecurityHeaders, so that its 403s carry the headers.
    app.add_middleware(
        SameOrigin, allowed_hosts=settings.allowed_hosts, bind_host=settings.gateway_host
    )
    # Outermost of ours, so that every answer carries the headers, a 413 of BodyLimit included.
    app.add_middleware(SecurityHeaders, docs_paths=frozenset({DOCS_PATH}))
    # Every route under /api/ but sign-in and health needs a signed-in caller, whatever its
    # own dependencies say (a route that forgets one is still closed); resolved once a request.
    for module in (
        documents, url, collections, originals, chat, models, search, sessions, preferences, keys,
        users, workspaces, audit,
    ):  # fmt: skip
        app.include_router(module.router, dependencies=signed_in, responses=SIGNED_IN_ERRORS)
    app.include_router(reindex.router, dependencies=signed_in, responses=SIGNED_IN_ERRORS)
    # OpenAI's API (`/v1`), behind sign-in too; its route class answers errors in OpenAI's shape.
    app.include_router(openai.router, dependencies=signed_in)
    # MCP over Streamable HTTP; it resolves its caller itself (401 before any MCP work).
    app.router.routes.append(Route(MCP_PATH, McpRoute(), include_in_schema=False))
    for module in (auth, health, static):
        app.include_router(module.router)
    # Outermost: request ids, metrics and spans for every request, refusals included.
    observe(app, "gateway", settings, guard=metrics_access)
    return app


def _ocr(settings: GatewaySettings) -> OcrSettings:
    return OcrSettings(
        mode=settings.ocr,
        command=settings.ocr_command,
        lang=settings.ocr_lang,
        max_pages=settings.ocr_max_pages,
        page_timeout=settings.ocr_page_timeout,
        # OCR stops at three quarters of the parse's wall clock: the pages read by then are kept
        # (the rest named in a warning) instead of the sandbox killing the whole parse.
        budget=settings.parse_timeout * 0.75,
    )


def _sandbox_limits(settings: GatewaySettings) -> SandboxLimits:
    return SandboxLimits(
        workers=settings.parse_workers,
        memory_mb=settings.parse_memory_mb,
        cpu_seconds=settings.parse_cpu_seconds,
        timeout=settings.parse_timeout,
    )
