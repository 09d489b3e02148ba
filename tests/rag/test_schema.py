"""The RAG service answers as its OpenAPI schema says: schemathesis against the real service
(real Redis, the real model, the loopback LLM), a bounded run of every phase and check."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from support.fixtures import RAG_HEADERS, RagFactory
from support.schema_fuzz import run_schemathesis

# What the schema cannot say, so that schema-valid data may still be refused with a 422:
# the chunks of one /index request must be numbered 0, 1, 2, ... without a gap.
SEMANTIC_CHECKS = {"/index": ["positive_data_acceptance"]}


def test_the_rag_service_answers_as_its_schema_says(start_rag: RagFactory, tmp_path: Path) -> None:
    with start_rag() as url:
        run_schemathesis(f"{url}/openapi.json", tmp_path, off=SEMANTIC_CHECKS, headers=RAG_HEADERS)


async def test_a_405_names_every_method_of_the_path(rag: httpx.AsyncClient) -> None:
    for method, path, allowed in [
        ("OPTIONS", "/collections", "GET, POST"),
        ("PUT", "/sessions/abc", "DELETE, GET, PATCH"),
        ("GET", "/embed", "POST"),
    ]:
        response = await rag.request(method, path)
        assert response.status_code == 405, (method, path)
        assert response.headers["allow"] == allowed
        assert response.json()["error"]["code"] == "method_not_allowed"
        assert allowed in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [b"\xff\xfe{}", b'{"texts": ["\xc3"]}', b"\x80"])
async def test_a_body_that_is_not_utf8_is_a_422(rag: httpx.AsyncClient, body: bytes) -> None:
    for path in ("/embed", "/chat/stream", "/collections", "/index"):
        response = await rag.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["code"] == "invalid_request"


async def test_the_chat_streams_refusals_are_documented_as_json(rag: httpx.AsyncClient) -> None:
    responses = (await rag.get("/openapi.json")).json()["paths"]["/chat/stream"]["post"][
        "responses"
    ]
    for status in ("404", "409", "413", "422"):
        assert list(responses[status]["content"]) == ["application/json"]
    refused = await rag.post("/chat/stream", json={"message": "hi", "collection": "nope"})
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/json"
    events = responses["200"]["content"]["text/event-stream"]["schema"]
    assert events["properties"]["data"]["contentMediaType"] == "application/json"
