"""`POST /search`: the passages a chat turn would cite, without an answer, in the caller's
workspace."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ragis.contract import Caller
from support.fixtures import RagFactory, rag_client
from support.http import collect_events
from support.llm_servers import OpenAIServer
from support.texts import index_all, index_body


async def search(rag: httpx.AsyncClient, query: str, **extra: object) -> dict[str, Any]:
    response = await rag.post("/search", json={"query": query, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def refused(rag: httpx.AsyncClient, body: object) -> tuple[int, str]:
    # json.dumps escapes a lone surrogate (`\ud800`), as a hostile client may send it.
    response = await rag.post(
        "/search", content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    return response.status_code, response.json()["error"]["code"]


async def test_a_search_finds_an_ingested_passage_with_its_place_and_score(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await index_all(rag)
    paged = await rag.post(
        "/index",
        json=index_body(
            "manual.pdf",
            ["The pump needs a new gasket every year.", "Drain the tank before winter."],
            pages=[3, 4],
        ),
    )
    manual = paged.json()["document_id"]
    calls = len(llm.requests)
    found = await search(rag, "How often is the gasket of the pump replaced?")
    assert len(llm.requests) == calls  # no LLM call
    assert found["collection"] == "default"
    assert found["query"] == "How often is the gasket of the pump replaced?"
    assert found["retrieval"] == "hybrid"
    assert found["partial"] is False
    assert found["grounded"] is True  # the tests' RAGIS_MIN_SCORE is 0
    best = found["passages"][0]
    assert (best["n"], best["doc_id"], best["filename"]) == (1, manual, "manual.pdf")
    assert (best["page"], best["position"]) == (3, 0)
    assert best["text"] == "The pump needs a new gasket every year."
    assert set(best["legs"]) == {"vector", "lexical"}
    assert found["best_score"] == best["score"]
    scores = [p["score"] for p in found["passages"]]
    assert scores == sorted(scores, reverse=True)
    assert len(found["passages"]) == 5  # RAGIS_TOP_K
    assert [p["n"] for p in found["passages"]] == [1, 2, 3, 4, 5]
    second = await search(rag, "Drain the tank", top_k=1)
    assert [(p["doc_id"], p["position"], p["page"]) for p in second["passages"]] == [(manual, 1, 4)]


async def test_a_search_cites_the_passages_a_chat_turn_cites(rag: httpx.AsyncClient) -> None:
    await index_all(rag)
    question = "Where is Mount Etna?"
    events = await collect_events(rag, "/chat/stream", {"message": question})
    cited = next(e for e in events if e.type == "citations").data["citations"]
    found = (await search(rag, question))["passages"]
    assert [(p["doc_id"], p["score"], p["text"]) for p in found] == [
        (c["doc_id"], c["score"], c["text"]) for c in cited
    ]


async def test_a_search_is_filtered_by_document_and_tags(rag: httpx.AsyncClient) -> None:
    ids = await index_all(rag)
    tagged = await rag.post(
        "/index", json=index_body("etna.txt", ["Etna last erupted in 2021."], tags=["geo"])
    )
    etna = tagged.json()["document_id"]
    only = await search(rag, "volcano eruption", filter={"doc_ids": [ids["chess.txt"]]})
    assert {p["doc_id"] for p in only["passages"]} == {ids["chess.txt"]}
    by_tag = await search(rag, "volcano eruption", filter={"tags": ["geo"]})
    assert [p["doc_id"] for p in by_tag["passages"]] == [etna]
    none = await search(rag, "volcano eruption", filter={"tags": ["nothing"]})
    assert none["passages"] == []
    assert (none["grounded"], none["best_score"]) == (False, None)


async def test_each_retrieval_mode_is_searched_as_asked(rag: httpx.AsyncClient) -> None:
    await index_all(rag)
    vector = await search(rag, "Where is Mount Etna?", retrieval="vector")
    assert vector["retrieval"] == "vector"
    assert all(p["legs"] == ["vector"] for p in vector["passages"])
    lexical = await search(rag, "castling", retrieval="lexical")
    assert lexical["retrieval"] == "lexical"
    assert lexical["passages"][0]["filename"] == "chess.txt"
    assert all(p["legs"] == ["lexical"] for p in lexical["passages"])


async def test_the_grounded_gate_applies_as_in_a_chat_turn(start_rag: RagFactory) -> None:
    with start_rag(min_score=0.99) as url:
        async with rag_client(url) as rag:
            await index_all(rag)
            found = await search(rag, "What is the capital of Peru?")
            assert found["grounded"] is False
            assert found["passages"]  # the closest passages, marked as such
            assert found["best_score"] < 0.99


async def test_refusals(start_rag: RagFactory) -> None:
    with start_rag(max_message_chars=100) as url:
        async with rag_client(url) as rag:
            await index_all(rag)
            assert await refused(rag, {"query": "x", "collection": "nope"}) == (404, "not_found")
            assert (await refused(rag, {"query": "y" * 101}))[0] == 413
            assert (await refused(rag, {"query": "   "}))[0] == 422
            for body in (
                {},
                {"query": ""},
                {"query": "\ud800"},
                {"query": ["nested"]},
                {"query": {"q": "x"}},
                {"query": "x", "top_k": 0},
                {"query": "x", "top_k": 51},
                {"query": "x", "top_k": "5"},
                {"query": "x", "retrieval": "psychic"},
                {"query": "x", "collection": "../etc"},
                {"query": "x", "filter": {"doc_ids": ["a"] * 101}},
                {"query": "x", "filter": {"tags": [{"nested": 1}]}},
                {"query": "x", "session_id": "forged"},
                ["query"],
            ):
                assert (await refused(rag, body))[0] == 422, body


async def test_another_workspaces_collection_of_the_same_name_is_not_searched(
    start_rag: RagFactory,
) -> None:
    with start_rag() as url:
        async with (
            rag_client(url, **Caller("team-a", "alice").headers()) as alice,
            rag_client(url, **Caller("team-b", "bob").headers()) as bob,
        ):
            ids = await index_all(alice)
            assert await refused(bob, {"query": "Etna"}) == (404, "not_found")
            await bob.post("/index", json=index_body("note.txt", ["Bob keeps bees in Oslo."]))
            theirs = await search(bob, "Where is Mount Etna?")
            assert [p["filename"] for p in theirs["passages"]] == ["note.txt"]
            assert not {p["doc_id"] for p in theirs["passages"]} & set(ids.values())
            # A filter naming Alice's documents finds nothing of hers either.
            named = await search(bob, "Etna", filter={"doc_ids": list(ids.values())})
            assert named["passages"] == []
