"""OpenAIProvider against the scripted OpenAI server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from ragis.errors import (
    ConfigError,
    LLMAuthError,
    LLMModelNotFound,
    LLMStreamBroken,
    LLMUnavailable,
)
from ragis.llm import ChatMessage, OpenAIProvider
from ragis.llm.openai import PLACEHOLDER_KEY
from ragis.settings import Settings
from support.llm_servers import OpenAIServer, Reply, unused_port

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


async def test_from_settings_uses_model_url_and_key() -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        openai_api_key="sk-abc",
        openai_base_url="http://127.0.0.1:1/v1/",
        llm_model="qwen2.5",
        llm_temperature=0.5,
    )
    async with OpenAIProvider.from_settings(settings) as llm:
        assert (llm.name, llm.model, llm.base_url) == ("openai", "qwen2.5", "http://127.0.0.1:1/v1")
        assert llm.temperature == 0.5
        assert "sk-abc" not in repr(llm)


async def test_401_is_an_auth_error_that_names_the_setting(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.script(Reply.http_error(401))
    with pytest.raises(LLMAuthError) as caught:
        await provider.complete(MESSAGES)
    assert "OPENAI_API_KEY" in caught.value.message
    assert server.base_url in caught.value.message
    assert caught.value.provider == "openai"
    assert len(server.chat_requests) == 1


async def test_403_is_an_auth_error(server: OpenAIServer, provider: OpenAIProvider) -> None:
    server.script(Reply.http_error(403, "Project does not have access"))
    with pytest.raises(LLMAuthError):
        await provider.complete(MESSAGES)


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


async def test_an_error_event_mid_stream_is_stream_broken(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.script(Reply(tokens=["a", "b", "c"], error_after=1, error="overloaded"))
    with pytest.raises(LLMStreamBroken, match="overloaded"):
        await provider.complete(MESSAGES)
    assert len(server.chat_requests) == 1


async def test_a_slow_first_token_within_the_timeout_is_fine(
    server: OpenAIServer, provider: OpenAIProvider
) -> None:
    server.script(Reply(tokens=["late", " but", " fine"], first_token_delay=0.2, token_delay=0.01))
    assert await provider.complete(MESSAGES) == "late but fine"


async def test_nothing_listening_is_unavailable(server: OpenAIServer) -> None:
    async with make(server, base_url=f"http://127.0.0.1:{unused_port()}/v1") as llm:
        with pytest.raises(LLMUnavailable, match="Cannot connect"):
            await llm.complete(MESSAGES)


async def test_health_lists_the_model(server: OpenAIServer, provider: OpenAIProvider) -> None:
    health = await provider.health()
    assert health.ok
    assert health.detail == f"gpt-4o-mini at {server.base_url}"


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
