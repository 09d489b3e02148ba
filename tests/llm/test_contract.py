"""The LLMProvider contract, checked for every provider against its scripted loopback server.

Every case that holds for both providers lives here, run once over each; test_openai.py and
test_ollama.py keep only what is particular to one dialect (its request body, its 404, its key
or its model pulling, its server's wire format)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ragis.errors import LLMAuthError, LLMError, LLMStreamBroken, LLMUnavailable
from ragis.llm import ChatMessage, LLMProvider, OllamaProvider, OpenAIProvider
from ragis.settings import Settings
from support.llm_servers import (
    Gate,
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

    name: str
    """The provider's name ("openai" or "ollama"), which its errors carry."""
    server: ScriptedLLMServer
    provider_class: type[OpenAIProvider] | type[OllamaProvider]
    url_setting: str
    """The settings field of the provider's base URL."""
    api_path: str
    """What follows the server's root in the URL the provider is given ("/v1" or "")."""
    models: tuple[str, ...]
    """The models the server offers at the start of every test."""
    server_error: str
    """The server's own message for an HTTP 5xx, which the provider's error must quote."""
    unreachable_hint: str
    """What the provider tells the user to check when nothing answers (error and health)."""
    auth_hint: str
    """The setting a refused request (HTTP 401/403) tells the user to check."""

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
            name="openai",
            server=request.getfixturevalue("openai_server"),
            provider_class=OpenAIProvider,
            url_setting="openai_base_url",
            api_path="/v1",
            models=("gpt-4o-mini",),
            server_error="The server had an error while processing your request.",
            unreachable_hint="OPENAI_BASE_URL",
            auth_hint="OPENAI_API_KEY",
        )
    return Pair(
        name="ollama",
        server=request.getfixturevalue("ollama_server"),
        provider_class=OllamaProvider,
        url_setting="ollama_base_url",
        api_path="",
        models=("llama3.2:latest",),
        server_error="llama runner process has terminated",
        unreachable_hint="`ollama serve`",
        auth_hint="OLLAMA_BASE_URL",
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


async def test_from_settings_takes_the_model_url_timeout_and_temperature(pair: Pair) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        llm_model="qwen2.5:7b",
        llm_timeout=33,
        llm_temperature=0.5,
        **{pair.url_setting: "http://127.0.0.1:1/llm/"},
    )
    async with pair.provider_class.from_settings(settings) as llm:
        assert (llm.name, llm.model, llm.base_url) == (
            pair.name,
            "qwen2.5:7b",
            "http://127.0.0.1:1/llm",
        )
        assert (llm.timeout, llm.temperature) == (33, 0.5)


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


@pytest.mark.parametrize("status", [401, 403])
async def test_a_refused_request_is_an_auth_error_and_not_retried(
    pair: Pair, server: ScriptedLLMServer, provider: LLMProvider, status: int
) -> None:
    server.script(Reply.http_error(status))
    with pytest.raises(LLMAuthError) as caught:
        await provider.complete(MESSAGES)
    assert f"HTTP {status}" in caught.value.message
    assert pair.url(server.url) in caught.value.message
    assert pair.auth_hint in caught.value.message
    assert caught.value.provider == pair.name
    assert len(server.chat_requests) == 1


async def test_another_4xx_is_a_plain_llm_error_with_the_server_message_and_not_retried(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply.http_error(400, "invalid options"))
    with pytest.raises(LLMError, match="HTTP 400: invalid options") as caught:
        await provider.complete(MESSAGES)
    assert type(caught.value) is LLMError
    assert len(server.chat_requests) == 1


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


async def test_an_error_after_tokens_is_stream_broken_and_not_retried(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=["a", "b", "c"], error_after=1, error="out of memory"))
    received: list[str] = []
    with pytest.raises(LLMStreamBroken, match="out of memory"):
        await collect(provider.stream(MESSAGES), received)
    assert received == ["a"]
    assert len(server.chat_requests) == 1


async def test_an_error_before_the_first_token_is_unavailable_and_not_retried(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=["a"], error_after=0, error="model requires more system memory"))
    with pytest.raises(LLMUnavailable, match="more system memory"):
        await provider.complete(MESSAGES)
    assert len(server.chat_requests) == 1


async def test_a_slow_first_token_within_the_timeout_is_fine(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=["late", " but", " fine"], first_token_delay=0.2, token_delay=0.01))
    assert await provider.complete(MESSAGES) == "late but fine"


