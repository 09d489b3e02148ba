"""Retrieval modes and the grounded gate in a chat turn, through the real RAG service: the mode
asked for (or RAGIS_RETRIEVAL) reaches the search, every citation says which legs found it, the
meta says whether the answer is grounded, and an ungrounded turn never reaches the LLM."""

from __future__ import annotations

import httpx
import pytest

from ragis.rag.grounding import MIN_SCORE, NOT_FOUND
from support.fixtures import RagFactory, rag_client
from support.http import Event, collect_events
from support.llm_servers import OpenAIServer, Reply
from support.texts import index_all, index_body

MANUAL = [
    f"Error E44-44{n:02d}: the feed pump overheated. Switch the unit off, let the pump cool "
    "down, check the coolant level and restart it."
    for n in range(60, 90)
]


async def ask(rag: httpx.AsyncClient, message: str, **extra: object) -> list[Event]:
    return await collect_events(rag, "/chat/stream", {"message": message, **extra})


def meta_of(events: list[Event]) -> dict[str, object]:
    assert events[0].type == "meta", events
    return events[0].data


def citations_of(events: list[Event]) -> list[dict[str, object]]:
    return next(e for e in events if e.type == "citations").data["citations"]


def answer_of(events: list[Event]) -> str:
    return "".join(e.data["text"] for e in events if e.type == "token")


async def test_hybrid_is_the_default_and_finds_the_asked_code(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    indexed = await rag.post("/index", json=index_body("manual.md", MANUAL))
    assert indexed.status_code == 200, indexed.text
    llm.script(Reply(tokens=["It overheated [1]."]))
    events = await ask(rag, "What does error E44-4477 mean?")
    meta = meta_of(events)
    assert meta["retrieval"] == "hybrid"
    assert meta["grounded"] is True
    assert isinstance(meta["best_score"], float)
    assert meta["scope"] == "passages"
    first = citations_of(events)[0]
    assert "E44-4477" in str(first["text"])
    assert "lexical" in first["legs"]  # type: ignore[operator]


@pytest.mark.parametrize("mode", ["vector", "lexical", "hybrid"])
async def test_a_request_picks_its_mode_and_citations_say_their_legs(
    rag: httpx.AsyncClient, llm: OpenAIServer, mode: str
) -> None:
    await index_all(rag)
    llm.script(Reply(tokens=["Sicily [1]."]))
    events = await ask(rag, "Where is Mount Etna?", retrieval=mode)
    assert meta_of(events)["retrieval"] == mode
    cited = citations_of(events)
    assert cited
    for citation in cited:
        legs = set(citation["legs"])  # type: ignore[call-overload]
        assert legs
        assert legs <= {"vector", "lexical"}
        if mode != "hybrid":
            assert legs == {mode}


async def test_the_service_default_mode_comes_from_its_settings(
    start_rag: RagFactory, llm: OpenAIServer
) -> None:
    with start_rag(retrieval="vector") as url:
        async with rag_client(url) as rag:
            await index_all(rag)
            llm.script(Reply(tokens=["Sicily [1]."]))
            events = await ask(rag, "Where is Mount Etna?")
    assert meta_of(events)["retrieval"] == "vector"


async def test_an_unknown_mode_is_a_422_before_any_stream(rag: httpx.AsyncClient) -> None:
    for bad in ("semantic", "", 3, ["hybrid"], {"mode": "hybrid"}, "HYBRID", "x" * 10_000):
        response = await rag.post("/chat/stream", json={"message": "hi", "retrieval": bad})
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] == "invalid_request"


