"""The RAG client against `httpx.MockTransport`: round-robin, refused URLs, error answers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from ragis.errors import UpstreamError
from ragis.gateway.rag_client import RagAnswerError, RagClient

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, *urls: str) -> tuple[RagClient, httpx.AsyncClient]:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return RagClient(http, urls), http


async def test_requests_go_round_robin_over_the_urls() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(200, json={"collections": []})

    rag, http = client(handler, "http://a:1", "http://b:1/")
    async with http:
        for _ in range(4):
            await rag.list_collections()
    assert hosts == ["a", "b", "a", "b"]


async def test_a_url_that_refuses_the_connection_is_skipped() -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        if request.url.host == "down":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(200, json={"collections": []})

    rag, http = client(handler, "http://down:1", "http://up:1")
    async with http:
        for _ in range(3):
            assert await rag.list_collections() == {"collections": []}
    assert hosts.count("up") == 3


async def test_when_every_url_refuses_the_error_names_them() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    rag, http = client(handler, "http://a:1", "http://b:2")
    async with http:
        with pytest.raises(UpstreamError, match="any of http://a:1, http://b:2 does not answer"):
            await rag.list_collections()


async def test_a_ragis_error_answer_keeps_its_status_code_and_message() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "redis_unavailable", "message": "Redis does not answer."}}
        return httpx.Response(503, json=body)

    rag, http = client(handler, "http://a:1")
    async with http:
        with pytest.raises(RagAnswerError) as caught:
            await rag.get_session("s1")
    assert (caught.value.status, caught.value.code) == (503, "redis_unavailable")
    assert caught.value.message == "Redis does not answer."


async def test_an_answer_that_is_not_ragis_json_is_an_upstream_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/collections":
            return httpx.Response(502, text="<html>Bad Gateway</html>")
        return httpx.Response(200, json=["not", "an", "object"])

    rag, http = client(handler, "http://a:1")
    async with http:
        with pytest.raises(UpstreamError, match="answered HTTP 502 without a ragis error body"):
            await rag.list_collections()
        with pytest.raises(UpstreamError, match="not a JSON object"):
            await rag.get_session("s1")


async def test_ids_are_quoted_into_one_path_segment() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={})

    rag, http = client(handler, "http://a:1")
    async with http:
        await rag.get_document("default", "../x")
    assert paths == ["/collections/default/documents/..%2Fx"]
