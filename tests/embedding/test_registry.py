"""The embedder registry (ragis.embedding.registry): the default, a collection's model by id,
the built-in model loaded once when needed, and `ModelUnavailable` with what to do."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ragis.embedding import Embedder
from ragis.embedding.registry import BUILTIN_MODEL, Embedders
from ragis.errors import ConfigError, EmbeddingUnavailable, ModelUnavailable
from ragis.rag.settings import RagSettings, load_rag_settings
from support.embed_servers import OpenAIEmbedServer
from support.fixtures import RagFactory, rag_client
from support.http import collect_events
from support.llm_servers import unused_port
from support.texts import index_all, index_body


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
    assert "collection 'docs'" in message
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


async def search(rag: httpx.AsyncClient, collection: str, query: str) -> httpx.Response:
    body = {"query": query, "collection": collection, "retrieval": "vector"}
    return await rag.post("/search", json=body)


async def best_doc(rag: httpx.AsyncClient, collection: str, query: str) -> str:
    found = await search(rag, collection, query)
    assert found.status_code == 200, found.text
    doc_id: str = found.json()["passages"][0]["doc_id"]
    return doc_id


async def test_each_collection_keeps_being_embedded_with_its_own_model_when_the_default_changes(
    start_rag: RagFactory, embedder: Embedder
) -> None:
    etna = "Where is Mount Etna?"
    with OpenAIEmbedServer(embedder, models=["bge-small", "e5-small"]) as server:
        remote = {"embed_provider": "openai", "embed_base_url": server.base_url}
        with start_rag() as url:
            async with rag_client(url) as rag:
                local_ids = await index_all(rag, "local")
        with start_rag(embed_model="bge-small", **remote) as url:
            async with rag_client(url) as rag:
                bge_ids = await index_all(rag, "bge")
                asked = len(server.requests)
                # The old collection: the built-in model, for questions and new documents.
                assert await best_doc(rag, "local", etna) == local_ids["volcano.md"]
                more = index_body("cheese.txt", ["Gouda is a Dutch cheese."], collection="local")
                assert (await rag.post("/index", json=more)).status_code == 200
                again = await rag.post("/collections", json={"name": "local"})
                assert (again.status_code, again.json()["model"]) == (200, BUILTIN_MODEL)
                assert len(server.requests) == asked
                # The new ones get the default.
                assert await best_doc(rag, "bge", etna) == bge_ids["volcano.md"]
                assert server.requests[-1].texts == [etna]
                fresh = (await rag.post("/collections", json={"name": "fresh"})).json()
                assert (fresh["model"], fresh["dim"]) == ("openai:bge-small", 512)
        with start_rag(embed_model="e5-small", **remote) as url:
            async with rag_client(url) as rag:
                # Same server, same dimension, another model: a question embedded with e5
                # would find garbage; it is embedded with the collection's bge.
                assert await best_doc(rag, "bge", etna) == bge_ids["volcano.md"]
                assert server.requests[-1].json["model"] == "bge-small"
                assert await best_doc(rag, "local", etna) == local_ids["volcano.md"]
        with start_rag() as url:
            async with rag_client(url) as rag:
                refused = await search(rag, "bge", etna)
                assert refused.status_code == 409
                error = refused.json()["error"]
                assert error["code"] == "model_unavailable"
                assert "collection 'bge'" in error["message"]
                assert "RAGIS_EMBED_PROVIDER=openai" in error["message"]
                assert "ragis reindex --collection bge" in error["message"]
                chat = {"message": etna, "collection": "bge"}
                events = await collect_events(rag, "/chat/stream", chat)
                assert [e.type for e in events] == ["error"]
                assert events[0].data["code"] == "model_unavailable"
                cheese = index_body("cheese.txt", ["Gouda is a Dutch cheese."], collection="bge")
                indexed = await rag.post("/index", json=cheese)
                assert indexed.status_code == 409
                assert indexed.json()["error"]["code"] == "model_unavailable"
                assert await best_doc(rag, "local", etna) == local_ids["volcano.md"]
