"""MCP sessions of the SDK's own client (`mcp.Client`) with a real gateway, over both transports:
Streamable HTTP at the gateway's `/mcp`, and stdio through `python -m ragis mcp` in a child
process (RAGIS_GATEWAY_URL / RAGIS_API_KEY pointing at the gateway).

Over HTTP in both eras of the protocol: the client's default (it discovers the per-request
2026-07-28 protocol) and the initialize handshake (2025-11-25) that most hosts still speak."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from pathlib import Path

import httpx2
import pytest
from mcp.client.streamable_http import streamable_http_client

from mcp import Client, StdioServerParameters
from support.gateway_fixtures import GatewayFactory

#: `connect(gateway_url, key=None, workspace=None)`: an MCP client session, entered.
Connect = Callable[..., AbstractAsyncContextManager[Client]]

TRANSPORTS = ("http", "http-handshake", "stdio")


@asynccontextmanager
async def http_session(
    gateway_url: str,
    key: str | None = None,
    workspace: str | None = None,
    *,
    handshake: bool = False,
) -> AsyncIterator[Client]:
    headers = {}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if workspace is not None:
        headers["X-Ragis-Workspace"] = workspace
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60)) as http,
        Client(
            streamable_http_client(f"{gateway_url}/mcp", http_client=http),
            mode="legacy" if handshake else "auto",
        ) as client,
    ):
        yield client


def stdio_session(cwd: Path) -> Connect:
    @asynccontextmanager
    async def session(
        gateway_url: str, key: str | None = None, workspace: str | None = None
    ) -> AsyncIterator[Client]:
        env = {"RAGIS_GATEWAY_URL": gateway_url, "RAGIS_API_KEY": key or ""}
        args = ["-m", "ragis", "mcp"] + (["--workspace", workspace] if workspace else [])
        # In an empty folder: no .env of the project's is read.
        params = StdioServerParameters(command=sys.executable, args=args, env=env, cwd=cwd)
        async with Client(params, read_timeout_seconds=60) as client:
            yield client

    return session


@pytest.fixture
def connect_http() -> Connect:
    """An MCP session over Streamable HTTP only."""
    return http_session


@pytest.fixture
def connect_stdio(tmp_path: Path) -> Connect:
    """An MCP session over stdio only (`ragis mcp` in a child process)."""
    return stdio_session(tmp_path)


@pytest.fixture(params=TRANSPORTS)
def connect(request: pytest.FixtureRequest, tmp_path: Path) -> Connect:
    """An MCP session over each transport in turn."""
    if request.param == "http":
        return http_session
    if request.param == "http-handshake":
        return partial(http_session, handshake=True)
    return stdio_session(tmp_path)


@pytest.fixture
def gateway_url(rag_url: str, start_gateway: GatewayFactory) -> Iterator[str]:
    """A gateway (sign-in off) in front of a real RAG service."""
    with start_gateway(rag_urls=[rag_url], max_upload_mb=1) as url:
        yield url
