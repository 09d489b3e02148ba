"""The MCP server over Streamable HTTP at `/mcp` (the same server as `ragis mcp`'s).

The caller is resolved first, with the gateway's own identity code: without a valid credential
the answer is 401 (`WWW-Authenticate: Bearer`) before any MCP work. The tools then act as the
caller by calling the gateway's own public API on the address the request came in on (the
connection's `scope["server"]`), with the caller's `Authorization`, cookie, `X-Ragis-Workspace`
and `Host`: sign-in, rights, workspace scope, limits and audit are exactly the API's, with no
second implementation of any of them.

The SDK's session manager runs stateless, answering JSON (every request stands alone: there is
no MCP session to share between gateway processes), with its own DNS-rebinding check off, as the
gateway's `SameOrigin` checks Host and Origin of every request already. Its body limit fits an
`ingest` of the largest upload in base64 (4/3 of the bytes) plus the JSON around it; the
gateway's 1 MiB limit of API bodies does not apply to this path.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from ragis.client.api import GatewayClient
from ragis.contract import WORKSPACE_HEADER
from ragis.errors import RagisError, UpstreamError
from ragis.gateway.identity import resolve
from ragis.gateway.settings import GatewaySettings
from ragis.mcp.backend import Backend
from ragis.mcp.server import build_server
from ragis.web.errors import error_body, headers_for, status_for

__all__ = ["MCP_PATH", "McpEndpoint", "McpRoute", "max_mcp_body"]

log = logging.getLogger("ragis.gateway")

MCP_PATH = "/mcp"
#: Room for the JSON-RPC envelope and the other arguments of an `ingest` call.
_ENVELOPE = 64 * 1024
#: The caller's credentials, which the tools' API calls carry (and its workspace, passed apart).
_FORWARDED = ("authorization", "cookie")


def max_mcp_body(max_upload_bytes: int) -> int:
    """The largest MCP request: an upload's bytes in base64, and its envelope."""
    return max_upload_bytes * 4 // 3 + _ENVELOPE


class _Shared(httpx.AsyncBaseTransport):
    """The endpoint's connection pool, lent to a client made for one request: closing the
    client leaves the pool open (the endpoint closes it at shutdown)."""

    def __init__(self, pool: httpx.AsyncBaseTransport) -> None:
        self.pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.pool.handle_async_request(request)

    async def aclose(self) -> None:
        return None


class McpEndpoint:
    """The ASGI app behind `/mcp`. Made and run (`run()`) in the gateway's lifespan: the SDK's
    session manager runs once per instance."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.server = build_server(self._connect)
        self.server.streamable_http_app(
            streamable_http_path=MCP_PATH,
            stateless_http=True,
            json_response=True,
            max_request_body_size=max_mcp_body(settings.max_upload_bytes),
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        self.manager = self.server.session_manager
        self._pool: httpx.AsyncHTTPTransport | None = None

    @asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        # No proxy from the environment: the API is on this very connection's address.
        self._pool = httpx.AsyncHTTPTransport(trust_env=False)
        try:
            async with self.manager.run():
                yield
        finally:
            await self._pool.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                await resolve(Request(scope, receive))
            except RagisError as exc:
                response = JSONResponse(
                    error_body(exc.code, exc.message),
                    status_code=status_for(exc),
                    headers=headers_for(exc),
                )
                await response(scope, receive, send)
                return
        await self.manager.handle_request(scope, receive, send)

    @asynccontextmanager
    async def _connect(self, request: Request | None) -> AsyncIterator[Backend]:
        if request is None or self._pool is None:
            raise UpstreamError("The MCP endpoint serves only HTTP requests while it runs.")
        client = GatewayClient(
            _own_url(request.scope),
            timeout=self.settings.rag_timeout,
            workspace=request.headers.get(WORKSPACE_HEADER),
            headers=_forwarded(request),
            transport=_Shared(self._pool),
        )
        async with client:
            yield Backend(client, upload_limit=self.settings.max_upload_bytes)


class McpRoute:
    """The route's app: the running endpoint of the app serving the request (`state.mcp`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint: McpEndpoint = scope["app"].state.mcp
        await endpoint(scope, receive, send)


def _own_url(scope: Scope) -> str:
    server = scope.get("server")
    if not server or server[1] is None:
        raise UpstreamError("The gateway cannot tell its own address (not served over TCP).")
    host, port = str(server[0]), int(server[1])
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _forwarded(request: Request) -> dict[str, str]:
    headers = {name: request.headers[name] for name in _FORWARDED if name in request.headers}
    # The caller's Host, which SameOrigin has checked: the inner request then passes it too, and
    # the API sees the host its caller used.
    headers["host"] = request.headers.get("host", "")
    # The caller's address (already the proxy's client when a trusted proxy said so): believed
    # only if this very address is one of RAGIS_TRUSTED_PROXIES, ignored otherwise.
    if request.client is not None:
        headers["x-forwarded-for"] = request.client.host
    return headers