async def test_a_cached_answer_serves_only_the_same_mode(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await index_all(rag)
    llm.script(Reply(tokens=["Sicily [1]."]), Reply(tokens=["Sicily, again [1]."]))
    first = await ask(rag, "Where is Mount Etna?", retrieval="hybrid")
    again = await ask(rag, "Where is Mount Etna?", retrieval="hybrid")
    other = await ask(rag, "Where is Mount Etna?", retrieval="vector")
    assert meta_of(first)["cache_hit"] is False
    assert meta_of(again)["cache_hit"] is True
    assert meta_of(again)["grounded"] is True
    assert meta_of(other)["cache_hit"] is False
    assert answer_of(other) == "Sicily, again [1]."


async def test_below_the_threshold_the_answer_says_not_found_without_the_llm(
    start_rag: RagFactory, llm: OpenAIServer
) -> None:
    with start_rag(min_score=0.99) as url:
        async with rag_client(url) as rag:
            await index_all(rag)
            events = await ask(rag, "What is the capital of Australia?")
            session = await rag.get(f"/sessions/{meta_of(events)['session_id']}")
    meta = meta_of(events)
    assert meta["grounded"] is False
    assert isinstance(meta["best_score"], float)
    assert meta["best_score"] < 0.99
    assert answer_of(events) == NOT_FOUND
    assert citations_of(events)  # the closest passages, for the user to check
    assert llm.chat_requests == []
    assert [e.type for e in events][-1] == "done"
    # The refusal is remembered as one (the UI shows it again after a reload).
    assert session.json()["messages"][-1]["grounded"] is False


async def test_an_ungrounded_answer_is_not_cached(start_rag: RagFactory, llm: OpenAIServer) -> None:
    with start_rag(min_score=0.99) as url:
        async with rag_client(url) as rag:
            await index_all(rag)
            await ask(rag, "What is the capital of Australia?")
            again = await ask(rag, "What is the capital of Australia?")
    assert meta_of(again)["cache_hit"] is False


async def test_an_empty_collection_is_not_grounded(
    start_rag: RagFactory, llm: OpenAIServer
) -> None:
    with start_rag(min_score=0.0) as url:
        async with rag_client(url) as rag:
            created = await rag.post("/collections", json={"name": "default"})
            assert created.status_code == 200, created.text
            events = await ask(rag, "Anything?")
    assert meta_of(events)["grounded"] is False
    assert meta_of(events)["best_score"] is None
    assert answer_of(events) == NOT_FOUND
    assert llm.chat_requests == []


async def test_without_an_llm_the_refusal_quotes_the_closest_passages(
    start_rag: RagFactory,
) -> None:
    with start_rag(llm_provider="none", min_score=0.99) as url:
        async with rag_client(url) as rag:
            await index_all(rag)
            events = await ask(rag, "What is the capital of Australia?")
    text = answer_of(events)
    assert meta_of(events)["grounded"] is False
    assert text.startswith(NOT_FOUND)
    assert "**[1]**" in text


async def test_a_code_that_no_passage_holds_is_not_found_however_close(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    indexed = await rag.post("/index", json=index_body("manual.md", MANUAL))
    assert indexed.status_code == 200, indexed.text
    events = await ask(rag, "What does error E44-4499 mean?")  # the manual stops at E44-4489
    meta = meta_of(events)
    assert meta["grounded"] is False
    assert "`e44-4499`" in answer_of(events)
    assert llm.chat_requests == []
    llm.script(Reply(tokens=["It overheated [1]."]))
    known = await ask(rag, "What does error E44-4489 mean?")
    assert meta_of(known)["grounded"] is True


async def test_the_default_threshold_answers_the_documents_and_refuses_the_rest(
    start_rag: RagFactory, llm: OpenAIServer
) -> None:
    with start_rag(min_score=MIN_SCORE) as url:
        async with rag_client(url) as rag:
            await index_all(rag)
            llm.script(Reply(tokens=["Sicily [1]."]))
            known = await ask(rag, "Where is Mount Etna?")
            unknown = await ask(rag, "What is the capital of Australia?")
    assert meta_of(known)["grounded"] is True
    assert meta_of(unknown)["grounded"] is False
    assert len(llm.chat_requests) == 1
