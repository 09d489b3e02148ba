"""The OpenAI-compatible embedder speaks `POST {base}/embeddings` exactly (loopback server)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from ragis.embedding import Embedder
from ragis.embedding.openai_compat import OpenAIEmbedder
from ragis.errors import EmbeddingUnavailable
from support.embed_servers import EmbedReply, OpenAIEmbedServer
from support.fixtures import RagFactory, rag_client
from support.http import collect_events
from support.texts import index_all, index_body


@pytest.fixture(scope="module")
def server(embedder: Embedder) -> Iterator[OpenAIEmbedServer]:
    with OpenAIEmbedServer(embedder, models=["bge-small", "e5-small"], api_key="sk-k") as server:
        yield server


async def test_the_request_and_the_model_id_follow_the_openai_api(
    server: OpenAIEmbedServer, embedder: Embedder
) -> None:
    server.reset()
    remote = await OpenAIEmbedder.create("bge-small", server.base_url + "/", api_key="sk-k")
    try:
        assert remote.model_name == "openai:bge-small"
        assert remote.dim == 512
        texts = ["Etna is on Sicily.", "Vesuvius is near Naples.", "Stromboli erupts often."]
        vectors = await remote.embed(texts)
        last = server.requests[-1]
        assert last.method == "POST"
        assert last.path == "/v1/embeddings"
        assert last.json == {"model": "bge-small", "input": texts, "encoding_format": "float"}
        assert last.headers["authorization"] == "Bearer sk-k"
        # The server answers the items in reverse: the rows follow `index`, not the order.
        expected = server.space("bge-small").transform(await embedder.embed(texts))
        assert np.allclose(vectors, expected, atol=1e-5)
    finally:
        await remote.aclose()


async def test_two_models_of_one_server_are_two_spaces(server: OpenAIEmbedServer) -> None:
    a = await OpenAIEmbedder.create("bge-small", server.base_url, api_key="sk-k")
    b = await OpenAIEmbedder.create("e5-small", server.base_url, api_key="sk-k")
    try:
        text = ["Which volcano is on Sicily?"]
        same = float((await a.embed(text))[0] @ (await a.embed(text))[0])
        other = float((await a.embed(text))[0] @ (await b.embed(text))[0])
        assert same == pytest.approx(1.0, abs=1e-5)
        assert abs(other) < 0.3
    finally:
        await a.aclose()
        await b.aclose()


async def test_no_key_sends_no_authorization_header(embedder: Embedder) -> None:
    with OpenAIEmbedServer(embedder) as open_server:
        remote = await OpenAIEmbedder.create(open_server.model, open_server.base_url)
        await remote.aclose()
        assert "authorization" not in open_server.requests[0].headers


async def test_items_without_an_index_are_refused(server: OpenAIEmbedServer) -> None:
    remote = await OpenAIEmbedder.create("bge-small", server.base_url, api_key="sk-k")
    try:
        server.script(EmbedReply(payload={"data": [{"embedding": [0.5] * 512}]}))
        with pytest.raises(EmbeddingUnavailable, match='without a "data" list'):
            await remote.embed(["x"])
    finally:
        await remote.aclose()


async def test_a_rag_service_with_the_openai_provider_ingests_and_answers_with_its_vectors(
    start_rag: RagFactory, embedder: Embedder
) -> None:
    with OpenAIEmbedServer(embedder, api_key="sk-svc") as server:
        options = {
            "embed_provider": "openai", "embed_model": server.model,
            "embed_base_url": server.base_url, "embed_api_key": "sk-svc", "embed_batch_size": 4,
        }  # fmt: skip
        with start_rag(**options) as url:
            async with rag_client(url) as rag:
                await rag.post("/index", json=index_body("long.txt", LONG, collection="docs"))
                ids = await index_all(rag, "docs")
                listed = (await rag.get("/collections")).json()["collections"]
                assert [(c["name"], c["model"], c["dim"]) for c in listed] == [
                    ("docs", "openai:text-embedding-3-small", 512)
                ]
                # Probe, then 10 chunks in batches of 4, then 2 chunks per document.
                assert server.batch_sizes == [1, 4, 4, 2, 2, 2, 2]
                question = {"message": "Where is Mount Etna?", "collection": "docs"}
                events = await collect_events(
                    rag, "/chat/stream", {**question, "retrieval": "vector"}
                )
                citations = next(e for e in events if e.type == "citations").data["citations"]
                assert citations[0]["doc_id"] == ids["volcano.md"]
                assert server.requests[-1].texts == ["Where is Mount Etna?"]
                found = await rag.post(
                    "/search",
                    json={"query": "How is sourdough bread baked?", "collection": "docs",
                          "retrieval": "vector"},
                )  # fmt: skip
                assert found.json()["passages"][0]["doc_id"] == ids["bread.txt"]
                assert {r.headers["authorization"] for r in server.requests} == {"Bearer sk-svc"}
                # /embed: the default, or a model named by id; a hostile model id is refused.
                default = (await rag.post("/embed", json={"texts": ["Etna"]})).json()
                assert (default["model"], default["dim"]) == ("openai:" + server.model, 512)
                builtin = {"texts": ["Etna"], "model": embedder.model_name}
                assert (await rag.post("/embed", json=builtin)).json()["dim"] == 384
                for model, status in [("nope", 409), ("", 422), ("x" * 201, 422), (7, 422)]:
                    refused = await rag.post("/embed", json={"texts": ["Etna"], "model": model})
                    assert refused.status_code == status, model
                health = (await rag.get("/health")).json()
                assert health["embedder"]["detail"].startswith(
                    "openai:text-embedding-3-small (512 dims"
                )


LONG = [f"Line {i} of a long log file about nothing in particular." for i in range(10)]
