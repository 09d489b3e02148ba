"""`ragis mcp`: the MCP server over stdio, for an MCP host that starts it as a command.

It talks to the gateway at RAGIS_GATEWAY_URL with RAGIS_API_KEY, like every `ragis` command.
Standard output carries MCP messages only: logs go to standard error. A host starts the command
as soon as it starts itself, so a gateway that is not up yet does not stop the server: each
tool call that cannot reach it fails with a tool error saying so, and works once it is up.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.requests import Request

from ragis.client.api import GatewayClient
from ragis.mcp.backend import Backend
from ragis.mcp.server import build_server

__all__ = ["serve_stdio"]


async def serve_stdio(client: GatewayClient) -> None:
    """Serve MCP on stdin/stdout until the host closes stdin."""
    # Before the SDK sets up logging (it would add its own handler, on stderr too, if none).
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="ragis mcp %(levelname)s %(message)s"
    )
    backend = Backend(client)

    @asynccontextmanager
    async def connect(request: Request | None) -> AsyncIterator[Backend]:
        yield backend

    server = build_server(connect)
    async with client:
        await server.run_stdio_async()
