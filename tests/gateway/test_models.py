"""GET /api/models through the real gateway and RAG service, and a question's `model` relayed
to the LLM (or refused with `unknown_model` before any answer)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.http import collect_events
from support.llm_servers import OpenAIServer
from support.signin import ADMIN, ADMIN_PASSWORD, PASSWORD, auth_gateway, client, make_user
from support.signin import signed_in as signed_in_as

NOTE = ("saturn.txt", b"Saturn's rings are made mostly of water ice, from grains to boulders.\n")


async def upload_one(gateway: httpx.AsyncClient) -> None:
    answer = await gateway.post("/api/documents/upload", files=[("file", NOTE)])
    assert answer.status_code == 200, answer.text


async def test_models_lists_the_providers_models_and_its_default(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o"]
    answer = await gateway.get("/api/models")
    assert answer.status_code == 200
    assert answer.json() == {
        "provider": "openai",
        "default": "gpt-4o-mini",
        "models": ["gpt-4o", "gpt-4o-mini"],
        "error": None,
    }


async def test_a_question_goes_to_the_model_it_names(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    llm.models = ["gpt-4o-mini", "gpt-4o"]
    await upload_one(gateway)
    events = await collect_events(
        gateway, "/api/chat/stream", {"message": "What is this about?", "model": "gpt-4o"}
    )
    assert events[0].data["model"] == "gpt-4o"
    assert llm.chat_requests[-1].json["model"] == "gpt-4o"


async def test_an_unknown_model_is_a_422_before_any_answer(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await upload_one(gateway)
    answer = await gateway.post(
        "/api/chat/stream", json={"message": "What is this about?", "model": "gpt-9"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "unknown_model"
    assert llm.chat_requests == []


async def test_models_while_the_rag_service_is_down_is_a_503(start_gateway: Any) -> None:
    with auth_gateway(start_gateway, auth="off") as url:  # its RAG service is nowhere
        async with client(url) as ui:
            answer = await ui.get("/api/models")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "upstream_error"


@pytest.fixture
def base(start_gateway: Any, rag_url: str) -> Iterator[str]:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as url:
        yield url


async def test_models_need_a_signed_in_caller_and_a_viewer_may_list_them(base: str) -> None:
    async with client(base) as anonymous:
        assert (await anonymous.get("/api/models")).status_code == 401
    async with signed_in_as(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "vic")
    async with signed_in_as(base, "vic", PASSWORD) as vic:
        answer = await vic.get("/api/models")
        # A workspace that is not theirs is as if it did not exist, as for every data route.
        foreign = await vic.get("/api/models", headers={"X-Ragis-Workspace": ADMIN})
    assert answer.status_code == 200
    assert answer.json()["provider"] == "openai"
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"
