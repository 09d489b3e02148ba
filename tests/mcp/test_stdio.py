"""`ragis mcp`: the MCP server over stdio, as an MCP host starts it (a child process, the SDK's
stdio client): it starts whether or not the gateway is up, says what is wrong in tool errors,
and writes nothing but MCP on standard output."""

from __future__ import annotations

import json
import select
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from mcp_types import CallToolResult, TextContent

from mcp import Client
from support.gateway_fixtures import GatewayFactory
from support.signin import auth_gateway, nowhere

Connect = Callable[..., AbstractAsyncContextManager[Client]]

MESSAGES = [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    }},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
     "params": {"name": "list_collections", "arguments": {}}},
    {"jsonrpc": "2.0", "id": 4, "method": "tools/call",
     "params": {"name": "search", "arguments": {"query": {"nested": ["junk"]}}}},
]  # fmt: skip


def error(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


async def test_it_starts_without_a_gateway_and_each_call_says_where_it_looked(
    connect_stdio: Connect,
) -> None:
    url = nowhere()
    async with connect_stdio(url) as client:
        assert len((await client.list_tools()).tools) == 7
        refused = error(await client.call_tool("list_collections", {}))
    assert f"gateway at {url} does not answer" in refused
    assert "RAGIS_GATEWAY_URL" in refused


async def test_a_key_the_gateway_refuses_is_a_tool_error_that_says_so(
    connect_stdio: Connect, start_gateway: GatewayFactory
) -> None:
    with auth_gateway(start_gateway) as url:
        async with connect_stdio(url, key="rgs_not_a_key_of_this_gateway") as client:
            refused = error(await client.call_tool("list_documents", {}))
        async with connect_stdio(url) as client:
            missing = error(await client.call_tool("list_documents", {}))
    assert "does not accept the API key in RAGIS_API_KEY" in refused
    assert "needs an API key" in missing


def test_standard_output_carries_mcp_messages_only(tmp_path: Path) -> None:
    # As a host does: one message at a time, reading each answer before the next (an end of
    # input ends the server, answered or not).
    answers = []
    with subprocess.Popen(
        [sys.executable, "-m", "ragis", "mcp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={"RAGIS_GATEWAY_URL": nowhere(), "PATH": "/usr/bin:/bin"},
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        assert process.stderr is not None
        try:
            for message in MESSAGES:
                process.stdin.write(json.dumps(message) + "\n")
                process.stdin.flush()
                if "id" in message:
                    ready, _, _ = select.select([process.stdout], [], [], 60)
                    assert ready, "no answer within a minute"
                    answers.append(json.loads(process.stdout.readline()))
            process.stdin.close()
            assert process.wait(timeout=60) == 0
        finally:
            if process.poll() is None:
                process.kill()
        # Nothing else was written to standard output; logs went to standard error.
        rest, stderr = process.stdout.read(), process.stderr.read()
    assert rest == ""
    assert [a["id"] for a in answers] == [1, 2, 3, 4]
    assert all(a["jsonrpc"] == "2.0" for a in answers)
    assert answers[2]["result"]["isError"] is True
    assert answers[3]["result"]["isError"] is True
    assert "Traceback" not in stderr


def test_help_names_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ragis", "mcp", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "usage: ragis mcp" in out
    assert "RAGIS_API_KEY" in out
