"""`POST /collections/{name}/reindex` on the real RAG service: the NDJSON stream, a client that
leaves (the reindex resumes when run again), and every refusal as a typed JSON error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from redis.asyncio import Redis

from ragis.contract import Caller
from ragis.embedding import Embedder
from ragis.store import Keys
from support.embed_servers import OpenAIEmbedServer
from support.fixtures import RagFactory, rag_client
from support.texts import index_all, index_body

STREAM = {"Accept": "application/x-ndjson"}


@asynccontextmanager
async def service(start_rag: RagFactory, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    with start_rag(**settings) as url:
        async with rag_client(url, timeout=120) as client:
            yield client


async def lines(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) async for line in response.aiter_lines() if line]


async def reindex(rag: httpx.AsyncClient, name: str, **body: Any) -> list[dict[str, Any]]:
    async with rag.stream(
        "POST", f"/collections/{name}/reindex", json=body, headers=STREAM
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("application/x-ndjson")
        return await lines(response)


async def test_a_forced_reindex_streams_progress_then_the_result(
    start_rag: RagFactory, redis: Redis, prefix: str
) -> None:
    async with service(start_rag, embed_batch_size=2) as rag:
        await index_all(rag)
        got = await reindex(rag, "default", force=True)
        progress = [g for g in got if g["type"] == "progress"]
        assert progress[-1] == {"type": "progress", "done": 6, "total": 6}
        assert [p["done"] for p in progress] == sorted(p["done"] for p in progress)
        result = got[-1]
        assert result["type"] == "result"
        assert result["embedded"] == 6
        assert result["chunks"] == 6
        assert result["documents"] == 3
        assert result["unchanged"] is False
        assert result["model"] == result["previous_model"]
        # Questions find the same passages afterwards.
        answer = await rag.post("/search", json={"query": "What makes sourdough rise?"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["passages"][0]["filename"] == "bread.txt"
    ck = Keys(prefix).collection("default")
    assert await redis.execute_command("VCARD", ck.vectors) == 6
    assert not await redis.exists(ck.reindex, ck.reindex_done, ck.reindex_lease)


async def test_the_default_model_of_a_collection_that_has_it_is_nothing_to_do(
    rag: httpx.AsyncClient,
) -> None:
    await index_all(rag)
    got = await reindex(rag, "default", model=None)
    assert [g["type"] for g in got] == ["result"]
    assert got[-1]["unchanged"] is True
    assert got[-1]["embedded"] == 0


async def test_a_client_that_leaves_stops_the_reindex_and_the_next_run_resumes_it(
    start_rag: RagFactory, redis: Redis, prefix: str
) -> None:
    texts = [f"Maintenance step {i}: check valve {i} and note its pressure." for i in range(120)]
    async with service(start_rag, embed_batch_size=2) as rag:
        response = await rag.post("/index", json=index_body("pump.txt", texts, doc_id="pump"))
        assert response.status_code == 200
        async with rag.stream(
            "POST", "/collections/default/reindex", json={"force": True}, headers=STREAM
        ) as stream:
            async for line in stream.aiter_lines():
                if line and json.loads(line)["done"] > 0:
                    break  # and leave
        ck = Keys(prefix).collection("default")
        # The service stops the reindex (409 until it has); its progress stays for the next run.
        for _ in range(200):
            again = await rag.post("/collections/default/reindex", json={"force": True})
            if again.status_code != 409:
                break
            await asyncio.sleep(0.05)
        got = [json.loads(line) for line in again.text.splitlines() if line]
        result = got[-1]
        assert result["type"] == "result", got
        assert result["resumed"] is True
        assert 0 < result["embedded"] < 120
        assert result["chunks"] == 120
    assert await redis.execute_command("VCARD", ck.vectors) == 120


async def test_a_reindex_already_running_is_refused(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    await index_all(rag)
    ck = Keys(prefix).collection("default")
    # Another process's reindex: its progress and its live lease.
    await redis.hset(ck.reindex, mapping={"model": "openai:x", "dim": 3, "started": 1.0})
    await redis.set(ck.reindex_lease, "someone", px=60_000)
    response = await rag.post("/collections/default/reindex", json={"force": True})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "already running" in response.json()["error"]["message"]


async def test_a_stopped_reindex_to_another_model_is_refused_unless_restarted(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    await index_all(rag)
    ck = Keys(prefix).collection("default")
    await redis.hset(ck.reindex, mapping={"model": "openai:x", "dim": 3, "started": 1.0})
    got = await reindex(rag, "default", force=True)
    assert got[-1]["type"] == "error"
    assert got[-1]["status"] == 409
    assert "openai:x" in got[-1]["error"]["message"]
    got = await reindex(rag, "default", force=True, restart=True)
    assert got[-1]["type"] == "result"
    assert got[-1]["embedded"] == 6


async def test_an_unknown_collection_is_404_and_another_workspace_cannot_see_it(
    rag: httpx.AsyncClient,
) -> None:
    await index_all(rag)
    response = await rag.post("/collections/nothing/reindex", json={})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    other = Caller("elsewhere", "bob").headers()
    response = await rag.post("/collections/default/reindex", json={}, headers=other)
    assert response.status_code == 404


async def test_a_model_this_service_cannot_embed_with_is_409(rag: httpx.AsyncClient) -> None:
    await index_all(rag)
    response = await rag.post("/collections/default/reindex", json={"model": "openai:nowhere"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "model_unavailable"
    # The sentence is about the model asked for, not the one the collection has.
    message = response.json()["error"]["message"]
    assert "Collection 'default' cannot be moved to embedding model 'openai:nowhere'" in message
    assert "RAGIS_EMBED_PROVIDER=openai, RAGIS_EMBED_MODEL=nowhere" in message


HOSTILE_BODIES: list[Any] = [
    {"model": "openai:"},
    {"model": "openai:" + "x" * 300},
    {"model": "openai:bad\nname"},
    {"model": "ollama:\u0000"},
    {"model": " leading-space"},
    {"model": 5},
    {"force": "yes"},
    {"model": None, "unknown": 1},
    [],
]
HOSTILE_NAMES = ["a%3Ab", "x" * 65, "%7Bc%7D", "-lead"]


async def test_a_hostile_body_or_collection_name_is_a_typed_422(rag: httpx.AsyncClient) -> None:
    await index_all(rag)
    for body in HOSTILE_BODIES:
        response = await rag.post("/collections/default/reindex", json=body)
        assert response.status_code == 422, body
        assert set(response.json()["error"]) == {"code", "message"}
    for name in HOSTILE_NAMES:
        response = await rag.post(f"/collections/{name}/reindex", json={})
        assert response.status_code == 422, name
        assert set(response.json()["error"]) == {"code", "message"}


QUESTIONS = {
    "volcano.md": "Which volcano is on the coast of Sicily?",
    "bread.txt": "What makes sourdough rise?",
    "chess.txt": "How does castling move the king?",
}


async def top_sources(rag: httpx.AsyncClient) -> dict[str, str]:
    found = {}
    for filename, question in QUESTIONS.items():
        answer = await rag.post("/search", json={"query": question, "retrieval": "vector"})
        assert answer.status_code == 200, answer.text
        found[filename] = answer.json()["passages"][0]["filename"]
    return found


async def test_a_collection_moves_from_the_built_in_model_to_an_embedding_server(
    start_rag: RagFactory, embedder: Embedder
) -> None:
    """The operator's path: ingest with the built-in model, restart the service with an
    OpenAI-compatible server as its default, reindex: questions then go to the server and
    find the same passages."""
    async with service(start_rag) as rag:
        await index_all(rag)
        before = await top_sources(rag)
    assert before == {f: f for f in QUESTIONS}
    with OpenAIEmbedServer(embedder, models=["bge-test"]) as server:
        remote = {
            "embed_provider": "openai",
            "embed_model": "bge-test",
            "embed_base_url": server.base_url,
        }
        async with service(start_rag, **remote) as rag:
            got = await reindex(rag, "default")
            assert got[-1]["type"] == "result", got
            assert got[-1]["model"] == "openai:bge-test"
            assert got[-1]["dim"] == 512
            assert got[-1]["embedded"] == 6
            embedded = sum(server.batch_sizes)
            after = await top_sources(rag)
            assert sum(server.batch_sizes) == embedded + len(QUESTIONS)
            listed = (await rag.get("/collections")).json()["collections"]
            assert [(c["name"], c["model"], c["dim"]) for c in listed] == [
                ("default", "openai:bge-test", 512)
            ]
    assert after == before
