"""GET/PUT /api/preferences through the real gateway: per user (not per workspace), kept in
Redis, the local user's while sign-in is off, an API key's user's; bounded and strict."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    client,
    make_key,
    make_user,
    nowhere,
    signed_in,
    with_key,
)

DEFAULTS = {"top_k": None, "model": None, "answer_length": None, "retrieval_only_seen": False}
CHOSEN = {"top_k": 3, "model": "gpt-4o", "answer_length": "short", "retrieval_only_seen": True}


@pytest.fixture
def base(start_gateway: Any) -> Iterator[str]:
    with auth_gateway(start_gateway) as url:
        yield url


@pytest.fixture
def local(start_gateway: Any) -> Iterator[str]:
    """A gateway with sign-in off (the local user), its Redis the test's."""
    with start_gateway(rag_urls=[nowhere()]) as url:
        yield url


async def test_preferences_start_as_defaults_and_keep_what_was_saved(local: str) -> None:
    async with client(local) as ui:
        assert (await ui.get("/api/preferences")).json() == DEFAULTS
        saved = await ui.put("/api/preferences", json=CHOSEN)
        assert saved.status_code == 200
        assert saved.json() == CHOSEN
        assert (await ui.get("/api/preferences")).json() == CHOSEN


async def test_put_replaces_the_whole_set(local: str) -> None:
    async with client(local) as ui:
        await ui.put("/api/preferences", json=CHOSEN)
        await ui.put("/api/preferences", json={"top_k": 7})
        assert (await ui.get("/api/preferences")).json() == {**DEFAULTS, "top_k": 7}


async def test_preferences_survive_a_restart_of_the_gateway(start_gateway: Any) -> None:
    with start_gateway(rag_urls=[nowhere()]) as url:
        async with client(url) as ui:
            await ui.put("/api/preferences", json=CHOSEN)
    with start_gateway(rag_urls=[nowhere()]) as url:
        async with client(url) as ui:
            assert (await ui.get("/api/preferences")).json() == CHOSEN


async def test_preferences_need_a_signed_in_caller(base: str) -> None:
    async with client(base) as anonymous:
        for answer in (
            await anonymous.get("/api/preferences"),
            await anonymous.put("/api/preferences", json=CHOSEN),
        ):
            assert answer.status_code == 401
            assert answer.json()["error"]["code"] == "unauthenticated"


async def test_two_users_do_not_see_each_others_and_a_key_acts_for_its_user(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "ann")
        await make_user(admin, "bob")
    async with signed_in(base, "ann", PASSWORD) as ann:
        assert (await ann.put("/api/preferences", json=CHOSEN)).status_code == 200
        key = (await make_key(ann))["key"]
    async with signed_in(base, "bob", PASSWORD) as bob:
        assert (await bob.get("/api/preferences")).json() == DEFAULTS
        await bob.put("/api/preferences", json={"top_k": 12})
    async with with_key(base, key) as keyed:
        assert (await keyed.get("/api/preferences")).json() == CHOSEN
        await keyed.put("/api/preferences", json={**CHOSEN, "top_k": 4})
    async with signed_in(base, "ann", PASSWORD) as ann:
        assert (await ann.get("/api/preferences")).json()["top_k"] == 4
    async with signed_in(base, "bob", PASSWORD) as bob:
        assert (await bob.get("/api/preferences")).json()["top_k"] == 12


