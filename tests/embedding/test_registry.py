"""The embedder registry (ragis.embedding.registry): the default, a collection's model by id,
the built-in model loaded once when needed, and `ModelUnavailable` with what to do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from ragis.embedding import Embedder
from ragis.embedding.registry import BUILTIN_MODEL, Embedders
from ragis.errors import ConfigError, EmbeddingUnavailable, ModelUnavailable
from ragis.rag.settings import RagSettings, load_rag_settings
from support.embed_servers import OpenAIEmbedServer
from support.llm_servers import unused_port


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> Iterator[OpenAIEmbedServer]:
    with OpenAIEmbedServer(embedder, models=["bge-small", "e5-small"], api_key="sk-e") as server:
        yield server


def settings(**options: Any) -> RagSettings:
    return load_rag_settings(_env_file=None, **options)


def remote_settings(server: OpenAIEmbedServer, **options: Any) -> RagSettings:
    return settings(
        embed_provider="openai", embed_model="bge-small", embed_base_url=server.base_url,
        embed_api_key="sk-e", embed_retries=0, **options,
    )  # fmt: skip


async def test_with_the_local_provider_the_built_in_model_is_the_default(
    embedder: Embedder,
) -> None:
    embedders = await Embedders.start(settings(), builtin=embedder)
    assert embedders.default is embedder
    assert embedder.model_name == BUILTIN_MODEL
    assert await embedders.get(BUILTIN_MODEL) is embedder
    with pytest.raises(ModelUnavailable) as caught:
        await embedders.get("openai:bge-small", collection="docs")
    message = caught.value.message
    assert "Collection 'docs'" in message
    assert "'openai:bge-small'" in message
    assert "RAGIS_EMBED_PROVIDER=openai" in message
    assert f"ragis reindex --collection docs --model {BUILTIN_MODEL}" in message
    with pytest.raises(ModelUnavailable):
        await embedders.get("word2vec-1998")
    await embedders.aclose()
    assert (await embedder.embed(["still open"])).shape == (1, 384)  # not the registry's


async def test_a_remote_default_is_probed_and_other_models_of_its_server_are_made_on_demand(
    server: OpenAIEmbedServer, embedder: Embedder
) -> None:
    embedders = await Embedders.start(remote_settings(server), builtin=embedder)
    try:
        assert embedders.default.model_name == "openai:bge-small"
        assert embedders.default.dim == 512
        assert await embedders.get("openai:bge-small") is embedders.default
        assert await embedders.get(BUILTIN_MODEL) is embedder
        other = await embedders.get("openai:e5-small")
        assert other.model_name == "openai:e5-small"
        assert await embedders.get("openai:e5-small") is other  # cached
        assert set(embedders.available()) >= {"openai:bge-small", BUILTIN_MODEL, "openai:*"}
        with pytest.raises(ModelUnavailable, match="RAGIS_EMBED_PROVIDER=ollama"):
            await embedders.get("ollama:nomic-embed-text", collection="notes")
        # A model the server does not have: the server's answer, not a registry entry.
        with pytest.raises(EmbeddingUnavailable, match="HTTP 404"):
            await embedders.get("openai:no-such-model")
        assert "openai:no-such-model" not in embedders.available()
    finally:
        await embedders.aclose()


async def test_the_built_in_model_is_loaded_once_when_a_collection_needs_it(
    server: OpenAIEmbedServer, embedder: Embedder
) -> None:
    loads = 0

    async def load() -> Embedder:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.05)  # a slow load: concurrent callers must wait for this one
        return embedder

    configured = remote_settings(server)
    embedders = await Embedders.start(configured, builtin=embedder)
    lazy = Embedders(embedders.default, settings=configured, load_builtin=load)
    got = await asyncio.gather(*(lazy.get(BUILTIN_MODEL) for _ in range(5)))
    assert all(e is embedder for e in got)
    assert loads == 1
    await embedders.aclose()


async def test_an_unreachable_server_stops_the_start_with_its_url(embedder: Embedder) -> None:
    url = f"http://127.0.0.1:{unused_port()}/v1"
    configured = settings(
        embed_provider="openai", embed_model="m", embed_base_url=url, embed_retries=0
    )
    with pytest.raises(EmbeddingUnavailable, match="could not be reached") as caught:
        await Embedders.start(configured, builtin=embedder)
    assert url in caught.value.message


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"embed_provider": "openai", "embed_base_url": "http://x/v1"}, "needs RAGIS_EMBED_MODEL"),
        ({"embed_provider": "ollama", "embed_model": " "}, "needs RAGIS_EMBED_MODEL"),
        ({"embed_provider": "openai", "embed_model": "m"}, "needs RAGIS_EMBED_BASE_URL"),
        (
            {"embed_provider": "ollama", "embed_model": "m", "embed_base_url": "file:///etc"},
            "must start with http:// or https://",
        ),
        ({"embed_provider": "cohere"}, "'local', 'openai' or 'ollama'"),
        ({"embed_timeout": 0}, "(?i)embed_timeout"),
        ({"embed_retries": -1}, "(?i)embed_retries"),
    ],
)
def test_an_incomplete_remote_provider_is_refused_at_start_up_with_a_sentence(
    options: dict[str, Any], says: str
) -> None:
    with pytest.raises(ConfigError, match=says):
        settings(**options)


def test_the_key_may_come_from_a_file(tmp_path: Any) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("sk-from-file\n")
    configured = settings(
        embed_provider="openai", embed_model="m", embed_api_key_file=str(key_file)
    )
    assert configured.embed_api_key is not None
    assert configured.embed_api_key.get_secret_value() == "sk-from-file"
    assert configured.embed_base_url is None  # OpenAI's own, with a key
