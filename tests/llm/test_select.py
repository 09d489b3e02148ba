"""select_provider: which LLM the settings lead to, with loopback servers standing in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ragis.errors import ConfigError
from ragis.llm import (
    LLMProvider,
    OllamaProvider,
    OpenAIProvider,
    describe_selection,
    ollama_answers,
    select_provider,
)
from ragis.llm.openai import PLACEHOLDER_KEY
from ragis.settings import Settings
from support.llm_servers import OllamaServer, OpenAIServer, unused_port


@pytest.fixture(scope="module")
def ollama() -> Iterator[OllamaServer]:
    with OllamaServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def openai_server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        yield srv


def nowhere() -> str:
    return f"http://127.0.0.1:{unused_port()}"


def settings(**values: Any) -> Settings:
    """Settings from these values only: no `.env`, and the LLM variables of the environment
    overridden (init arguments win over the environment)."""
    values.setdefault("openai_api_key", None)
    values.setdefault("openai_base_url", None)
    values.setdefault("llm_model", None)
    values.setdefault("ollama_base_url", nowhere())
    values.setdefault("llm_provider", "auto")
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def chosen() -> AsyncIterator[list[LLMProvider | None]]:
    """Collects selected providers and closes them after the test."""
    found: list[LLMProvider | None] = []
    yield found
    for provider in found:
        if provider is not None:
            await provider.aclose()


async def pick(found: list[LLMProvider | None], s: Settings) -> LLMProvider | None:
    provider = await select_provider(s, probe_timeout=1.0)
    found.append(provider)
    return provider


async def test_explicit_none_means_no_llm_even_with_a_key(chosen: list[Any]) -> None:
    assert await pick(chosen, settings(llm_provider="none", openai_api_key="sk-x")) is None


async def test_explicit_openai_with_a_key_is_openai(chosen: list[Any]) -> None:
    provider = await pick(chosen, settings(llm_provider="openai", openai_api_key="sk-x"))
    assert isinstance(provider, OpenAIProvider)
    assert (provider.model, provider.base_url) == ("gpt-4o-mini", "https://api.openai.com/v1")


async def test_explicit_openai_without_key_or_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        await select_provider(settings(llm_provider="openai"))


async def test_explicit_ollama_is_ollama_without_probing(chosen: list[Any]) -> None:
    url = nowhere()
    provider = await pick(chosen, settings(llm_provider="ollama", ollama_base_url=url))
    assert isinstance(provider, OllamaProvider)
    assert (provider.model, provider.base_url) == ("llama3.2", url)


async def test_auto_with_a_key_is_openai(chosen: list[Any], ollama: OllamaServer) -> None:
    provider = await pick(chosen, settings(openai_api_key="sk-x", ollama_base_url=ollama.url))
    assert isinstance(provider, OpenAIProvider)
    assert ollama.requests == []  # a key decides; Ollama is not even probed


async def test_auto_with_only_a_base_url_is_openai_with_a_placeholder_key(
    chosen: list[Any], openai_server: OpenAIServer
) -> None:
    provider = await pick(chosen, settings(openai_base_url=openai_server.base_url))
    assert isinstance(provider, OpenAIProvider)
    assert await provider.complete([]) == "Scripted answer [1]."
    auth = openai_server.chat_requests[-1].headers["authorization"]
    assert auth == f"Bearer {PLACEHOLDER_KEY}"


async def test_auto_with_an_answering_ollama_is_ollama(
    chosen: list[Any], ollama: OllamaServer
) -> None:
    provider = await pick(chosen, settings(ollama_base_url=ollama.url, llm_model="llama3.2"))
    assert isinstance(provider, OllamaProvider)
    assert provider.base_url == ollama.url
    assert ollama.requests[-1].path == "/api/tags"


async def test_auto_with_nothing_answering_is_none(chosen: list[Any]) -> None:
    assert await pick(chosen, settings()) is None


async def test_auto_with_something_else_at_the_ollama_url_is_none(
    chosen: list[Any], openai_server: OpenAIServer
) -> None:
    assert await pick(chosen, settings(ollama_base_url=openai_server.url)) is None


async def test_ollama_answers_is_false_for_nothing_listening() -> None:
    assert not await ollama_answers(nowhere(), probe_timeout=0.5)


async def test_ollama_answers_is_true_for_ollama(ollama: OllamaServer) -> None:
    assert await ollama_answers(ollama.url + "/")


async def test_describe_selection_names_provider_model_and_url(chosen: list[Any]) -> None:
    provider = await pick(chosen, settings(llm_provider="openai", openai_api_key="sk-secret"))
    line = describe_selection(provider)
    assert line == "openai: gpt-4o-mini at https://api.openai.com/v1"
    assert "retrieval-only" in describe_selection(None)
