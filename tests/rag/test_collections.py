from __future__ import annotations

import httpx
import pytest
from redis.asyncio import Redis

from ragis.contract import DEFAULT_WORKSPACE
from ragis.rag.grounding import NOT_FOUND
from ragis.store import Keys
from support.fixtures import RagFactory, rag_client
from support.http import collect_events
from support.llm_servers import OpenAIServer, Reply
from support.texts import index_all, index_body


async def test_collections_and_documents_are_listed(rag: httpx.AsyncClient) -> None:
    ids = await index_all(rag)
    await rag.post("/index", json=index_body("volcano.md", collection="geo"))
    collections = (await rag.get("/collections")).json()["collections"]
    assert [c["name"] for c in collections] == ["default", "geo"]
    default = collections[0]
    assert default["documents"] == 3
    assert default["chunks"] == 6
    assert default["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    docs = (await rag.get("/collections/default/documents")).json()["documents"]
    assert [d["filename"] for d in docs] == ["volcano.md", "bread.txt", "chess.txt"]
    assert docs[0]["status"] == "ready"
    assert docs[0]["chunks"] == 2
    one = (await rag.get(f"/collections/default/documents/{ids['bread.txt']}")).json()
    assert one["filename"] == "bread.txt"


async def test_create_and_delete_a_collection(rag: httpx.AsyncClient) -> None:
    created = await rag.post("/collections", json={"name": "notes"})
    assert created.status_code == 200
    assert created.json()["documents"] == 0
    assert (await rag.post("/collections", json={"name": "notes"})).status_code == 200
    assert (await rag.get("/collections/notes/documents")).json()["documents"] == []
    await rag.post("/index", json=index_body("chess.txt", collection="notes"))
    assert (await rag.delete("/collections/notes")).json()["deleted"] is True
    assert (await rag.get("/collections/notes/documents")).status_code == 404
    assert (await rag.delete("/collections/notes")).status_code == 404


async def test_bad_collection_requests(rag: httpx.AsyncClient) -> None:
    assert (await rag.post("/collections", json={"name": "bad name"})).status_code == 422
    assert (await rag.get("/collections/nope/documents")).status_code == 404
    assert (await rag.get("/collections/default/documents/nope")).status_code == 404


async def test_a_collection_shows_its_threshold_and_the_one_that_applies(
    start_rag: RagFactory,
) -> None:
    with start_rag(min_score=0.3) as url:
        async with rag_client(url) as rag:
            created = (await rag.post("/collections", json={"name": "notes"})).json()
            assert (created["min_score"], created["effective_min_score"]) == (None, 0.3)
            assert created["keyword_index"] == "ready"
            patched = await rag.patch("/collections/notes", json={"min_score": 0.8})
            assert patched.status_code == 200, patched.text
            assert (patched.json()["min_score"], patched.json()["effective_min_score"]) == (
                0.8,
                0.8,
            )
            listed = (await rag.get("/collections")).json()["collections"]
            assert [(c["min_score"], c["effective_min_score"]) for c in listed] == [(0.8, 0.8)]
            cleared = (await rag.patch("/collections/notes", json={"min_score": None})).json()
            assert (cleared["min_score"], cleared["effective_min_score"]) == (None, 0.3)
            # A change invalidates cached answers: the version moved twice.
            assert cleared["version"] == created["version"] + 2


async def test_a_collection_without_its_keyword_index_says_building(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    await index_all(rag)
    await redis.hdel(Keys(prefix, DEFAULT_WORKSPACE).collection("default").meta, "lexical")
    listed = (await rag.get("/collections")).json()["collections"]
    assert [c["keyword_index"] for c in listed] == ["building"]


async def test_the_threshold_of_an_unknown_collection_is_not_found(rag: httpx.AsyncClient) -> None:
    response = await rag.patch("/collections/nope", json={"min_score": 0.5})
    assert response.status_code == 404, response.text
    assert "nope" in response.json()["error"]["message"]
    assert (await rag.get("/collections")).json()["collections"] == []


@pytest.mark.parametrize(
    "body",
    [
        '{"min_score": NaN}',
        '{"min_score": Infinity}',
        '{"min_score": 1e999}',
        '{"min_score": "0.5"}',
        '{"min_score": true}',
        '{"min_score": 2}',
        '{"min_score": -1}',
        '{"min_score": [0.5]}',
        '{"min_score": {"value": 0.5}}',
        '{"min_score": 0.5, "top_k": 3}',
        "{}",
        "[0.5]",
    ],
)
async def test_a_threshold_must_be_a_number_from_0_to_1(rag: httpx.AsyncClient, body: str) -> None:
    await rag.post("/collections", json={"name": "notes"})
    response = await rag.patch(
        "/collections/notes", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, (body, response.text)
    assert response.json()["error"]["code"] == "invalid_request"
    after = (await rag.get("/collections")).json()["collections"][0]
    assert (after["min_score"], after["version"]) == (None, 0)


async def test_the_collections_threshold_decides_whether_a_chat_is_grounded(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await index_all(rag)
    llm.script(Reply(tokens=["Sicily [1]."]), Reply(tokens=["Sicily, again [1]."]))
    question = {"message": "Where is Mount Etna?"}
    first = await collect_events(rag, "/chat/stream", question)
    assert (first[0].data["grounded"], first[0].data["cache_hit"]) == (True, False)

    await rag.patch("/collections/default", json={"min_score": 0.99})
    refused = await collect_events(rag, "/chat/stream", question)
    # Not the answer cached under the lower threshold: the gate closes, the LLM is not asked.
    assert (refused[0].data["grounded"], refused[0].data["cache_hit"]) == (False, False)
    assert "".join(e.data["text"] for e in refused if e.type == "token") == NOT_FOUND
    assert len(llm.chat_requests) == 1

    await rag.patch("/collections/default", json={"min_score": 0})
    answered = await collect_events(rag, "/chat/stream", question)
    assert answered[0].data["grounded"] is True
    assert "".join(e.data["text"] for e in answered if e.type == "token") == "Sicily, again [1]."
