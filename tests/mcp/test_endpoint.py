"""The MCP server with sign-in on: `/mcp` refuses a caller without a valid credential before any
MCP work, and over either transport a key sees only its own workspace, exactly as the API does
(the tools are calls of the API with the caller's key)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from mcp_types import CallToolResult, TextContent

from mcp import Client, MCPError
from support.gateway_fixtures import GatewayFactory
from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    make_key,
    make_user,
    signed_in,
)

Connect = Callable[..., AbstractAsyncContextManager[Client]]

SECRET = "The launch code of project Bluebird is 7419-ZEBRA-QUARTZ."
QUESTION = "What is the launch code of project Bluebird?"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@dataclass
class Tenants:
    url: str
    alice: str  # API keys
    bob: str
    alice_only: str  # a key of Alice's that works only in her workspace


@pytest.fixture
async def tenants(rag_url: str, start_gateway: GatewayFactory) -> AsyncIterator[Tenants]:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as url:
        async with signed_in(url, ADMIN, ADMIN_PASSWORD) as admin:
            for name in ("alice", "bob"):
                await make_user(admin, name)
        async with signed_in(url, "alice", PASSWORD) as alice:
            alice_key = (await make_key(alice))["key"]
            alice_only = (await make_key(alice, "bound", workspace="alice"))["key"]
        async with signed_in(url, "bob", PASSWORD) as bob:
            bob_key = (await make_key(bob))["key"]
        yield Tenants(url, alice_key, bob_key, alice_only)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def error(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer rgs_forged0000000000000000000000", "Basic YWxpY2U6cGFzcw==", "Bearer"],
)
async def test_mcp_without_a_valid_credential_is_401_before_any_mcp_work(
    tenants: Tenants, authorization: str | None
) -> None:
    headers = dict(MCP_HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    async with httpx.AsyncClient(base_url=tenants.url, timeout=30) as http:
        for method, body in (("POST", INITIALIZE), ("GET", None), ("DELETE", None)):
            answer = await http.request(method, "/mcp", json=body, headers=headers)
            assert answer.status_code == 401, answer.text
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert answer.json()["error"]["code"] == "unauthenticated"
        # Not even a body too large for MCP is read before the caller is known.
        huge = b"x" * (5 * 1024 * 1024)
        answer = await http.post("/mcp", content=huge, headers=headers)
        assert answer.status_code == 401


async def test_mcp_with_a_valid_key_initializes(tenants: Tenants) -> None:
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {tenants.bob}"}
    async with httpx.AsyncClient(base_url=tenants.url, timeout=30) as http:
        answer = await http.post("/mcp", json=INITIALIZE, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["serverInfo"]["name"] == "ragis"


async def test_a_key_sees_only_its_own_workspace_over_mcp(
    connect: Connect, tenants: Tenants
) -> None:
    async with connect(tenants.url, key=tenants.alice) as alice:
        made = data(await alice.call_tool("ingest", {"filename": "bluebird.md", "text": SECRET}))
        found = data(await alice.call_tool("search", {"query": QUESTION}))
        assert "7419-ZEBRA-QUARTZ" in found["passages"][0]["text"]
        assert {str(r.uri) for r in (await alice.list_resources()).resources} == {made["uri"]}

    async with connect(tenants.url, key=tenants.bob) as bob:
        assert data(await bob.call_tool("list_collections", {}))["collections"] == []
        assert data(await bob.call_tool("list_documents", {}))["documents"] == []
        assert (await bob.list_resources()).resources == []
        refused = error(await bob.call_tool("search", {"query": QUESTION}))
        assert "7419" not in refused
        for tool, arguments in (
            ("get_document", {"doc_id": made["doc_id"]}),
            ("get_passage", {"doc_id": made["doc_id"], "position": 0}),
            ("ask", {"question": QUESTION, "doc_ids": [made["doc_id"]]}),
        ):
            assert "7419" not in error(await bob.call_tool(tool, arguments)), tool
        with pytest.raises(MCPError) as caught:
            await bob.read_resource(made["uri"])
        assert "7419" not in str(caught.value)

    # Naming Alice's workspace does not get Bob in: it does not exist, as far as he can tell.
    async with connect(tenants.url, key=tenants.bob, workspace="alice") as bob:
        assert "no workspace" in error(await bob.call_tool("list_documents", {})).lower()

    # A key made for one workspace works only there.
    async with connect(tenants.url, key=tenants.alice_only, workspace="bob") as bound:
        assert "only in workspace" in error(await bound.call_tool("list_collections", {}))
    async with connect(tenants.url, key=tenants.alice_only) as bound:
        listed = data(await bound.call_tool("list_documents", {}))
        assert [d["doc_id"] for d in listed["documents"]] == [made["doc_id"]]


async def test_an_ingest_larger_than_an_api_body_reaches_the_upload_and_no_larger(
    rag_url: str, start_gateway: GatewayFactory, connect_http: Connect
) -> None:
    # 1 MiB uploads: a file of 0.95 MiB is 1.27 MiB in base64, over the API's 1 MiB bodies.
    corrupt_pdf = b"%PDF-1.4\n" + bytes(range(256)) * (950 * 1024 // 256)
    arguments = {"filename": "big.pdf", "content_base64": base64.b64encode(corrupt_pdf).decode()}
    with start_gateway(rag_urls=[rag_url], max_upload_mb=1) as url:
        async with connect_http(url) as client:
            refused = error(await client.call_tool("ingest", arguments)).lower()
        # Read, and refused for what it holds, not for its size.
        assert "pdf" in refused
        assert "large" not in refused
        body = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "ingest", "arguments": {"filename": "x.txt", "text": "x" * (2 * 1024 * 1024)},
        }}  # fmt: skip
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            answer = await http.post("/mcp", json=body, headers=MCP_HEADERS)
        assert answer.status_code == 413
