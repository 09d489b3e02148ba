"""The RAG client against scripted loopback servers: round-robin, refused URLs, error answers,
time limits, and connections that break."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager

import httpx
import pytest

from ragis.contract import Caller, ChunkIn, DocumentIn, IndexRequest, IndexResponse
from ragis.errors import ConfigError, UpstreamError
from ragis.gateway import rag_client
from ragis.gateway.rag_client import RagAnswerError, RagClient, new_session
from support.fixtures import INTERNAL_TOKEN
from support.gateway_fixtures import GatewayFactory
from support.scripted_http import Handler, Reply, Request, closed_port_url, scripted_server

COLLECTIONS: dict[str, list[str]] = {"collections": []}
ME = Caller("default", "local")


@contextlib.asynccontextmanager
async def client(*urls: str, read_timeout: float = 30.0) -> AsyncIterator[RagClient]:
    async with new_session(read_timeout, INTERNAL_TOKEN) as http:
        yield RagClient(http, urls)


async def collections(request: Request, reply: Reply) -> None:
    await reply.json(200, COLLECTIONS)


async def silent(request: Request, reply: Reply) -> None:
    await reply.client_left()


async def hang_up(request: Request, reply: Reply) -> None:
    reply.close()


async def test_requests_go_round_robin_over_the_urls() -> None:
    served: list[str] = []

    def named(name: str) -> Handler:
        async def handler(request: Request, reply: Reply) -> None:
            served.append(name)
            await reply.json(200, COLLECTIONS)

        return handler

    async with (
        scripted_server(named("a")) as a,
        scripted_server(named("b")) as b,
        client(a.url, b.url + "/") as rag,
    ):
        for _ in range(4):
            assert await rag.list_collections(ME) == COLLECTIONS
    assert served == ["a", "b", "a", "b"]


async def test_a_url_that_refuses_the_connection_is_skipped() -> None:
    async with scripted_server(collections) as up, client(closed_port_url(), up.url) as rag:
        for _ in range(3):
            assert await rag.list_collections(ME) == COLLECTIONS
    assert len(up.requests) == 3


async def test_when_every_url_refuses_the_error_names_them() -> None:
    first, second = closed_port_url(), closed_port_url()
    async with client(first, second) as rag:
        with pytest.raises(UpstreamError, match=f"any of {first}, {second} does not answer"):
            await rag.list_collections(ME)
    async with client(first) as rag:
        with pytest.raises(UpstreamError) as caught:
            await rag.list_collections(ME)
    assert caught.value.message == (
        f"The RAG service at {first} does not answer (connection refused): start it "
        "(`ragis up` starts everything) or set RAGIS_RAG_URL to where it runs."
    )


async def test_a_ragis_error_answer_keeps_its_status_code_and_message() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        body = {"error": {"code": "redis_unavailable", "message": "Redis does not answer."}}
        await reply.json(503, body)

    async with scripted_server(handler) as server, client(server.url) as rag:
        with pytest.raises(RagAnswerError) as caught:
            await rag.get_session("s1", ME)
    assert (caught.value.status, caught.value.code) == (503, "redis_unavailable")
    assert caught.value.message == "Redis does not answer."


async def test_an_answer_that_is_not_ragis_json_is_an_upstream_error() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        if request.target == "/collections":
            await reply.text(502, "<html>Bad Gateway</html>")
        else:
            await reply.json(200, ["not", "an", "object"])

    async with scripted_server(handler) as server, client(server.url) as rag:
        with pytest.raises(UpstreamError, match="answered HTTP 502 without a ragis error body"):
            await rag.list_collections(ME)
        with pytest.raises(UpstreamError, match="not a JSON object"):
            await rag.get_session("s1", ME)


async def test_ids_are_quoted_into_one_path_segment() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(200, {})

    async with scripted_server(handler) as server, client(server.url) as rag:
        await rag.get_document("default", "../x", ME)
    assert [r.target for r in server.requests] == ["/collections/default/documents/..%2Fx"]


async def test_index_sends_compact_json_and_reads_the_answer() -> None:
    answer = {
        "collection": "default",
        "document_id": "d1",
        "chunks": 2,
        "duplicate": False,
        "replaced": False,
        "version": 4,
        "timings": {"embed_ms": 1.5, "write_ms": 0.25, "total_ms": 2.0},
    }

    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(200, answer)

    sha = "0" * 64
    body = IndexRequest(
        collection="default",
        document=DocumentIn(
            id="d1", filename="é.txt", content_type="text/plain", sha256=sha, size=5, pages=None
        ),
        chunks=[ChunkIn(text="a", position=0, page=1), ChunkIn(text="b", position=1)],
    )
    async with scripted_server(handler) as server, client(server.url) as rag:
        indexed = await rag.index(body, ME)
    assert indexed == IndexResponse.model_validate(answer)
    [request] = server.requests
    assert (request.method, request.target) == ("POST", "/index")
    assert request.headers["content-type"] == "application/json"
    # Compact, and only the fields that were set: the second chunk has no page, so no `page`.
    sent = (
        '{"collection":"default","document":{"id":"d1","filename":"é.txt",'
        f'"content_type":"text/plain","sha256":"{sha}","size":5,"pages":null}},'
        '"chunks":[{"text":"a","position":0,"page":1},{"text":"b","position":1}]}'
    )
    assert request.body == sent.encode()
    # No compression: an answer stream must flow as it comes.
    assert request.headers["accept-encoding"] == "identity"
    assert request.headers["user-agent"].startswith("ragis-gateway/")


async def test_an_index_answer_that_is_not_the_contracts_is_an_upstream_error() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(200, {"document_id": "d1", "chunks": 3, "duplicate": False})

    body = IndexRequest(
        document=DocumentIn(
            id="d1", filename="a.txt", content_type="text/plain", sha256="0" * 64, size=1
        ),
        chunks=[ChunkIn(text="a", position=0)],
    )
    async with scripted_server(handler) as server, client(server.url) as rag:
        with pytest.raises(UpstreamError) as caught:
            await rag.index(body, ME)
    assert caught.value.message == (
        f"The RAG service at {server.url} answered /index with a body the gateway cannot read "
        "(collection: Field required): are the gateway and the RAG service the same ragis "
        "version?"
    )


async def test_a_silent_answer_times_out_with_rag_timeout_and_is_not_retried() -> None:
    async with (
        scripted_server(silent) as slow,
        scripted_server(collections) as other,
        client(slow.url, other.url, read_timeout=0.3) as rag,
    ):
        with pytest.raises(UpstreamError) as caught:
            await rag.create_collection("c", ME)
    assert caught.value.message == (
        f"The RAG service at {slow.url} did not answer in time (0.3 s; RAGIS_RAG_TIMEOUT)."
    )
    assert other.requests == []


async def test_the_read_timeout_is_between_reads_not_on_the_whole_answer() -> None:
    data = json.dumps({"collections": ["a" * 50]}).encode()
    pieces = [data[i : i + 6] for i in range(0, len(data), 6)]  # 12 pieces

    async def trickle(request: Request, reply: Reply) -> None:
        await reply.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(data)
        )
        for piece in pieces:
            # Each pause far below the read timeout, all of them together well above it.
            await asyncio.sleep(0.05)
            await reply.send(piece)

    async with scripted_server(trickle) as server, client(server.url, read_timeout=0.4) as rag:
        assert await rag.list_collections(ME) == {"collections": ["a" * 50]}
    # The pauses alone (a sleep never ends early) outlast the read timeout: no clock is read.
    assert len(pieces) * 0.05 > 0.4


async def test_health_has_its_own_short_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    async def handler(request: Request, reply: Reply) -> None:
        if request.target == "/health":
            await reply.client_left()
        else:
            await reply.json(200, {"status": "ok"})

    monkeypatch.setattr(rag_client, "HEALTH_TIMEOUT", 0.2)
    async with scripted_server(handler) as server, client(server.url) as rag:
        with pytest.raises(UpstreamError, match=re.escape("(0.2 s; RAGIS_RAG_TIMEOUT)")):
            await rag.health()


async def test_health_gives_the_url_that_answered() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(200, {"status": "ok"})

    async with scripted_server(handler) as server, client(closed_port_url(), server.url) as rag:
        assert await rag.health() == (server.url, {"status": "ok"})


async def test_a_connection_closed_after_the_request_is_not_skipped() -> None:
    async with (
        scripted_server(hang_up) as broken,
        scripted_server(collections) as other,
        client(broken.url, other.url) as rag,
    ):
        with pytest.raises(UpstreamError) as caught:
            await rag.create_collection("c", ME)
    assert caught.value.message == (
        f"The RAG service at {broken.url} does not answer: the connection broke "
        "(ServerDisconnectedError)."
    )
    assert len(broken.requests) == 1
    assert other.requests == []


async def test_an_answer_cut_in_its_body_is_a_broken_connection() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"colle'
        )
        reply.close()

    async with scripted_server(handler) as server, client(server.url) as rag:
        with pytest.raises(UpstreamError, match=r"the connection broke \(ClientPayloadError\)"):
            await rag.list_collections(ME)


async def test_a_chat_refused_by_the_rag_service_is_a_rag_answer_error() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.json(404, {"error": {"code": "unknown_collection", "message": "No such."}})

    async with scripted_server(handler) as server, client(server.url) as rag:
        with pytest.raises(RagAnswerError) as caught:
            await rag.open_chat({"message": "hi"}, ME)
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        404,
        "unknown_collection",
        "No such.",
    )


async def test_a_chat_answer_that_is_not_an_event_stream_is_an_upstream_error() -> None:
    async def handler(request: Request, reply: Reply) -> None:
        await reply.text(200, "<html>hello</html>")

    async with scripted_server(handler) as server, client(server.url) as rag:
        with pytest.raises(UpstreamError) as caught:
            await rag.open_chat({"message": "hi"}, ME)
    assert caught.value.message == (
        f"The RAG service at {server.url} answered the chat with text/html content instead "
        "of an event stream."
    )


async def test_closing_a_chat_stream_closes_its_connection_at_once() -> None:
    left = asyncio.Event()

    async def handler(request: Request, reply: Reply) -> None:
        await reply.start_stream()
        await reply.chunk(b"event: meta\ndata: {}\n\n")
        await reply.client_left()
        left.set()

    async with scripted_server(handler) as server, client(server.url) as rag:
        stream = await rag.open_chat({"message": "hi"}, ME)
        assert stream.url == server.url
        assert not left.is_set()
        await stream.aclose()
        await asyncio.wait_for(left.wait(), timeout=2)


async def test_every_request_carries_the_token_and_data_requests_the_caller() -> None:
    seen: list[Request] = []

    async def record(request: Request, reply: Reply) -> None:
        seen.append(request)
        await reply.json(200, {"status": "ok", "deleted": True})

    someone = Caller("team", "ann")
    async with scripted_server(record) as server, client(server.url) as rag:
        await rag.health()
        await rag.list_collections(someone)
        await rag.delete_workspace(someone)
    health, listed, deleted = seen
    for request in seen:
        assert request.headers["authorization"] == f"Bearer {INTERNAL_TOKEN}"
    assert "x-ragis-workspace" not in health.headers
    for request in (listed, deleted):
        assert request.headers["x-ragis-workspace"] == "team"
        assert request.headers["x-ragis-user"] == "ann"
    assert (deleted.method, deleted.target) == ("DELETE", "/workspace")


@pytest.mark.parametrize("token", [None, ""])
async def test_no_internal_token_no_session(token: str | None) -> None:
    with pytest.raises(ConfigError, match="RAGIS_INTERNAL_TOKEN"):
        new_session(30.0, token)


def test_the_gateway_does_not_start_without_an_internal_token(
    start_gateway: GatewayFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(RuntimeError, match="did not start"), start_gateway(internal_token=None):
        pass
    # uvicorn logs the lifespan's refusal to stderr, its own handler's.
    assert "The gateway needs RAGIS_INTERNAL_TOKEN" in capfd.readouterr().err


async def test_a_rag_service_with_another_token_is_a_503_naming_the_setting(
    start_rag: Callable[..., AbstractContextManager[str]], start_gateway: GatewayFactory
) -> None:
    # Not a 401: the user's own sign-in is fine; the two services disagree on their secret.
    with (
        start_rag(internal_token="another-internal-token-" + "y" * 32) as rag_url,
        start_gateway(rag_urls=[rag_url]) as url,
    ):
        async with httpx.AsyncClient(base_url=url, timeout=30) as gateway:
            answer = await gateway.get("/api/collections")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "upstream_error"
    assert "RAGIS_INTERNAL_TOKEN" in answer.json()["error"]["message"]
