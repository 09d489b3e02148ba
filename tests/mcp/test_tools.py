"""Every tool and the resources, through the SDK's own client over both transports (Streamable
HTTP at the gateway's `/mcp`, stdio through `ragis mcp`), on real documents in a real gateway,
RAG service, Redis and model; the LLM is the loopback scripted server."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from mcp_types import CallToolResult, TextContent, TextResourceContents
from redis.asyncio import Redis

from mcp import Client, MCPError
from support.llm_servers import OpenAIServer, Reply

Connect = Callable[..., AbstractAsyncContextManager[Client]]

TOOLS = {
    "search",
    "ask",
    "list_collections",
    "list_documents",
    "get_passage",
    "get_document",
    "ingest",
}
SECRET = "The launch code of project Bluebird is 7419-ZEBRA-QUARTZ."
QUESTION = "What is the launch code of project Bluebird?"


def handbook() -> str:
    """A Markdown document of several passages, the secret in the middle of it."""
    parts = ["# Bluebird handbook", "", "## Daily work", ""]
    for i in range(40):
        parts.append(
            f"Rule {i}: the crew of shift {i} checks the pumps, writes the pressure in the log "
            f"book and reports any leak of valve {i} to the engineer on duty."
        )
        if i == 20:
            parts.append(SECRET)
    parts += ["", "## Holidays", "", "Every member of the crew has thirty days of leave a year."]
    return "\n".join(parts)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    # The same JSON as text, for hosts that read only text.
    first = result.content[0]
    assert isinstance(first, TextContent)
    assert json.loads(first.text) == result.structured_content
    return result.structured_content


def error(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    first = result.content[0]
    assert isinstance(first, TextContent)
    return first.text


async def test_the_tools_are_listed_with_descriptions_and_described_schemas(
    connect: Connect, gateway_url: str
) -> None:
    async with connect(gateway_url) as client:
        tools = (await client.list_tools()).tools
        templates = (await client.list_resource_templates()).resource_templates
    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        assert len(tool.description or "") > 60, tool.name
        assert tool.output_schema is not None, tool.name
        for name, schema in tool.input_schema.get("properties", {}).items():
            assert schema.get("description"), f"{tool.name}.{name}"
    [template] = templates
    assert template.uri_template == "ragis://documents/{collection}/{doc_id}"
    assert template.mime_type == "text/plain"


async def test_a_document_ingested_is_listed_found_read_cited_and_a_resource(
    connect: Connect, gateway_url: str
) -> None:
    text = handbook()
    async with connect(gateway_url) as client:
        made = data(
            await client.call_tool(
                "ingest",
                {
                    "filename": "handbook.md",
                    "text": text,
                    "collection": "crew",
                    "tags": ["bluebird"],
                },
            )
        )
        assert made["collection"] == "crew"
        assert made["passages"] >= 4
        assert made["duplicate"] is False
        doc_id = made["doc_id"]
        note = b"Tomatoes need six hours of sun and deep watering twice a week.\n"
        other = data(
            await client.call_tool(
                "ingest",
                {"filename": "garden.txt", "content_base64": base64.b64encode(note).decode()},
            )
        )
        assert other["collection"] == "default"

        collections = data(await client.call_tool("list_collections", {}))["collections"]
        assert {c["name"]: c["documents"] for c in collections} == {"crew": 1, "default": 1}

        crew = data(await client.call_tool("list_documents", {"collection": "crew"}))
        assert [d["doc_id"] for d in crew["documents"]] == [doc_id]
        assert crew["documents"][0]["tags"] == ["bluebird"]
        assert crew["documents"][0]["uri"] == made["uri"]
        everything = data(await client.call_tool("list_documents", {}))
        assert {d["document"] for d in everything["documents"]} == {"handbook.md", "garden.txt"}
        assert everything["truncated"] is False

        found = data(
            await client.call_tool("search", {"query": QUESTION, "collection": "crew", "top_k": 3})
        )
        assert found["collection"] == "crew"
        assert 1 <= len(found["passages"]) <= 3
        best = found["passages"][0]
        assert "7419-ZEBRA-QUARTZ" in best["text"]
        assert (best["document"], best["doc_id"], best["page"]) == ("handbook.md", doc_id, None)
        assert 0 < best["score"] <= 1
        filtered = data(
            await client.call_tool(
                "search",
                {
                    "query": QUESTION,
                    "collection": "crew",
                    "tags": ["bluebird"],
                    "doc_ids": [doc_id],
                },
            )
        )
        assert {p["doc_id"] for p in filtered["passages"]} == {doc_id}
        elsewhere = data(
            await client.call_tool(
                "search", {"query": QUESTION, "collection": "crew", "tags": ["garden"]}
            )
        )
        assert elsewhere["passages"] == []

        window = data(
            await client.call_tool(
                "get_passage",
                {"doc_id": doc_id, "position": best["position"], "collection": "crew"},
            )
        )
        positions = [p["position"] for p in window["passages"]]
        assert best["position"] in positions
        assert positions == list(range(positions[0], positions[0] + len(positions)))
        assert len(positions) == 3 or best["position"] in (0, window["total"] - 1)
        assert window["total"] == made["passages"]

        whole = data(
            await client.call_tool(
                "get_document", {"doc_id": doc_id, "collection": "crew", "max_chars": 200_000}
            )
        )
        assert whole["truncated"] is False
        assert whole["next_offset"] is None
        assert whole["text"].split() == text.split()  # every word once, in order
        pieces, offset = [], 0
        while True:
            piece = data(
                await client.call_tool(
                    "get_document",
                    {"doc_id": doc_id, "collection": "crew", "max_chars": 700, "offset": offset},
                )
            )
            pieces.append(piece["text"])
            assert len(piece["text"]) <= 700
            if not piece["truncated"]:
                break
            offset = piece["next_offset"]
        assert len(pieces) > 2
        assert "".join(pieces) == whole["text"]

        answer = data(await client.call_tool("ask", {"question": QUESTION, "collection": "crew"}))
        assert answer["answer"]
        assert answer["grounded"] is True
        assert answer["collection"] == "crew"
        assert answer["citations"][0]["doc_id"] == doc_id
        assert "7419-ZEBRA-QUARTZ" in " ".join(c["text"] for c in answer["citations"])

        resources = (await client.list_resources()).resources
        assert {str(r.uri) for r in resources} == {made["uri"], other["uri"]}
        read = (await client.read_resource(made["uri"])).contents
        assert len(read) == 1
        assert isinstance(read[0], TextResourceContents)
        assert read[0].text == whole["text"]


async def test_ask_is_a_stateless_turn_that_leaves_no_session_behind(
    connect: Connect, gateway_url: str, redis: Redis, prefix: str
) -> None:
    async with connect(gateway_url) as client:
        data(await client.call_tool("ingest", {"filename": "s.md", "text": SECRET}))
        for _ in range(2):
            data(await client.call_tool("ask", {"question": QUESTION}))
    assert [key async for key in redis.scan_iter(match=f"{prefix}:*:session:*")] == []


async def test_refusals_are_tool_errors_with_a_sentence_and_the_server_carries_on(
    connect: Connect, gateway_url: str
) -> None:
    async with connect(gateway_url) as client:
        made = data(await client.call_tool("ingest", {"filename": "h.md", "text": handbook()}))
        doc_id = made["doc_id"]

        async def refused(tool: str, arguments: dict[str, Any]) -> str:
            return error(await client.call_tool(tool, arguments)).lower()

        # The gateway's refusals, with its sentence.
        assert "nowhere" in await refused("search", {"query": "x", "collection": "nowhere"})
        assert "nowhere" in await refused("ask", {"question": "x", "collection": "nowhere"})
        assert "nowhere" in await refused(
            "get_document", {"doc_id": doc_id, "collection": "nowhere"}
        )
        unknown = "0123456789abcdef0123456789abcdef"
        assert "no document" in await refused("get_document", {"doc_id": unknown})
        assert "no document" in await refused("get_passage", {"doc_id": unknown, "position": 0})
        assert f"no passage {made['passages']}" in await refused(
            "get_passage", {"doc_id": doc_id, "position": made["passages"]}
        )
        assert "characters" in await refused("search", {"query": "word " * 40_000})
        # The arguments' schema, checked before anything is sent.
        for top_k in (0, 1000, -1, "5", True, 2.5):
            assert "top_k" in await refused("search", {"query": "x", "top_k": top_k})
        for forged in ("../../etc/passwd", "a/b", "..", "", "x" * 200, "id\x00"):
            assert "doc_id" in await refused("get_document", {"doc_id": forged})
            assert "doc_ids" in await refused("search", {"query": "x", "doc_ids": [forged]})
        assert "collection" in await refused("list_documents", {"collection": "../default"})
        junk = {"a": [1, {"b": [None, {"c": "d" * 1000}]}]}
        assert "query" in await refused("search", {"query": junk})
        assert "question" in await refused("ask", {"question": [junk, junk]})
        assert "position" in await refused("get_passage", {"doc_id": doc_id, "position": junk})
        assert "query" in await refused("search", {})
        # Ingest: content sent by the client only, as exactly one of text or base64, whole.
        assert "exactly one" in await refused("ingest", {"filename": "a.txt"})
        assert "exactly one" in await refused(
            "ingest", {"filename": "a.txt", "text": "x", "content_base64": "eA=="}
        )
        assert "base64" in await refused(
            "ingest", {"filename": "a.txt", "content_base64": "not base64!"}
        )
        assert "base64" in await refused("ingest", {"filename": "a.txt", "content_base64": "eA="})
        # A path names nothing the server would read: without content there is nothing to add.
        assert "exactly one" in await refused(
            "ingest", {"filename": "/etc/passwd", "path": "/etc/passwd"}
        )
        too_big = base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()
        assert "upload limit" in await refused(
            "ingest", {"filename": "big.txt", "content_base64": too_big}
        )
        assert "empty" in await refused("ingest", {"filename": "e.txt", "text": ""})
        assert await refused("no_such_tool", {})
        # Forged resource addresses: refused as errors of the request, never read elsewhere.
        for uri in (
            "ragis://documents/default/..%2F..%2Fetc%2Fpasswd",
            "ragis://documents/../../etc/passwd",
            "ragis://documents/default/nope",
            "ragis://documents/nowhere/" + doc_id,
            "ragis://documents/default",
            "file:///etc/passwd",
        ):
            with pytest.raises(MCPError):
                await client.read_resource(uri)
        # Nothing above crashed the server, and nothing was stored by a refused ingest.
        listed = data(await client.call_tool("list_documents", {}))
        assert [d["doc_id"] for d in listed["documents"]] == [doc_id]


async def test_an_answer_that_fails_midway_is_a_tool_error_with_its_sentence(
    connect: Connect, gateway_url: str, llm: OpenAIServer
) -> None:
    async with connect(gateway_url) as client:
        data(await client.call_tool("ingest", {"filename": "s.md", "text": SECRET}))
        llm.script(Reply(tokens=["The code is", " 7419"], error_after=1, error="overloaded"))
        refused = error(await client.call_tool("ask", {"question": QUESTION}))
        llm.script(Reply.http_error(500))
        unavailable = error(await client.call_tool("ask", {"question": "And the other code?"}))
    assert "Error executing tool ask:" in refused
    # The sentence of the stream's error event, not half an answer.
    assert "broke off" in refused
    assert "overloaded" in refused
    assert "The code is" not in refused
    assert "Error executing tool ask:" in unavailable


async def test_a_path_as_file_name_is_only_a_name(connect: Connect, gateway_url: str) -> None:
    async with connect(gateway_url) as client:
        made = data(
            await client.call_tool(
                "ingest", {"filename": "../../../etc/passwd.md", "text": "# Notes\n\nNothing here."}
            )
        )
        passage = data(
            await client.call_tool("get_passage", {"doc_id": made["doc_id"], "position": 0})
        )
    assert "/" not in made["document"]
    assert ".." not in made["document"]
    assert passage["passages"][0]["text"] == "# Notes\n\nNothing here."