async def test_preferences_are_the_users_in_every_workspace(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await admin.put("/api/preferences", json=CHOSEN)
        made = await admin.post("/api/workspaces", json={"name": "team"})
        assert made.status_code == 201, made.text
        elsewhere = await admin.get("/api/preferences", headers={"X-Ragis-Workspace": "team"})
    assert elsewhere.json() == CHOSEN


async def test_a_deleted_user_leaves_no_preferences(base: str, redis: Redis, prefix: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "cid")
        async with signed_in(base, "cid", PASSWORD) as cid:
            await cid.put("/api/preferences", json=CHOSEN)
        key = f"{prefix}:{{auth}}:user:cid:prefs"
        assert await redis.exists(key) == 1
        # The accounts forget the user first (a 503 then says the RAG service, which holds
        # their workspace's data, was not there to forget it: this gateway has none).
        await admin.delete("/api/users/cid")
        users = (await admin.get("/api/users")).json()["users"]
        assert "cid" not in json.dumps(users)
    assert await redis.exists(key) == 0


async def test_an_unknown_model_is_kept_the_question_is_what_checks_it(local: str) -> None:
    """A model is not checked against the provider's list when saved (it changes; the provider
    may be down): the question that uses it is refused with `unknown_model` instead."""
    async with client(local) as ui:
        saved = await ui.put("/api/preferences", json={"model": "not-pulled-yet:7b"})
    assert saved.status_code == 200
    assert saved.json()["model"] == "not-pulled-yet:7b"


# --- Hostile input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"top_k": 0},
        {"top_k": 51},
        {"top_k": "5"},
        {"top_k": True},
        {"top_k": 2.5},
        {"top_k": {"$gt": 1}},
        {"model": ""},
        {"model": "a" * 201},
        {"model": "gpt 4o"},
        {"model": "gpt-4o\r\nX-Injected: 1"},
        {"model": ["gpt-4o"]},
        {"model": {"nested": {"deeper": "gpt-4o"}}},
        {"answer_length": "huge"},
        {"answer_length": 800},
        {"retrieval_only_seen": "yes"},
        {"retrieval_only_seen": 1},
        {"theme": "dark"},
        {"top_k": 3, "__proto__": {"admin": True}},
        [CHOSEN],
        "top_k=3",
        None,
    ],
    ids=lambda b: json.dumps(b)[:40],
)
async def test_malformed_preferences_are_refused_and_nothing_changes(local: str, body: Any) -> None:
    async with client(local) as ui:
        await ui.put("/api/preferences", json=CHOSEN)
        answer = await ui.put("/api/preferences", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "invalid_request"
        assert (await ui.get("/api/preferences")).json() == CHOSEN


async def test_a_body_over_4_kib_is_refused_even_when_its_values_are_valid(local: str) -> None:
    padded = '{"top_k": 3' + " " * 5000 + "}"
    async with client(local) as ui:
        answer = await ui.put(
            "/api/preferences", content=padded, headers={"Content-Type": "application/json"}
        )
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "too_large"
        assert (await ui.get("/api/preferences")).json() == DEFAULTS


async def test_a_huge_body_is_refused_before_it_is_read(local: str) -> None:
    async with client(local) as ui:
        answer = await ui.put(
            "/api/preferences",
            content=b'{"model": "' + b"a" * (2 * 1024 * 1024) + b'"}',
            headers={"Content-Type": "application/json"},
        )
    assert answer.status_code == 413


async def test_deeply_nested_json_is_refused(local: str) -> None:
    nested = '{"model": ' + "[" * 5000 + "]" * 5000 + "}"
    async with client(local) as ui:
        answer = await ui.put(
            "/api/preferences", content=nested, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code in (413, 422)
    assert "error" in answer.json()


async def test_what_another_version_stored_reads_as_defaults(
    local: str, redis: Redis, prefix: str
) -> None:
    await redis.set(f"{prefix}:{{auth}}:user:local:prefs", b'{"top_k": "many", "x": [1]}')
    async with client(local) as ui:
        assert (await ui.get("/api/preferences")).json() == DEFAULTS


async def test_without_redis_preferences_are_a_503_and_the_gateway_still_serves(
    start_gateway: Any,
) -> None:
    with start_gateway(rag_urls=[nowhere()], redis_url=None) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as ui:
            answer = await ui.get("/api/preferences")
            health = await ui.get("/api/health")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "redis_unavailable"
    assert "REDIS_URL" in answer.json()["error"]["message"]
    assert health.status_code == 200
