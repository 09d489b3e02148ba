"""OllamaProvider against the scripted Ollama server on loopback: what is particular to the
Ollama dialect (its options, its missing models, its 404). What both providers share is checked
over both in test_contract.py."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from ragis.errors import LLMModelNotFound, LLMUnavailable
from ragis.llm import ChatMessage, OllamaProvider
from support.llm_servers import OllamaServer, OpenAIServer, Reply

MESSAGES = [ChatMessage("system", "Answer from the context."), ChatMessage("user", "What is Q8?")]


@pytest.fixture(scope="module")
def server() -> Iterator[OllamaServer]:
    with OllamaServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(server: OllamaServer) -> None:
    server.reset()
    server.models = ["llama3.2:latest"]


def make(server: OllamaServer, **kwargs: object) -> OllamaProvider:
    options: dict[str, object] = {
        "base_url": server.url,
        "timeout": 2.0,
        "connect_timeout": 1.0,
        "retry_backoff": 0.01,
    }
    options.update(kwargs)
    return OllamaProvider(**options)  # type: ignore[arg-type]


@pytest.fixture
async def provider(server: OllamaServer) -> AsyncIterator[OllamaProvider]:
    llm = make(server)
    yield llm
    await llm.aclose()


async def test_request_body_carries_model_messages_stream_and_options(
    server: OllamaServer, provider: OllamaProvider
) -> None:
    await provider.complete(MESSAGES, temperature=0.2, max_tokens=32)
    (request,) = server.chat_requests
    assert request.json == {
        "model": "llama3.2",
        "messages": [
            {"role": "system", "content": "Answer from the context."},
            {"role": "user", "content": "What is Q8?"},
        ],
        "stream": True,
        "options": {"temperature": 0.2, "num_predict": 32},
    }


async def test_the_configured_temperature_is_the_default(server: OllamaServer) -> None:
    async with make(server, temperature=0.1) as llm:
        await llm.complete(MESSAGES)
    assert server.chat_requests[0].json["options"] == {"temperature": 0.1}


async def test_a_missing_model_says_how_to_pull_it(server: OllamaServer) -> None:
    async with make(server, model="mistral") as llm:
        with pytest.raises(LLMModelNotFound) as caught:
            await llm.complete(MESSAGES)
    assert "`ollama pull mistral`" in caught.value.message
    assert "RAGIS_LLM_MODEL" in caught.value.message
    assert caught.value.provider == "ollama"
    assert len(server.chat_requests) == 1


async def test_a_404_that_is_not_about_a_model_says_the_url_is_wrong(
    server: OllamaServer, provider: OllamaProvider
) -> None:
    server.script(Reply.http_error(404, "page not found"))
    with pytest.raises(LLMUnavailable, match="OLLAMA_BASE_URL"):
        await provider.complete(MESSAGES)


async def test_health_says_when_the_model_is_not_pulled(server: OllamaServer) -> None:
    server.models = ["qwen2.5:7b"]
    async with make(server) as llm:
        health = await llm.health()
    assert not health.ok
    assert "`ollama pull llama3.2`" in health.detail
    assert "qwen2.5:7b" in health.detail


def test_the_server_answers_non_stream_chat_tags_and_version(server: OllamaServer) -> None:
    body = {"model": "llama3.2", "stream": False, "messages": [{"role": "user", "content": "hi"}]}
    data = httpx.post(server.url + "/api/chat", json=body).json()
    assert data["done"] is True
    assert data["message"] == {"role": "assistant", "content": "Scripted answer [1]. You asked: hi"}
    assert httpx.get(server.url + "/api/tags").json()["models"][0]["name"] == "llama3.2:latest"
    assert "version" in httpx.get(server.url + "/api/version").json()


def test_the_server_streams_ndjson_ending_with_done(server: OllamaServer) -> None:
    server.script(Reply(tokens=["a", "b"]))
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", server.url + "/api/chat", json=body) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert [line["message"]["content"] for line in lines] == ["a", "b", ""]
    assert [line["done"] for line in lines] == [False, False, True]


def test_the_server_lists_tags_like_ollama(server: OllamaServer) -> None:
    """GET /api/tags in Ollama's shape (0.6: name, model, modified_at, size, digest, details)."""
    (model,) = httpx.get(server.url + "/api/tags").json()["models"]
    assert sorted(model) == ["details", "digest", "model", "modified_at", "name", "size"]
    assert model["name"] == model["model"] == "llama3.2:latest"
    assert sorted(model["details"]) == [
        "families", "family", "format", "parameter_size", "parent_model", "quantization_level",
    ]  # fmt: skip


async def test_listing_names_pulled_models_with_their_tag(
    server: OllamaServer, provider: OllamaProvider
) -> None:
    server.models = ["qwen2.5:0.5b", "llama3.2:latest"]
    assert await provider.list_models() == ["llama3.2:latest", "qwen2.5:0.5b"]


async def test_a_server_that_is_not_ollama_lists_nothing_and_says_so(server: OllamaServer) -> None:
    with OpenAIServer() as other:  # answers 404 to /api/tags
        async with make(server, base_url=other.url) as llm:
            with pytest.raises(LLMUnavailable, match="refused to list its models"):
                await llm.list_models()
