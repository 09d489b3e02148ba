"""The chat pipeline with each provider: Ollama's native API, and no LLM at all."""

from __future__ import annotations

from support.fixtures import rag_client
from support.http import collect_events
from support.llm_servers import OllamaServer, Reply
from support.texts import index_all


async def test_a_turn_through_ollama_native_streaming(
    start_rag: object, ollama_server: OllamaServer
) -> None:
    ollama_server.reset()
    ollama_server.script(Reply(tokens=["Castling ", "moves the king [1]."]))
    with start_rag(  # type: ignore[operator]
        llm_provider="ollama", ollama_base_url=ollama_server.url, llm_model="llama3.2"
    ) as url:
        async with rag_client(url, timeout=30) as rag:
            await index_all(rag)
            events = await collect_events(rag, "/chat/stream", {"message": "What is castling?"})
            health = (await rag.get("/health")).json()
    assert events[0].data["provider"] == "ollama"
    assert events[0].data["model"] == "llama3.2"
    assert "".join(e.data["text"] for e in events if e.type == "token") == (
        "Castling moves the king [1]."
    )
    request = ollama_server.chat_requests[-1]
    assert request.path == "/api/chat"
    assert request.json["stream"] is True
    assert request.json["model"] == "llama3.2"
    assert health["provider"] == "ollama"
    assert health["llm"]["ok"] is True


async def test_without_an_llm_the_answer_is_the_best_passages_with_a_notice(
    start_rag: object,
) -> None:
    with start_rag(llm_provider="none") as url:  # type: ignore[operator]
        async with rag_client(url, timeout=30) as rag:
            await index_all(rag)
            events = await collect_events(rag, "/chat/stream", {"message": "Where is Etna?"})
            again = await collect_events(rag, "/chat/stream", {"message": "Where is Etna?"})
            health = (await rag.get("/health")).json()
    assert [e.type for e in events] == ["meta", "citations", "token", "done"]
    assert events[0].data["provider"] == "none"
    assert events[0].data["model"] is None
    text = events[2].data["text"]
    assert "No language model is connected" in text
    assert "OPENAI_API_KEY" in text
    assert "ollama serve" in text
    assert "**[1]** volcano.md" in text
    assert "Sicily" in text
    # Retrieval-only answers are cheap: never cached, always fresh.
    assert again[0].data["cache_hit"] is False
    assert health["status"] == "ok"
    assert health["provider"] == "none"
    assert "retrieval-only" in health["llm"]["detail"]


async def test_auto_selection_without_any_llm_runs_retrieval_only(start_rag: object) -> None:
    from support.llm_servers import unused_port

    with start_rag(  # type: ignore[operator]
        llm_provider="auto",
        openai_api_key=None,
        openai_base_url=None,
        ollama_base_url=f"http://127.0.0.1:{unused_port()}",
    ) as url:
        async with rag_client(url, timeout=30) as rag:
            health = (await rag.get("/health")).json()
    assert health["provider"] == "none"


async def test_without_an_llm_only_a_conversations_first_answer_carries_the_notice(
    start_rag: object,
) -> None:
    """Retrieval-only: the notice explains the first answer; follow-ups are the passages alone
    (issue 18: it sat at the top of every answer)."""
    with start_rag(llm_provider="none") as url:  # type: ignore[operator]
        async with rag_client(url, timeout=30) as rag:
            await index_all(rag)
            first = await collect_events(rag, "/chat/stream", {"message": "Where is Etna?"})
            session = {"session_id": first[0].data["session_id"]}
            follow = await collect_events(
                rag, "/chat/stream", {"message": "Is it in Sicily?", **session}
            )
            stateless_first = await collect_events(
                rag, "/chat/stream", {"message": "Where is Etna?", "history": []}
            )
            history = [
                {"role": "user", "content": "Where is Etna?"},
                {"role": "assistant", "content": "In Sicily."},
            ]
            stateless_follow = await collect_events(
                rag, "/chat/stream", {"message": "Is it high?", "history": history}
            )
    texts = [
        "".join(e.data["text"] for e in events if e.type == "token")
        for events in (first, follow, stateless_first, stateless_follow)
    ]
    notice = "No language model is connected"
    assert [notice in text for text in texts] == [True, False, True, False]
    # The follow-ups are still answered with the passages.
    assert all("**[1]**" in text for text in texts)
