"""The gateway answers as its OpenAPI schema says: schemathesis against the real gateway in front
of the real RAG service, a bounded run of every phase and check."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from support.gateway_fixtures import GatewayFactory
from support.schema_fuzz import run_schemathesis

# What the schema cannot say, so that schema-valid data may still be refused: whether a file's
# bytes are a type ragis reads (415) and hold text (422).
# And whether an OpenAI conversation ends with the user's question (400), and whether a URL's
# host resolves to an address the SSRF guard lets through (422) and answers (502).
SEMANTIC_CHECKS = {
    "/api/documents/upload": ["positive_data_acceptance"],
    "/api/documents/url": ["positive_data_acceptance"],
    "/v1/chat/completions": ["positive_data_acceptance"],
}


def test_the_gateway_answers_as_its_schema_says(
    rag_url: str, start_gateway: GatewayFactory, tmp_path: Path
) -> None:
    with start_gateway(rag_urls=[rag_url]) as url:
        run_schemathesis(f"{url}/api/openapi.json", tmp_path, off=SEMANTIC_CHECKS)


async def test_a_known_api_path_with_another_method_is_a_405(gateway: httpx.AsyncClient) -> None:
    for method, path, allowed in [
        ("PUT", "/api/collections", "GET, POST"),
        ("PATCH", "/api/health", "GET"),
        ("OPTIONS", "/api/documents/upload", "POST"),
        ("POST", "/api/sessions/abc", "DELETE, GET, PATCH"),
    ]:
        response = await gateway.request(method, path)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allowed
        assert response.json()["error"]["code"] == "method_not_allowed"
    assert (await gateway.put("/api/nothing/here")).status_code == 404


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"hello"), ("multipart/form-data", b"--x--"), (None, b"")],
)
async def test_a_refused_upload_is_an_error_the_schema_documents(
    gateway: httpx.AsyncClient, content_type: str | None, body: bytes
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await gateway.post("/api/documents/upload", content=body, headers=headers)
    assert response.status_code == 422
    assert set(response.json()) == {"error"}
    schema = (await gateway.get("/api/openapi.json")).json()
    documented = schema["paths"]["/api/documents/upload"]["post"]["responses"]["422"]
    refs = documented["content"]["application/json"]["schema"]["anyOf"]
    assert {"$ref": "#/components/schemas/ErrorPublic"} in refs


async def test_chat_refusals_are_json_as_documented(gateway: httpx.AsyncClient) -> None:
    refused = await gateway.post("/api/chat/stream", json={"message": "hi", "top_k": "5"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/json"
    schema = (await gateway.get("/api/openapi.json")).json()
    responses = schema["paths"]["/api/chat/stream"]["post"]["responses"]
    for status in ("404", "409", "413", "422"):
        assert list(responses[status]["content"]) == ["application/json"]