async def test_a_hanging_server_is_unavailable_after_the_timeout(
    pair: Pair, server: ScriptedLLMServer
) -> None:
    server.script(Reply(hang=True))
    async with pair.make(timeout=0.3) as llm:
        with pytest.raises(LLMUnavailable, match=r"did not answer within 0\.3 s"):
            await llm.complete(MESSAGES)
    assert len(server.chat_requests) == 1  # a slow server is not asked twice
    assert await server.wait_for_disconnect_async(within=30)


async def test_a_stall_after_tokens_is_stream_broken(pair: Pair, server: ScriptedLLMServer) -> None:
    server.script(Reply(tokens=["a", "b"], token_delay=30))
    received: list[str] = []
    async with pair.make(timeout=0.3) as llm:
        with pytest.raises(LLMStreamBroken, match=r"nothing more came within 0\.3 s"):
            await collect(llm.stream(MESSAGES), received)
    assert received == ["a"]
    assert len(server.chat_requests) == 1


async def test_closing_the_generator_closes_the_connection(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    gate = Gate()  # two tokens go out; the server holds the rest until the client leaves
    server.script(Reply(tokens=[f" t{i}" for i in range(200)], gate=gate))
    gate.open()
    gate.open()
    stream = provider.stream(MESSAGES)
    assert [await anext(stream), await anext(stream)] == [" t0", " t1"]
    await stream.aclose()  # type: ignore[attr-defined]
    assert await server.wait_for_disconnect_async(within=30)
    assert server.completed == 0


async def test_cancelling_the_consumer_closes_the_connection(
    server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.script(Reply(tokens=["never"], first_token_delay=30))

    async def consume() -> list[str]:
        return [t async for t in provider.stream(MESSAGES)]

    task = asyncio.create_task(consume())
    assert await server.wait_for_chat_requests_async()  # it waits for its first token now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await server.wait_for_disconnect_async(within=30)


async def test_nothing_listening_is_unavailable_and_says_what_to_check(pair: Pair) -> None:
    url = pair.url(f"http://127.0.0.1:{unused_port()}")
    async with pair.make(base_url=url) as llm:
        with pytest.raises(LLMUnavailable, match="Cannot connect to") as caught:
            await llm.complete(MESSAGES)
    assert url in caught.value.message
    assert pair.unreachable_hint in caught.value.message


async def test_health_names_the_model_and_the_url(
    pair: Pair, server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    health = await provider.health()
    assert health.ok
    assert health.detail == f"{provider.model} at {pair.url(server.url)}"


async def test_health_never_raises_when_nothing_answers(pair: Pair) -> None:
    url = pair.url(f"http://127.0.0.1:{unused_port()}")
    async with pair.provider_class(base_url=url, connect_timeout=0.5) as llm:
        health = await llm.health()
    assert not health.ok
    assert url in health.detail
    assert pair.unreachable_hint in health.detail


# --- Listing the models, and one turn's model -----------------------------------------------


def _offered(pair: Pair, *names: str) -> list[str]:
    """`names` as the pair's server spells them (Ollama tags a model `:latest`)."""
    return [f"{n}:latest" if pair.name == "ollama" else n for n in names]


async def test_list_models_names_what_the_server_offers_sorted(
    pair: Pair, server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.models = _offered(pair, "zeta", "alpha", "mid")
    assert await provider.list_models() == _offered(pair, "alpha", "mid", "zeta")
    assert [r.path for r in server.requests] == [
        "/v1/models" if pair.name == "openai" else "/api/tags"
    ]


async def test_list_models_of_a_failing_server_is_an_llm_error_naming_it(
    pair: Pair, server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.models_status = 500
    with pytest.raises(LLMError) as caught:
        await provider.list_models()
    assert pair.url(server.url) in caught.value.message


async def test_list_models_when_nothing_answers_is_unavailable(pair: Pair) -> None:
    url = pair.url(f"http://127.0.0.1:{unused_port()}")
    async with pair.make(base_url=url) as llm:
        with pytest.raises(LLMUnavailable) as caught:
            await llm.list_models()
    assert pair.unreachable_hint in caught.value.message


async def test_with_model_asks_for_that_model_and_leaves_the_provider_as_it_was(
    pair: Pair, server: ScriptedLLMServer, provider: LLMProvider
) -> None:
    server.models = _offered(pair, provider.model, "other")
    other = provider.with_model("other")
    assert other.model == "other"
    assert provider.with_model(provider.model) is provider
    await other.complete(MESSAGES)
    await provider.complete(MESSAGES)
    assert [r.json["model"] for r in server.chat_requests] == ["other", provider.model]
