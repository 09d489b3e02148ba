"""OpenAIProvider against the scripted OpenAI server on loopback: what is particular to the
OpenAI dialect (its key, its 404, its model listing). What both providers share is checked over
both in test_contract.py."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from ragis.errors import ConfigError, LLMAuthError, LLMModelNotFound, LLMUnavailable
from ragis.llm import ChatMessage, OpenAIProvider
from ragis.llm.openai import PLACEHOLDER_KEY
from ragis.settings import Settings
from support.llm_servers import OpenAIServer, Reply

MESSAGES = [ChatMessage("system", "Answer from the context."), ChatMessage("user", "What is HNSW?")]


@pytest.fixture(scope="module")
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(server: OpenAIServer) -> None:
    server.reset()


def make(server: OpenAIServer, **kwargs: object) -> OpenAIProvider:
    options: dict[str, object] = {
        "base_url": server.base_url,
        "timeout": 2.0,
        "connect_timeout": 1.0,
        "retry_backoff": 0.01,
    }
    options.update(kwargs)
    return OpenAIProvider(**options)  # type: ignore[arg-type]


@pytest.fixture
async def provider(server: OpenAIServer) -> AsyncIterator[OpenAIProvider]:
    llm = make(server)
    yield llm
    await llm.aclose()


async def test_request_body_carries_model_messages_and_stream_flag(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    await provider.complete(MESSAGES, temperature=0.3, max_tokens=64)
    (request,) = server.chat_requests
    assert request.json["model"] == "gpt-4o-mini"
    assert request.json["stream"] is True
    assert request.json["messages"] == [
        {"role": "system", "content": "Answer from the context."},
        {"role": "user", "content": "What is HNSW?"},
    ]
    assert request.json["temperature"] == 0.3
    assert request.json["max_tokens"] == 64


async def test_unset_temperature_and_max_tokens_are_not_sent(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    await provider.complete(MESSAGES)
    body = server.chat_requests[0].json
    assert "temperature" not in body
    assert "max_tokens" not in body


async def test_base_url_without_key_sends_a_placeholder_key(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    await provider.complete(MESSAGES)
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {PLACEHOLDER_KEY}"


async def test_a_key_is_sent_as_bearer_token(server: OpenAIServer) -> None:
    async with make(server, api_key="sk-test-key") as llm:
        await llm.complete(MESSAGES)
    assert server.chat_requests[0].headers["authorization"] == "Bearer sk-test-key"


def test_neither_key_nor_base_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAIProvider()


async def test_from_settings_sends_the_key_and_keeps_it_out_of_repr(server: OpenAIServer) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        openai_api_key="sk-abc",
        openai_base_url=server.base_url,
    )
    async with OpenAIProvider.from_settings(settings) as llm:
        assert "sk-abc" not in repr(llm)
        await llm.complete(MESSAGES)
    assert server.chat_requests[0].headers["authorization"] == "Bearer sk-abc"


async def test_404_is_model_not_found_with_the_fix(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.script(Reply.http_error(404))
    with pytest.raises(LLMModelNotFound) as caught:
        await provider.complete(MESSAGES)
    assert "'gpt-4o-mini'" in caught.value.message
    assert "RAGIS_LLM_MODEL" in caught.value.message


async def test_the_key_never_appears_in_an_error(server: OpenAIServer) -> None:
    secret = "sk-very-secret-0123456789"
    server.script(*[Reply.http_error(500, f"backend rejected {secret}")] * 3)
    async with make(server, api_key=secret, max_retries=2) as llm:
        with pytest.raises(LLMUnavailable) as caught:
            await llm.complete(MESSAGES)
    assert secret not in caught.value.message
    assert "backend rejected ***" in caught.value.message


async def test_health_reports_an_unlisted_model_without_failing(server: OpenAIServer) -> None:
    async with make(server, model="my-gguf") as llm:
        health = await llm.health()
    assert health.ok
    assert "does not list it" in health.detail


async def test_health_reports_a_refused_key() -> None:
    with OpenAIServer(api_key="sk-right") as srv:
        async with OpenAIProvider(api_key="sk-wrong", base_url=srv.base_url) as llm:
            health = await llm.health()
    assert not health.ok
    assert "OPENAI_API_KEY" in health.detail
    assert "sk-wrong" not in health.detail


def test_the_server_answers_non_stream_requests_like_openai(server: OpenAIServer) -> None:
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    response = httpx.post(server.base_url + "/chat/completions", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Scripted answer [1]. You asked: hi",
        "refusal": None,
    }


def test_the_server_streams_sse_ending_with_done(server: OpenAIServer) -> None:
    server.script(Reply(tokens=["a", "b"]))
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", server.base_url + "/chat/completions", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert '"finish_reason": "stop"' in lines[-2]
    assert '"role": "assistant"' in lines[0]
    assert '"content": "a"' in lines[1]


def test_the_server_lists_models_like_openai(server: OpenAIServer) -> None:
    """GET /v1/models in OpenAI's shape (api.openai.com answers exactly these four fields)."""
    server.models = ["gpt-4o-mini", "gpt-4o"]
    data = httpx.get(server.base_url + "/models").json()
    assert data["object"] == "list"
    assert [sorted(m) for m in data["data"]] == [["created", "id", "object", "owned_by"]] * 2
    assert [m["id"] for m in data["data"]] == ["gpt-4o-mini", "gpt-4o"]
    assert {m["object"] for m in data["data"]} == {"model"}


async def test_listing_models_with_a_refused_key_is_an_auth_error() -> None:
    with OpenAIServer(api_key="sk-right") as keyed:
        async with OpenAIProvider(base_url=keyed.base_url, api_key="sk-wrong") as llm:
            with pytest.raises(LLMAuthError, match="OPENAI_API_KEY") as caught:
                await llm.list_models()
    assert "sk-wrong" not in caught.value.message
