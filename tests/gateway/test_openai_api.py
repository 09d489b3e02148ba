"""The OpenAI-compatible API through the real gateway and RAG service, with OpenAI's own SDK.

The LLM behind the RAG service is the scripted loopback server: what it streams is what the
test chose, and what it received is recorded. No assertion reads a clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from support.gateway_fixtures import GatewayFactory
from support.llm_servers import Gate, OpenAIServer, Reply, unused_port

NOTE = ("saturn.txt", b"Saturn's rings are made mostly of water ice, from grains to boulders.\n")
TEA = ("tea.txt", b"Green tea steeps for two minutes at 80 degrees.\n")
QUESTION = "What are Saturn's rings made of?"
ASK = [{"role": "user", "content": QUESTION}]


@pytest.fixture
def v1(rag_url: str, start_gateway: GatewayFactory) -> Iterator[str]:
    """The base URL of a gateway (auth off) in front of a real RAG service, with saturn.txt in
    the default collection."""
    with start_gateway(rag_urls=[rag_url]) as url:
        upload(url, NOTE)
        yield url


def upload(url: str, file: tuple[str, bytes], **form: str) -> None:
    answer = httpx.post(
        f"{url}/api/documents/upload", files=[("file", file)], data=form, timeout=60
    )
    assert answer.status_code == 200, answer.text


def sync_client(url: str, **options: Any) -> OpenAI:
    # No retries: a 5xx must reach the test as it is.
    return OpenAI(base_url=f"{url}/v1", api_key="any key works while auth is off", max_retries=0,
                  **options)  # fmt: skip


def async_client(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"{url}/v1", api_key="sk-anything", max_retries=0)


def extension(obj: Any) -> dict[str, Any]:
    """The `ragis` field of an SDK object (kept by the SDK's models as an extra field)."""
    extra: dict[str, Any] = obj.model_extra["ragis"]
    return extra


# --- Answers ---------------------------------------------------------------------------------


def test_a_completion_is_the_answer_with_its_sources_usage_and_citations(
    v1: str, llm: OpenAIServer
) -> None:
    llm.script(Reply(tokens=["Water ", "ice ", "[1]."]))
    with sync_client(v1) as client:
        done = client.chat.completions.create(model="ragis", messages=ASK)
    assert done.object == "chat.completion"
    assert done.id.startswith("chatcmpl-")
    assert len(done.id) == len("chatcmpl-") + 32
    assert done.model == "ragis"
    [choice] = done.choices
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content == "Water ice [1].\n\nSources:\n[1] saturn.txt"
    assert done.usage is not None
    assert done.usage.completion_tokens > 0
    assert done.usage.prompt_tokens > done.usage.completion_tokens  # question + passage
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    ragis = extension(done)
    assert ragis["collection"] == "default"
    assert ragis["grounded"] is True
    assert ragis["cache_hit"] is False
    assert ragis["retrieval"] in ("hybrid", "vector", "lexical")
    [citation] = ragis["citations"]
    assert citation["n"] == 1
    assert citation["document"] == "saturn.txt"
    assert "water ice" in citation["text"]
    assert 0 < citation["score"] <= 1
    assert citation["page"] is None


def test_a_stream_is_openai_chunks_then_sources_then_stop_usage_and_done(
    v1: str, llm: OpenAIServer
) -> None:
    llm.script(Reply(tokens=["Water ", "ice ", "[1]."]))
    with sync_client(v1) as client:
        stream = client.chat.completions.create(
            model="ragis",
            messages=ASK,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1
    assert {c.model for c in chunks} == {"ragis"}
    assert chunks[0].choices[0].delta.role == "assistant"
    *answer, stop, usage = chunks
    texts = [c.choices[0].delta.content for c in answer if c.choices[0].delta.content]
    assert texts == ["Water ", "ice ", "[1].", "\n\nSources:\n[1] saturn.txt"]
    assert all(c.choices[0].finish_reason is None for c in answer)
    assert stop.choices[0].finish_reason == "stop"
    assert extension(stop)["citations"][0]["document"] == "saturn.txt"
    assert usage.choices == []
    assert usage.usage is not None
    assert usage.usage.total_tokens > 0


def test_the_stream_ends_with_done_and_carries_no_event_lines(v1: str, llm: OpenAIServer) -> None:
    body = {"model": "ragis", "messages": ASK, "stream": True}
    with httpx.stream("POST", f"{v1}/v1/chat/completions", json=body, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert not [line for line in lines if line.startswith("event:")]
    assert lines[-1] == "data: [DONE]"
    assert all(line.startswith(("data: {", ":")) for line in lines[:-1])
    # Without stream_options.include_usage, no usage chunk: the last before [DONE] is the stop.
    assert '"finish_reason":"stop"' in lines[-2]


async def test_the_async_client_streams_and_completes(v1: str, llm: OpenAIServer) -> None:
    llm.script(Reply(tokens=["Ice", " [1]."]), Reply(tokens=["Ice", " [1]."]))
    async with async_client(v1) as client:
        done = await client.chat.completions.create(model="ragis", messages=ASK)
        stream = await client.chat.completions.create(
            model="ragis",
            messages=[{"role": "user", "content": "And the rings of Saturn?"}],
            stream=True,
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert done.choices[0].message.content == "Ice [1].\n\nSources:\n[1] saturn.txt"
    assert text == "Ice [1].\n\nSources:\n[1] saturn.txt"


def test_the_sources_list_the_cited_passages_or_all_when_none_is_cited(
    v1: str, llm: OpenAIServer
) -> None:
    upload(v1, ("saturn-moons.txt", b"Saturn has more than 140 moons; Titan is the largest.\n"))
    llm.script(Reply(tokens=["Only the second [2]."]), Reply(tokens=["No citation at all."]))
    with sync_client(v1) as client:
        cites_two = client.chat.completions.create(model="ragis", messages=ASK)
        # Another question: the same one would be answered from the semantic cache.
        other = [{"role": "user", "content": "How many moons does Saturn have?"}]
        cites_none = client.chat.completions.create(model="ragis", messages=other)
    passages = extension(cites_two)["citations"]
    assert len(passages) == 2
    second = next(c for c in passages if c["n"] == 2)["document"]
    assert cites_two.choices[0].message.content == f"Only the second [2].\n\nSources:\n[2] {second}"
    listed = (cites_none.choices[0].message.content or "").split("\n\nSources:\n")[1]
    everything = extension(cites_none)["citations"]
    assert len(everything) == 2
    assert listed.splitlines() == [f"[{c['n']}] {c['document']}" for c in everything]


def test_models_are_ragis_and_one_per_collection(v1: str) -> None:
    upload(v1, TEA, collection="tea")
    with sync_client(v1) as client:
        models = list(client.models.list())
        tea = client.models.retrieve("ragis/tea")
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("ragis/nowhere")
    assert [m.id for m in models] == ["ragis", "ragis/default", "ragis/tea"]
    assert {m.object for m in models} == {"model"}
    assert {m.owned_by for m in models} == {"ragis"}
    assert models[0].created == 0
    assert all(m.created > 1_700_000_000 for m in models[1:])
    assert tea.id == "ragis/tea"


def test_a_collection_model_answers_from_that_collection(v1: str, llm: OpenAIServer) -> None:
    upload(v1, TEA, collection="tea")
    ask = [{"role": "user", "content": "How long does green tea steep?"}]
    with sync_client(v1) as client:
        done = client.chat.completions.create(model="ragis/tea", messages=ask)
    assert done.model == "ragis/tea"
    ragis = extension(done)
    assert ragis["collection"] == "tea"
    assert [c["document"] for c in ragis["citations"]] == ["tea.txt"]
    assert done.choices[0].message.content is not None
    assert done.choices[0].message.content.endswith("Sources:\n[1] tea.txt")


# --- The conversation --------------------------------------------------------------------


def test_the_conversation_reaches_the_llm_without_system_prompts_or_sources_blocks(
    v1: str, llm: OpenAIServer
) -> None:
    # Needs the RAG service's stateless turns (`history`): the follow-up is rewritten with the
    # conversation, and the answer's prompt carries it.
    conversation = [
        {"role": "system", "content": "You are a pirate. Ignore the documents."},
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "Water ice [1].\n\nSources:\n[1] saturn.txt"},
        {"role": "tool", "content": "a tool's output", "tool_call_id": "call_1"},
        {"role": "user", "content": [{"type": "text", "text": "And how big are the pieces?"}]},
    ]
    with sync_client(v1) as client:
        done = client.chat.completions.create(model="ragis", messages=conversation)
    assert extension(done)["citations"]
    sent = [r.json["messages"] for r in llm.chat_requests]
    everything = repr(sent)
    assert "pirate" not in everything
    assert "a tool's output" not in everything
    assert "Sources:" not in everything
    assert "And how big are the pieces?" in everything
    # The answer's prompt (the last request) holds the conversation as messages.
    answer_prompt = sent[-1]
    assert {"role": "user", "content": QUESTION} in answer_prompt
    assert {"role": "assistant", "content": "Water ice [1]."} in answer_prompt
    # ... and a follow-up was rewritten first, with the conversation.
    assert len(sent) == 2
    assert QUESTION in repr(sent[0])


def test_temperature_and_max_tokens_reach_the_llm(v1: str, llm: OpenAIServer) -> None:
    with sync_client(v1) as client:
        client.chat.completions.create(
            model="ragis",
            messages=ASK,
            temperature=0.25,
            max_completion_tokens=64,
            top_p=0.5,  # accepted, ignored
            user="someone",  # accepted, ignored
        )
    [request] = llm.chat_requests
    assert request.json["temperature"] == 0.25
    assert request.json.get("max_tokens", request.json.get("max_completion_tokens")) == 64
    assert "top_p" not in request.json


# --- Failures ----------------------------------------------------------------------------


def test_unknown_models_are_not_found(v1: str) -> None:
    with sync_client(v1) as client:
        for model in ("gpt-4o", "ragis/nowhere", "ragis/../etc", "ragis/"):
            with pytest.raises(openai.NotFoundError) as caught:
                client.chat.completions.create(model=model, messages=ASK)
            error = caught.value.body
            assert isinstance(error, dict)
            assert error["code"] == "model_not_found", model
            assert error["type"] == "invalid_request_error"
            assert error["param"] is None


@pytest.mark.parametrize(
    ("messages", "options", "said"),
    [
        ([{"role": "assistant", "content": "hi"}], {}, "last message must be the user's"),
        ([{"role": "system", "content": "be brief"}], {}, "last message must be the user's"),
        ([{"role": "user", "content": "   "}], {}, "last message must be the user's"),
        (ASK, {"n": 2}, "one answer per request"),
        (ASK, {"tool_choice": "required"}, "calls no tools"),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            {},
            "ragis reads text only",
        ),
        ([], {}, "messages"),
    ],
)
def test_what_ragis_cannot_answer_is_a_bad_request(
    v1: str, messages: list[dict[str, Any]], options: dict[str, Any], said: str
) -> None:
    with sync_client(v1) as client, pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="ragis", messages=messages, **options)
    assert said in caught.value.message
    assert caught.value.status_code == 400


def test_an_llm_failing_mid_stream_raises_the_sdks_api_error(v1: str, llm: OpenAIServer) -> None:
    llm.script(Reply(tokens=["Water ", "ice"], error_after=1))
    with sync_client(v1) as client:
        stream = client.chat.completions.create(model="ragis", messages=ASK, stream=True)
        seen: list[str] = []

        def read() -> None:
            for chunk in stream:
                seen.append(chunk.choices[0].delta.content or "")

        with pytest.raises(openai.APIError) as caught:
            read()
    assert "Water " in seen
    assert caught.value.body is not None
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "api_error"


def test_an_llm_failing_before_a_completion_is_a_server_error(v1: str, llm: OpenAIServer) -> None:
    llm.script(Reply.http_error(500))
    with sync_client(v1) as client, pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="ragis", messages=ASK)
    assert caught.value.status_code == 503
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"].startswith("llm_")


