"""The chat stream through the gateway: a transparent, unbuffered relay of the RAG service's SSE.

No assertion reads a clock: where the order of events matters, the scripted LLM holds its next
token until the test has seen what must come first (`Gate`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ragis.web.run import serve_in_thread as serve
from support.gateway_fixtures import GatewayFactory
from support.http import Event, collect_events, read_events
from support.llm_servers import Gate, OpenAIServer, Reply, unused_port

RagFactory = Callable[..., AbstractContextManager[str]]

NOTE = ("saturn.txt", b"Saturn's rings are made mostly of water ice, from grains to boulders.\n")
QUESTION = {"message": "What are Saturn's rings made of?"}


async def seed(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/documents/upload", files=[("file", NOTE)])
    assert response.status_code == 200, response.text


@contextlib.asynccontextmanager
async def client_of(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture
def fake_rag() -> Iterator[str]:
    """A stand-in RAG service whose chat fails before streaming: 503 with a ragis error body,
    or (for collection "html") a 502 page from some proxy."""

    async def chat(request: Request) -> Response:
        body = await request.json()
        if body.get("collection") == "html":
            return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=502)
        error = {"code": "redis_unavailable", "message": "Redis does not answer: is it running?"}
        return JSONResponse({"error": error}, status_code=503)

    with serve(Starlette(routes=[Route("/chat/stream", chat, methods=["POST"])])) as url:
        yield url


async def test_events_arrive_in_order_with_streaming_headers(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await seed(gateway)
    llm.script(Reply(tokens=["Water ", "ice ", "[1]."]))
    async with gateway.stream("POST", "/api/chat/stream", json=QUESTION) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in response.headers
        events = [e async for e in read_events(response)]
    assert [e.type for e in events] == ["meta", "citations", "token", "token", "token", "done"]
    assert "".join(e.data["text"] for e in events if e.type == "token") == "Water ice [1]."
    assert events[1].data["citations"][0]["filename"] == "saturn.txt"


async def test_each_event_is_forwarded_without_waiting_for_the_next(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await seed(gateway)
    # The LLM sends a token only once the test has received the one before through the RAG
    # service and the gateway: a relay that held an event back for the next would never see
    # the next (the RAG service's 10 s LLM timeout would end the stream with an error).
    gate = Gate()
    llm.script(Reply(tokens=["one ", "two ", "three ", "four"], gate=gate))
    gate.open()
    kinds: list[str] = []
    async with gateway.stream("POST", "/api/chat/stream", json=QUESTION) as response:
        async for event in read_events(response):
            kinds.append(event.type)
            if event.type == "token":
                gate.open()
    assert kinds == ["meta", "citations", "token", "token", "token", "token", "done"]


async def test_heartbeats_flow_while_the_upstream_is_silent(
    rag_url: str, start_gateway: GatewayFactory, llm: OpenAIServer
) -> None:
    # The LLM holds its first token until the test has seen two heartbeats after the citations:
    # the gap lasts as long as it must, whatever the machine's speed.
    gate = Gate()
    with start_gateway(rag_urls=[rag_url], sse_heartbeat=0.05) as url:
        async with client_of(url) as client:
            await seed(client)
            llm.script(Reply(tokens=["Ice."], gate=gate))
            lines: list[str] = []
            heartbeats = -1  # counted from the citations on
            async with client.stream("POST", "/api/chat/stream", json=QUESTION) as response:
                async for line in response.aiter_lines():
                    lines.append(line)
                    if line == "event: citations":
                        heartbeats = 0
                    elif line == ": keep-alive" and heartbeats >= 0:
                        heartbeats += 1
                        if heartbeats == 2:
                            gate.open()
    citations = next(i for i, line in enumerate(lines) if line == "event: citations")
    first_token = lines.index("event: token")
    between = lines[citations:first_token]
    assert between.count(": keep-alive") >= 2
    assert "event: done" in lines[first_token:]


async def test_a_client_that_leaves_closes_the_llm_request(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await seed(gateway)
    # One token goes out; the LLM holds the rest until its client (the RAG service) leaves.
    gate = Gate()
    llm.script(Reply(tokens=[f"word{i} " for i in range(40)], gate=gate))
    gate.open()
    async with (
        gateway.stream("POST", "/api/chat/stream", json=QUESTION) as response,
        contextlib.aclosing(read_events(response)) as events,
    ):
        async for event in events:
            if event.type == "token":
                break
    assert await llm.wait_for_disconnect_async(within=30)
    assert llm.completed == 0


async def test_a_rag_service_that_does_not_answer_is_an_error_event(
    start_gateway: GatewayFactory,
) -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    with start_gateway(rag_urls=[dead]) as url:
        async with client_of(url) as client:
            events = await collect_events(client, "/api/chat/stream", QUESTION)
    assert [e.type for e in events] == ["error"]
    assert events[0].data["code"] == "upstream_error"
    assert f"The RAG service at {dead} does not answer" in events[0].data["message"]


async def test_a_rag_service_that_stops_mid_stream_is_an_error_event(
    start_rag: RagFactory, start_gateway: GatewayFactory, llm: OpenAIServer
) -> None:
    rag = start_rag()
    rag_url = rag.__enter__()
    stopping: asyncio.Future[Any] | None = None
    events: list[Event] = []
    try:
        with start_gateway(rag_urls=[rag_url]) as url:
            async with client_of(url) as client:
                await seed(client)
                llm.script(Reply(tokens=[f"w{i} " for i in range(60)], token_delay=0.1))
                async with client.stream("POST", "/api/chat/stream", json=QUESTION) as response:
                    async for event in read_events(response):
                        events.append(event)
                        if event.type == "token" and stopping is None:
                            # uvicorn lets the stream run for its 2 s of grace, then cuts it.
                            stopping = asyncio.ensure_future(
                                asyncio.to_thread(rag.__exit__, None, None, None)
                            )
    finally:
        if stopping is None:
            rag.__exit__(None, None, None)
        else:
            await stopping
    kinds = [e.type for e in events]
    assert kinds[:3] == ["meta", "citations", "token"]
    assert kinds[-1] == "error"
    assert "done" not in kinds
    assert events[-1].data["code"] == "upstream_error"
    assert "stopped answering in the middle of the reply" in events[-1].data["message"]


async def test_a_rag_service_failing_before_the_stream_is_an_error_event(
    fake_rag: str, start_gateway: GatewayFactory
) -> None:
    with start_gateway(rag_urls=[fake_rag]) as url:
        async with client_of(url) as client:
            events = await collect_events(client, "/api/chat/stream", QUESTION)
            assert [e.type for e in events] == ["error"]
            assert events[0].data["code"] == "redis_unavailable"
            assert events[0].data["message"] == "Redis does not answer: is it running?"

            body = {**QUESTION, "collection": "html"}
            events = await collect_events(client, "/api/chat/stream", body)
            assert events[0].data["code"] == "upstream_error"
            assert "HTTP 502" in events[0].data["message"]


async def test_refusals_of_the_rag_service_pass_through_with_their_status(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.post("/api/chat/stream", json={**QUESTION, "collection": "nowhere"})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "There is no collection 'nowhere': upload a document to create it.",
        }
    }
    response = await gateway.post("/api/chat/stream", json={"message": "x" * 5000})
    assert response.status_code == 413
    assert "RAGIS_MAX_MESSAGE_CHARS" in response.json()["error"]["message"]


async def test_a_session_of_another_collection_is_a_409_with_its_sentence(
    gateway: httpx.AsyncClient,
) -> None:
    await seed(gateway)
    other = ("tea.txt", b"Green tea steeps for two minutes at 80 degrees.\n")
    upload = await gateway.post(
        "/api/documents/upload", files=[("file", other)], data={"collection": "tea"}
    )
    assert upload.status_code == 200, upload.text
    events = await collect_events(gateway, "/api/chat/stream", QUESTION)
    sid = events[0].data["session_id"]
    response = await gateway.post(
        "/api/chat/stream", json={**QUESTION, "collection": "tea", "session_id": sid}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "session_collection_mismatch"
    assert "'tea'" in response.json()["error"]["message"]
    assert "default" not in response.json()["error"]["message"]


async def test_a_malformed_question_is_422_before_reaching_the_rag_service(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.post("/api/chat/stream", json={"message": "hi", "top_k": 0})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert "top_k" in response.json()["error"]["message"]


@pytest.mark.parametrize("mode", ["lexical", "vector", "hybrid"])
async def test_the_retrieval_mode_reaches_the_rag_service_and_legs_come_back(
    gateway: httpx.AsyncClient, llm: OpenAIServer, mode: str
) -> None:
    await seed(gateway)
    llm.script(Reply(tokens=["Water ice [1]."]))
    events = await collect_events(gateway, "/api/chat/stream", {**QUESTION, "retrieval": mode})
    assert events[0].data["retrieval"] == mode
    assert events[0].data["grounded"] is True
    legs = events[1].data["citations"][0]["legs"]
    assert legs == [mode] if mode != "hybrid" else set(legs) <= {"vector", "lexical"}


async def test_a_bad_retrieval_mode_is_a_422_at_the_gateway(gateway: httpx.AsyncClient) -> None:
    for bad in ("bm25", 1, ["lexical"], "Lexical", "x" * 100_000):
        body = {**QUESTION, "retrieval": bad}
        response = await gateway.post("/api/chat/stream", json=body)
        assert response.status_code == 422, (bad, response.text)
