"""The LLM models a turn may ask for: `GET /models` (the provider's list, or why not), and a
turn's `model`: checked against that list, sent to the LLM, the answer's `meta.model`, and a
key of the semantic cache."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.fixtures import RagFactory, rag_client
from support.http import Event, collect_events
from support.llm_servers import OllamaServer, OpenAIServer, Reply
from support.texts import index_all

QUESTION = "Where is Mount Etna?"


async def ask(rag: httpx.AsyncClient, message: str = QUESTION, **extra: object) -> list[Event]:
    return await collect_events(rag, "/chat/stream", {"message": message, **extra})


async def refused(rag: httpx.AsyncClient, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = await rag.post("/chat/stream", json={"message": QUESTION, **body})
    error: dict[str, Any] = response.json()["error"]
    return response.status_code, error


# --- GET /models ---------------------------------------------------------------------------------


async def test_models_lists_what_the_openai_server_offers_and_the_default(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o", "o3-mini"]
    answer = await rag.get("/models")
    assert answer.status_code == 200
    assert answer.json() == {
        "provider": "openai",
        "default": "gpt-4o-mini",
        "models": ["gpt-4o", "gpt-4o-mini", "o3-mini"],
        "error": None,
    }
    assert [r.path for r in llm.requests] == ["/v1/models"]


async def test_models_are_asked_of_the_provider_once_then_kept(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    for _ in range(3):
        assert (await rag.get("/models")).status_code == 200
    assert [r.path for r in llm.requests] == ["/v1/models"]


async def test_a_provider_that_fails_to_list_leaves_the_default_and_says_why(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models_status = 500
    body = (await rag.get("/models")).json()
    assert body["provider"] == "openai"
    assert body["default"] == body["models"][0] == "gpt-4o-mini"
    assert len(body["models"]) == 1
    assert "HTTP 500" in body["error"]
    # The default needs no list: a turn still gets its answer.
    await index_all(rag)
    events = await ask(rag, model="gpt-4o-mini")
    assert events[-1].type == "done"


async def test_models_without_an_llm_is_an_empty_list(start_rag: RagFactory) -> None:
    with start_rag(llm_provider="none") as url:
        async with rag_client(url) as rag:
            body = (await rag.get("/models")).json()
            await index_all(rag)
            status, error = await refused(rag, {"model": "gpt-4o"})
    assert body == {"provider": "none", "default": None, "models": [], "error": None}
    assert (status, error["code"]) == (422, "unknown_model")


async def test_models_of_ollama_are_its_pulled_tags_and_a_turn_goes_to_the_one_chosen(
    start_rag: RagFactory, ollama_server: OllamaServer
) -> None:
    ollama_server.reset()
    ollama_server.models = ["llama3.2:latest", "qwen2.5:0.5b"]
    try:
        with start_rag(
            llm_provider="ollama", ollama_base_url=ollama_server.url, llm_model="llama3.2"
        ) as url:
            async with rag_client(url) as rag:
                body = (await rag.get("/models")).json()
                await index_all(rag)
                events = await ask(rag, model="qwen2.5:0.5b")
        asked = ollama_server.chat_requests[-1].json["model"]
    finally:
        ollama_server.reset()
    assert body == {
        "provider": "ollama",
        "default": "llama3.2",
        "models": ["llama3.2:latest", "qwen2.5:0.5b"],
        "error": None,
    }
    assert events[0].data["model"] == "qwen2.5:0.5b"
    assert asked == "qwen2.5:0.5b"


# --- A turn's model --------------------------------------------------------------------------


async def test_a_turn_is_answered_by_the_model_it_names(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o"]
    await index_all(rag)
    llm.script(Reply(tokens=["Etna is in Sicily [1]."]))
    events = await ask(rag, model="gpt-4o")
    assert events[0].data["model"] == "gpt-4o"
    assert llm.chat_requests[-1].json["model"] == "gpt-4o"
    stored = (await rag.get(f"/sessions/{events[0].data['session_id']}")).json()["messages"]
    assert stored[-1]["model"] == "gpt-4o"
    # The next turn that names none gets the provider's own model again.
    await ask(rag, "What is a starter in bread?")
    assert llm.chat_requests[-1].json["model"] == "gpt-4o-mini"


async def test_a_follow_up_is_rewritten_by_the_model_the_turn_names(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o"]
    await index_all(rag)
    first = await ask(rag)
    calls = len(llm.chat_requests)
    await ask(
        rag, "When did it last erupt?", session_id=first[0].data["session_id"], model="gpt-4o"
    )
    assert [r.json["model"] for r in llm.chat_requests[calls:]] == ["gpt-4o", "gpt-4o"]


async def test_a_model_the_provider_does_not_list_is_refused_before_any_answer(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o"]
    await index_all(rag)
    status, error = await refused(rag, {"model": "gpt-5-imaginary"})
    assert (status, error["code"]) == (422, "unknown_model")
    assert "gpt-4o" in error["message"]
    assert "GET /api/models" in error["message"]
    assert llm.chat_requests == []


async def test_with_the_listing_failing_only_the_default_model_is_accepted(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models_status = 503
    await index_all(rag)
    status, error = await refused(rag, {"model": "gpt-4o"})
    assert (status, error["code"]) == (422, "unknown_model")
    assert "does not list them now" in error["message"]


@pytest.mark.parametrize(
    "model",
    [
        "",
        " gpt-4o",
        "gpt-4o\n",
        "../../etc/passwd",
        "gpt 4o",
        "-gpt",
        "m" * 201,
        "gpt\u00e9",
        5,
        True,
        ["gpt-4o"],
        {"name": "gpt-4o"},
    ],
    ids=lambda v: repr(v)[:20],
)
async def test_a_malformed_model_is_refused_by_the_schema(
    rag: httpx.AsyncClient, llm: OpenAIServer, model: object
) -> None:
    status, error = await refused(rag, {"model": model})
    assert (status, error["code"]) == (422, "invalid_request")
    assert llm.requests == []


async def test_the_cache_serves_an_answer_only_to_turns_of_the_same_model(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o"]
    await index_all(rag)
    first = await ask(rag)
    assert first[0].data["cache_hit"] is False
    # Naming the provider's own model is asking for none: the same entry.
    assert (await ask(rag, model="gpt-4o-mini"))[0].data["cache_hit"] is True
    calls = len(llm.chat_requests)
    other = await ask(rag, model="gpt-4o")
    assert other[0].data["cache_hit"] is False
    assert [r.json["model"] for r in llm.chat_requests[calls:]] == ["gpt-4o"]
    again = await ask(rag, model="gpt-4o")
    assert again[0].data["cache_hit"] is True
    assert again[0].data["model"] == "gpt-4o"
    assert len(llm.chat_requests) == calls + 1
