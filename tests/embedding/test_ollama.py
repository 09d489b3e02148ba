"""The Ollama embedder speaks `POST {host}/api/embed` exactly (loopback server)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from ragis.embedding import Embedder
from ragis.embedding.ollama import OllamaEmbedder
from ragis.errors import EmbeddingUnavailable
from support.embed_servers import EmbedReply, OllamaEmbedServer
from support.fixtures import RagFactory, rag_client
from support.http import collect_events
from support.texts import index_all


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> Iterator[OllamaEmbedServer]:
    with OllamaEmbedServer(embedder) as server:
        yield server


async def test_the_request_and_the_model_id_follow_ollamas_api(
    server: OllamaEmbedServer, embedder: Embedder
) -> None:
    server.reset()
    remote = await OllamaEmbedder.create("nomic-embed-text", server.url, batch_size=2)
    try:
        assert remote.model_name == "ollama:nomic-embed-text"
        assert remote.dim == 512
        texts = ["Etna is on Sicily.", "Vesuvius is near Naples.", "Stromboli erupts often."]
        vectors = await remote.embed(texts)
        assert server.batch_sizes == [1, 2, 1]
        last = server.requests[-1]
        assert (last.method, last.path) == ("POST", "/api/embed")
        assert last.json == {"model": "nomic-embed-text", "input": texts[2:]}
        assert "authorization" not in last.headers
        expected = server.space().transform(await embedder.embed(texts))
        assert np.allclose(vectors, expected, atol=1e-5)
    finally:
        await remote.aclose()


async def test_a_model_ollama_has_not_pulled_is_a_clear_error(server: OllamaEmbedServer) -> None:
    with pytest.raises(EmbeddingUnavailable) as caught:
        await OllamaEmbedder.create("mxbai-embed-large", server.url, retries=3)
    assert "HTTP 404" in caught.value.message
    assert "not found, try pulling it first" in caught.value.message


@pytest.mark.parametrize(
    "payload",
    [{"model": "x"}, {"embeddings": "0.5, 0.5"}, {"embeddings": [[0.5] * 512] * 2}, None],
    ids=["no-embeddings", "a-string", "wrong-count", "null"],
)
async def test_an_answer_of_another_shape_is_refused(
    server: OllamaEmbedServer, payload: object
) -> None:
    remote = await OllamaEmbedder.create("nomic-embed-text", server.url)
    try:
        server.script(EmbedReply(body=b"null") if payload is None else EmbedReply(payload=payload))
        with pytest.raises(EmbeddingUnavailable):
            await remote.embed(["x"])
    finally:
        await remote.aclose()


async def test_a_rag_service_with_the_ollama_provider_ingests_and_answers_with_its_vectors(
    start_rag: RagFactory, embedder: Embedder
) -> None:
    with OllamaEmbedServer(embedder) as server:
        options = {"embed_provider": "ollama", "embed_model": server.model}
        with start_rag(embed_base_url=server.url, **options) as url:
            async with rag_client(url) as rag:
                ids = await index_all(rag)
                listed = (await rag.get("/collections")).json()["collections"]
                assert [(c["model"], c["dim"]) for c in listed] == [
                    ("ollama:nomic-embed-text", 512)
                ]
                question = {"message": "How does castling work in chess?", "retrieval": "vector"}
                events = await collect_events(rag, "/chat/stream", question)
                citations = next(e for e in events if e.type == "citations").data["citations"]
                assert citations[0]["doc_id"] == ids["chess.txt"]
                assert server.requests[-1].json == {
                    "model": "nomic-embed-text",
                    "input": ["How does castling work in chess?"],
                }