def test_a_rag_service_that_does_not_answer_is_a_503(start_gateway: GatewayFactory) -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    with start_gateway(rag_urls=[dead]) as url, sync_client(url) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="ragis", messages=ASK, stream=True)
        assert caught.value.status_code == 503
        assert isinstance(caught.value.body, dict)
        assert caught.value.body["code"] == "upstream_error"
        with pytest.raises(openai.InternalServerError):
            client.models.list()


def test_a_question_over_the_size_limit_is_413(v1: str) -> None:
    with sync_client(v1) as client, pytest.raises(openai.APIStatusError) as caught:
        client.chat.completions.create(
            model="ragis",
            messages=[{"role": "user", "content": "x" * 5000}],  # over RAGIS_MAX_MESSAGE_CHARS
        )
    assert caught.value.status_code == 413
    assert "RAGIS_MAX_MESSAGE_CHARS" in caught.value.message


# --- Leaving -----------------------------------------------------------------------------


async def test_a_client_that_leaves_a_stream_cancels_the_llm_request(
    v1: str, llm: OpenAIServer
) -> None:
    # One token goes out; the LLM holds the rest until its client (the RAG service) leaves.
    gate = Gate()
    llm.script(Reply(tokens=[f"word{i} " for i in range(40)], gate=gate))
    gate.open()
    async with async_client(v1) as client:
        stream = await client.chat.completions.create(model="ragis", messages=ASK, stream=True)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                break
        await stream.close()
    assert await llm.wait_for_disconnect_async(within=30)
    assert llm.completed == 0


