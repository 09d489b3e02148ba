"""The LLMProvider contract, checked for every provider against its scripted loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ragis.errors import LLMStreamBroken, LLMUnavailable
from ragis.llm import ChatMessage, LLMProvider, OllamaProvider, OpenAIProvider
from support.llm_servers import (
    OllamaServer,
    OpenAIServer,
    Reply,
    ScriptedLLMServer,
    unused_port,
)

QUESTION = "What is HNSW?"
MESSAGES = [ChatMessage("system", "Answer from the context."), ChatMessage("user", QUESTION)]


@dataclass(frozen=True)
class Pair:
    """One provider and the scripted server that speaks its wire protocol."""

    server: ScriptedLLMServer
    provider_class: type[OpenAIProvider] | type[OllamaProvider]
    api_path: str
    """What follows the server's root in the URL the provider is given ("/v1" or "")."""
    models: tuple[str, ...]
    """The models the server offers at the start of every test."""
    server_error: str
    """The server's own message for an HTTP 5xx, which the provider's error must quote."""
    unreachable_hint: str
    """What the provider's health detail tells the user to check when nothing answers."""

    def url(self, root: str) -> str:
        """The provider's base URL for a server whose root URL is `root`."""
        return root + self.api_path

    def make(self, **kwargs: Any) -> LLMProvider:
        """A provider for this pair's server, with short timeouts and backoff unless overridden."""
        options: dict[str, Any] = {
            "base_url": self.url(self.server.url),
            "timeout": 2.0,
            "connect_timeout": 1.0,
            "retry_backoff": 0.01,
        }
        options.update(kwargs)
        return self.provider_class(**options)


@pytest.fixture(scope="module")
def openai_server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def ollama_server() -> Iterator[OllamaServer]:
    with OllamaServer() as srv:
        yield srv


@pytest.fixture(scope="module", params=["openai", "ollama"])
def pair(request: pytest.FixtureRequest) -> Pair:
    if request.param == "openai":
        return Pair(
            server=request.getfixturevalue("openai_server"),
            provider_class=OpenAIProvider,
            api_path="/v1",
            models=("gpt-4o-mini",),
            server_error="The server had an error while processing your request.",
            unreachable_hint="OPENAI_BASE_URL",
        )
    return Pair(
        server=request.getfixturevalue("ollama_server"),
        provider_class=OllamaProvider,
        api_path="",
        models=("llama3.2:latest",),
        server_error="llama runner process has terminated",
        unreachable_hint="`ollama serve`",
    )


@pytest.fixture
def server(pair: Pair) -> ScriptedLLMServer:
    """The pair's server, with no script, no records and its default models."""
    pair.server.reset()
    pair.server.models = list(pair.models)
    return pair.server


@pytest.fixture
async def provider(pair: Pair, server: ScriptedLLMServer) -> AsyncIterator[LLMProvider]:
    llm = pair.make()
    yield llm
    await llm.aclose()


async def collect(stream: AsyncIterator[str], into: list[str]) -> None:
    async for token in stream:
        into.append(token)


async def test_stream_yields_the_scripted_tokens_in_order(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=["Hier", "archical", " graphs", " [1]", "."]))
    assert [t async for t in provider.stream(MESSAGES)] == [
        "Hier",
        "archical",
        " graphs",
        " [1]",
        ".",
    ]
    assert server.completed == 1


async def test_complete_joins_the_default_answer(provider: LLMProvider) -> None:
    assert await provider.complete(MESSAGES) == f"Scripted answer [1]. You asked: {QUESTION}"


async def test_one_500_before_the_first_token_is_retried(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply.http_error(500), Reply(tokens=["fine"]))
    assert await provider.complete(MESSAGES) == "fine"
    assert len(server.chat_requests) == 2


async def test_429_is_retried(server: ScriptedLLMServer, provider: LLMProvider) -> None:
    server.script(Reply.http_error(429), Reply(tokens=["later"]))
    assert await provider.complete(MESSAGES) == "later"
    assert len(server.chat_requests) == 2


@pytest.mark.parametrize(("status", "max_retries"), [(500, 1), (503, 2)])
async def test_retries_stop_after_max_retries(
    pair: Pair, server: ScriptedLLMServer, status: int, max_retries: int
) -> None:
    server.script(*[Reply.http_error(status)] * 5)
    async with pair.make(max_retries=max_retries) as llm:
        with pytest.raises(LLMUnavailable, match=f"HTTP {status}") as caught:
            await llm.complete(MESSAGES)
    assert pair.server_error in caught.value.message
    assert len(server.chat_requests) == max_retries + 1


async def test_a_drop_before_the_first_token_is_retried(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=["x"], drop_after=0), Reply(tokens=["again"]))
    assert await provider.complete(MESSAGES) == "again"
    assert len(server.chat_requests) == 2


async def test_a_drop_after_tokens_is_stream_broken_and_not_retried(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=["a", "b", "c", "d"], drop_after=2))
    received: list[str] = []
    with pytest.raises(LLMStreamBroken, match="broke off after it had started"):
        await collect(provider.stream(MESSAGES), received)
    assert received == ["a", "b"]
    assert len(server.chat_requests) == 1


async def test_a_hanging_server_is_unavailable_after_the_timeout(
    pair: Pair, server: ScriptedLLMServer
) -> None:
    server.script(Reply(hang=True))
    async with pair.make(timeout=0.3) as llm:
        with pytest.raises(LLMUnavailable, match=r"did not answer within 0\.3 s"):
            await llm.complete(MESSAGES)
    assert len(server.chat_requests) == 1  # a slow server is not asked twice
    assert await server.wait_for_disconnect_async(within=2)


async def test_closing_the_generator_closes_the_connection(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=[f" t{i}" for i in range(200)], token_delay=0.02))
    stream = provider.stream(MESSAGES)
    assert [await anext(stream), await anext(stream)] == [" t0", " t1"]
    await stream.aclose()  # type: ignore[attr-defined]
    assert await server.wait_for_disconnect_async(within=2)
    assert server.completed == 0


async def test_cancelling_the_consumer_closes_the_connection(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=["never"], first_token_delay=30))

    async def consume() -> list[str]:
        return [t async for t in provider.stream(MESSAGES)]

    task = asyncio.create_task(consume())
    for _ in range(200):
        if server.chat_requests:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await server.wait_for_disconnect_async(within=2)


async def test_health_never_raises_when_nothing_answers(pair: Pair) -> None:
    url = pair.url(f"http://127.0.0.1:{unused_port()}")
    async with pair.provider_class(base_url=url, connect_timeout=0.5) as llm:
        health = await llm.health()
    assert not health.ok
    assert url in health.detail
    assert pair.unreachable_hint in health.detail
