"""`/v1` with sign-in on: API keys as OpenAI's SDK sends them, and workspaces kept apart.

Alice keeps a secret in her personal workspace (in its default collection and in `vault`);
Bob, with keys of his own, lists, asks and names her workspace: he never sees it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import openai
import pytest
from openai import AsyncOpenAI

from support.gateway_fixtures import GatewayFactory
from support.llm_servers import OpenAIServer
from support.signin import ADMIN, ADMIN_PASSWORD, auth_gateway, make_key, make_user, signed_in

SECRET = ("bluebird.txt", b"The launch code of project Bluebird is 7419-ZEBRA-QUARTZ.\n")
GARDEN = ("garden.txt", b"Tomatoes need six hours of sun and deep watering twice a week.\n")
QUESTION = [{"role": "user", "content": "What is the launch code of project Bluebird?"}]


@dataclass
class Keys:
    url: str
    alice: str
    bob: str
    bob_home_only: str  # a key Bob made for his own workspace only


async def _upload(client: httpx.AsyncClient, file: tuple[str, bytes], **form: str) -> None:
    answer = await client.post("/api/documents/upload", files=[("file", file)], data=form)
    assert answer.status_code == 200, answer.text


@pytest.fixture
async def keys(rag_url: str, start_gateway: GatewayFactory) -> AsyncIterator[Keys]:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as url:
        async with signed_in(url, ADMIN, ADMIN_PASSWORD) as admin:
            await make_user(admin, "alice")
            await make_user(admin, "bob")
        async with signed_in(url, "alice", "member password 1") as alice:
            await _upload(alice, SECRET)
            await _upload(alice, SECRET, collection="vault")
            alice_key = (await make_key(alice))["key"]
        async with signed_in(url, "bob", "member password 1") as bob:
            await _upload(bob, GARDEN)
            bob_key = (await make_key(bob))["key"]
            home_only = (await make_key(bob, "home", workspace="bob"))["key"]
        yield Keys(url, alice_key, bob_key, home_only)


def client(keys: Keys, key: str, **headers: str) -> AsyncOpenAI:
    return AsyncOpenAI(
        base_url=f"{keys.url}/v1", api_key=key, max_retries=0, default_headers=headers or None
    )


async def test_a_key_lists_the_models_of_its_own_workspace_only(keys: Keys) -> None:
    async with client(keys, keys.alice) as alice, client(keys, keys.bob) as bob:
        alices = [m.id async for m in alice.models.list()]
        bobs = [m.id async for m in bob.models.list()]
    assert alices == ["ragis", "ragis/default", "ragis/vault"]
    assert bobs == ["ragis", "ragis/default"]


async def test_a_key_never_gets_another_workspaces_secret(keys: Keys, llm: OpenAIServer) -> None:
    async with client(keys, keys.alice) as alice:
        hers = await alice.chat.completions.create(model="ragis", messages=QUESTION)
    assert "bluebird.txt" in (hers.choices[0].message.content or "")
    async with client(keys, keys.bob) as bob:
        his = await bob.chat.completions.create(model="ragis", messages=QUESTION)
        stream = await bob.chat.completions.create(model="ragis", messages=QUESTION, stream=True)
        streamed = [chunk.model_dump_json() async for chunk in stream]
        with pytest.raises(openai.NotFoundError):
            await bob.chat.completions.create(model="ragis/vault", messages=QUESTION)
    for seen in (his.model_dump_json(), *streamed):
        assert "ZEBRA" not in seen
        assert "bluebird" not in seen
    assert [c["document"] for c in his.model_extra["ragis"]["citations"]] == ["garden.txt"]
    # Nor did the LLM ever read the secret on Bob's behalf.
    assert sum("ZEBRA" in repr(r.json) for r in llm.chat_requests) == 1


async def test_a_bad_key_or_none_is_an_authentication_error(keys: Keys) -> None:
    async with client(keys, "rgs_not-a-key") as stranger:
        with pytest.raises(openai.AuthenticationError) as caught:
            await stranger.chat.completions.create(model="ragis", messages=QUESTION)
        with pytest.raises(openai.AuthenticationError):
            await stranger.models.list()
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "invalid_api_key"
    assert caught.value.body["type"] == "authentication_error"
    assert caught.value.response.headers["www-authenticate"] == 'Bearer realm="ragis"'
    async with httpx.AsyncClient(base_url=keys.url, timeout=30) as anonymous:
        for answer in (
            await anonymous.get("/v1/models"),
            await anonymous.post("/v1/chat/completions", json={"model": "ragis"}),
            await anonymous.post("/v1/embeddings"),
        ):
            assert answer.status_code == 401, answer.text
            assert answer.json()["error"]["type"] == "authentication_error"


async def test_another_workspace_is_not_found_and_a_bound_key_is_refused_elsewhere(
    keys: Keys,
) -> None:
    async with client(keys, keys.bob, **{"X-Ragis-Workspace": "alice"}) as bob:
        with pytest.raises(openai.NotFoundError):
            await bob.chat.completions.create(model="ragis", messages=QUESTION)
        with pytest.raises(openai.NotFoundError):
            await bob.models.list()
    async with client(keys, keys.bob_home_only, **{"X-Ragis-Workspace": "alice"}) as bound:
        with pytest.raises(openai.PermissionDeniedError) as caught:
            await bound.chat.completions.create(model="ragis", messages=QUESTION)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "permission_error"
    async with client(keys, keys.bob_home_only) as home:
        assert [m.id async for m in home.models.list()] == ["ragis", "ragis/default"]


async def test_a_key_works_with_the_openai_sdks_own_headers(keys: Keys) -> None:
    # The SDK sends its own headers (X-Stainless-*, User-Agent) and no Origin: nothing in the
    # gateway's cross-site checks refuses it.
    async with client(keys, keys.bob) as bob:
        listed = await bob.models.with_raw_response.list()
    assert listed.http_response.status_code == 200
    assert [m.id for m in listed.parse().data] == ["ragis", "ragis/default"]