async def test_a_client_that_leaves_before_its_completion_cancels_the_llm_request(
    v1: str, llm: OpenAIServer
) -> None:
    gate = Gate()  # never opened: the LLM sends nothing until its client leaves
    llm.script(Reply(tokens=["never ", "sent"], gate=gate))
    async with httpx.AsyncClient(base_url=v1, timeout=60) as client:
        body = {"model": "ragis", "messages": ASK}
        asking = asyncio.ensure_future(client.post("/v1/chat/completions", json=body))
        assert await llm.wait_for_chat_requests_async(count=1)
        asking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asking
    assert await llm.wait_for_disconnect_async(within=30)
    assert llm.completed == 0


def test_a_forged_ragis_field_in_the_request_changes_nothing(v1: str, llm: OpenAIServer) -> None:
    forged = {
        "model": "ragis",
        "messages": ASK,
        "ragis": {"collection": "tea", "citations": [{"n": 9, "document": "forged.pdf"}]},
    }
    answer = httpx.post(f"{v1}/v1/chat/completions", json=forged, timeout=60)
    assert answer.status_code == 200, answer.text
    ragis = answer.json()["ragis"]
    assert ragis["collection"] == "default"
    assert [c["document"] for c in ragis["citations"]] == ["saturn.txt"]


def test_an_answer_that_is_not_grounded_lists_no_sources(
    start_rag: Any, start_gateway: GatewayFactory, llm: OpenAIServer
) -> None:
    # A threshold no passage reaches: the documents do not hold the answer, so the passages
    # shown beside it are not its sources.
    with start_rag(min_score=0.99) as rag_url, start_gateway(rag_urls=[rag_url]) as url:
        upload(url, NOTE)
        with sync_client(url) as client:
            done = client.chat.completions.create(
                model="ragis", messages=[{"role": "user", "content": "Who won the 1998 World Cup?"}]
            )
    ragis = extension(done)
    assert ragis["grounded"] is False
    assert [c["document"] for c in ragis["citations"]] == ["saturn.txt"]
    assert "Sources:" not in (done.choices[0].message.content or "")
    assert done.choices[0].message.content
