"""Two tenants through the real gateway, with auth on: what one workspace holds, the other never
sees, cites, gets from the cache, or deletes — on every endpoint, with a session cookie and with
an API key.

Alice and Bob are members with a personal workspace each. Alice keeps a secret in hers (in the
default collection and in a collection of its own), asks about it (so the semantic cache and a
chat session hold it), then Bob tries every way in. The other doors of the issue's suite are
here too, once each: a revoked key, a cross-site form, a foreign Host, brute force, the RAG
service without its token, Redis without its password.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis as sync_redis

from ragis.db import EmbeddedRedis
from support.gateway_fixtures import GatewayFactory
from support.http import Event, collect_events

ADMIN = ("admin", "admin-password-0")
PASSWORD = "tenant-password-1"
SECRET = "The launch code of project Bluebird is 7419-ZEBRA-QUARTZ."
SECRET_FILE = ("bluebird.txt", (SECRET + "\n").encode())
QUESTION = "What is the launch code of project Bluebird?"
BOB_NOTE = ("garden.txt", b"Tomatoes need six hours of sun and deep watering twice a week.\n")


@dataclass
class Tenants:
    url: str
    admin: httpx.AsyncClient
    alice: httpx.AsyncClient
    bob: httpx.AsyncClient
    bob_by_key: httpx.AsyncClient  # Bob with an API key instead of his cookie


async def _login(url: str, username: str, password: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=60)
    response = await client.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return client


@pytest.fixture
async def tenants(rag_url: str, start_gateway: GatewayFactory) -> AsyncIterator[Tenants]:
    with start_gateway(
        rag_urls=[rag_url], auth="on", admin_user=ADMIN[0], admin_password=ADMIN[1]
    ) as url:
        async with contextlib.AsyncExitStack() as stack:
            admin = await _login(url, *ADMIN)
            stack.push_async_callback(admin.aclose)
            for name in ("alice", "bob"):
                made = await admin.post(
                    "/api/users", json={"username": name, "password": PASSWORD, "role": "member"}
                )
                assert made.status_code == 201, made.text
            alice = await _login(url, "alice", PASSWORD)
            stack.push_async_callback(alice.aclose)
            bob = await _login(url, "bob", PASSWORD)
            stack.push_async_callback(bob.aclose)
            key = await bob.post("/api/keys", json={"name": "bob's laptop"})
            assert key.status_code == 201, key.text
            by_key = httpx.AsyncClient(
                base_url=url, timeout=60, headers={"Authorization": f"Bearer {key.json()['key']}"}
            )
            stack.push_async_callback(by_key.aclose)
            yield Tenants(url, admin, alice, bob, by_key)


def _text(events: list[Event]) -> str:
    """Everything an answer shows: its tokens and its citations' texts and file names."""
    parts: list[str] = []
    for event in events:
        if event.type == "token":
            parts.append(event.data["text"])
        if event.type == "citations":
            parts += [c["text"] + " " + c["filename"] for c in event.data["citations"]]
    return " ".join(parts)


def _meta(events: list[Event]) -> dict[str, Any]:
    return next(e.data for e in events if e.type == "meta")


async def _upload(client: httpx.AsyncClient, file: tuple[str, bytes], **form: str) -> str:
    response = await client.post("/api/documents/upload", files=[("file", file)], data=form)
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["ok"], result
    return str(result["document_id"])


async def _seed_alice(alice: httpx.AsyncClient) -> tuple[str, str, str]:
    """Alice's secret in her default collection and in `vault`; her question asked (cached);
    returns the two document ids and her chat session."""
    doc = await _upload(alice, SECRET_FILE)
    vault_doc = await _upload(alice, SECRET_FILE, collection="vault")
    events = await collect_events(alice, "/api/chat/stream", {"message": QUESTION})
    assert "7419-ZEBRA-QUARTZ" in _text(events)
    again = await collect_events(alice, "/api/chat/stream", {"message": QUESTION})
    assert _meta(again)["cache_hit"] is True  # the cache does hold it, for Alice
    return doc, vault_doc, str(_meta(events)["session_id"])


def _clients(t: Tenants) -> dict[str, httpx.AsyncClient]:
    """Bob by cookie and by key, each way in his own workspace."""
    return {"cookie": t.bob, "key": t.bob_by_key}


async def test_a_secret_of_one_workspace_is_never_listed_read_or_deleted_from_another(
    tenants: Tenants,
) -> None:
    doc, vault_doc, session = await _seed_alice(tenants.alice)
    await _upload(tenants.bob, BOB_NOTE)
    for way, bob in _clients(tenants).items():
        listed = await bob.get("/api/documents")
        assert listed.status_code == 200, (way, listed.text)
        assert "bluebird" not in listed.text.lower(), way
        assert (await bob.get("/api/documents", params={"collection": "vault"})).json()[
            "documents"
        ] == [], way
        collections = await bob.get("/api/collections")
        assert "vault" not in [c["name"] for c in collections.json()["collections"]], way
        for collection, doc_id in (("default", doc), ("vault", vault_doc)):
            params = {"collection": collection}
            got = await bob.get(f"/api/documents/{doc_id}", params=params)
            assert got.status_code == 404, (way, got.text)
            gone = await bob.delete(f"/api/documents/{doc_id}", params=params)
            assert gone.status_code == 404, (way, gone.text)
        assert (await bob.delete("/api/collections/vault")).status_code == 404, way
        assert (await bob.get(f"/api/sessions/{session}")).status_code == 404, way
        assert (await bob.delete(f"/api/sessions/{session}")).status_code == 404, way
    # Alice still has everything Bob tried to delete.
    assert (await tenants.alice.get(f"/api/documents/{doc}")).status_code == 200
    vault = await tenants.alice.get(f"/api/documents/{vault_doc}", params={"collection": "vault"})
    assert vault.status_code == 200
    assert (await tenants.alice.get(f"/api/sessions/{session}")).status_code == 200


async def test_a_secret_is_never_cited_nor_served_from_the_cache_in_another_workspace(
    tenants: Tenants,
) -> None:
    _, _, session = await _seed_alice(tenants.alice)
    await _upload(tenants.bob, BOB_NOTE)
    for turn, (way, bob) in enumerate(_clients(tenants).items()):
        events = await collect_events(bob, "/api/chat/stream", {"message": QUESTION})
        # Alice's cached answer is not Bob's; his first answer is (his own) for his next ask.
        assert _meta(events)["cache_hit"] is (turn > 0), way
        assert "ZEBRA" not in _text(events), way
        assert "bluebird.txt" not in _text(events), way
        # Nor by continuing Alice's conversation: her session id names nothing in Bob's
        # workspace (at most a new, empty session of his own).
        async with bob.stream(
            "POST", "/api/chat/stream", json={"message": QUESTION, "session_id": session}
        ) as response:
            body = (await response.aread()).decode()
        assert response.status_code in (200, 404), (way, body)
        assert "ZEBRA" not in body, way
    history = await tenants.bob.get(f"/api/sessions/{session}")
    if history.status_code == 200:
        assert "ZEBRA" not in history.text
    assert (await tenants.alice.get(f"/api/sessions/{session}")).status_code == 200


async def test_another_workspace_named_in_the_header_is_not_found(tenants: Tenants) -> None:
    await _seed_alice(tenants.alice)
    header = {"X-Ragis-Workspace": "alice"}
    for way, bob in _clients(tenants).items():
        for method, path in (
            ("GET", "/api/documents"),
            ("GET", "/api/collections"),
            ("DELETE", "/api/collections/vault"),
        ):
            response = await bob.request(method, path, headers=header)
            assert response.status_code == 404, (way, method, path, response.text)
        response = await bob.post(
            "/api/documents/upload", files=[("file", BOB_NOTE)], headers=header
        )
        assert response.status_code == 404, (way, response.text)
        async with bob.stream(
            "POST", "/api/chat/stream", json={"message": QUESTION}, headers=header
        ) as answer:
            body = (await answer.aread()).decode()
        assert answer.status_code == 404, (way, body)
        assert "ZEBRA" not in body


async def test_a_revoked_key_fails_on_its_next_request(tenants: Tenants) -> None:
    made = await tenants.alice.post("/api/keys", json={"name": "script"})
    key = made.json()
    headers = {"Authorization": f"Bearer {key['key']}"}
    async with httpx.AsyncClient(base_url=tenants.url, timeout=30, headers=headers) as keyed:
        assert (await keyed.get("/api/documents")).status_code == 200
        assert (await tenants.alice.delete(f"/api/keys/{key['id']}")).status_code == 200
        refused = await keyed.get("/api/documents")
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthenticated"


async def test_without_credentials_everything_under_api_is_401_but_login_and_health(
    tenants: Tenants,
) -> None:
    async with httpx.AsyncClient(base_url=tenants.url, timeout=30) as anonymous:
        for method, path in (
            ("GET", "/api/documents"),
            ("GET", "/api/collections"),
            ("GET", "/api/me"),
            ("GET", "/api/keys"),
            ("GET", "/api/users"),
            ("GET", "/api/workspaces"),
            ("GET", "/api/audit"),
            ("GET", "/api/sessions/abc"),
            ("DELETE", "/api/documents/abc"),
            ("GET", "/api/docs"),
            ("GET", "/api/openapi.json"),
        ):
            response = await anonymous.request(method, path)
            assert response.status_code == 401, (method, path, response.text)
        upload = await anonymous.post("/api/documents/upload", files=[("file", BOB_NOTE)])
        assert upload.status_code == 401
        chat = await anonymous.post("/api/chat/stream", json={"message": QUESTION})
        assert chat.status_code == 401
    for path in ("/api/docs", "/api/openapi.json"):  # for the signed-in, as before
        assert (await tenants.bob.get(path)).status_code == 200, path
    async with httpx.AsyncClient(base_url=tenants.url, timeout=30) as anonymous:
        health = await anonymous.get("/api/health")
        assert health.status_code == 200
        assert set(health.json()) == {"status"}


async def test_a_cross_site_form_post_and_a_foreign_host_are_refused(tenants: Tenants) -> None:
    before = (await tenants.alice.get("/api/documents")).json()["documents"]
    form = await tenants.alice.post(
        "/api/documents/upload",
        files=[("file", SECRET_FILE)],
        headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert form.status_code == 403, form.text
    assert (await tenants.alice.get("/api/documents")).json()["documents"] == before
    rebound = await tenants.alice.get("/api/documents", headers={"Host": "evil.example"})
    assert rebound.status_code == 403, rebound.text


async def test_guessing_a_password_is_locked_out_with_retry_after(tenants: Tenants) -> None:
    async with httpx.AsyncClient(base_url=tenants.url, timeout=120) as guesser:
        statuses = []
        for i in range(30):
            response = await guesser.post(
                "/api/auth/login", json={"username": "alice", "password": f"guess-{i:04d}"}
            )
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert int(response.headers["Retry-After"]) >= 1
                break
        assert statuses[-1] == 429, statuses
        assert set(statuses[:-1]) == {401}
        # Locked out even with the right password, until Retry-After has passed.
        right = await guesser.post(
            "/api/auth/login", json={"username": "alice", "password": PASSWORD}
        )
        assert right.status_code == 429


async def test_the_rag_service_refuses_a_caller_without_the_internal_token(rag_url: str) -> None:
    async with httpx.AsyncClient(base_url=rag_url, timeout=30) as direct:
        headers = {"X-Ragis-Workspace": "alice", "X-Ragis-User": "bob"}
        for method, path in (
            ("GET", "/collections"),
            ("GET", "/health"),
            ("POST", "/chat/stream"),
            ("DELETE", "/workspace"),
        ):
            response = await direct.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path, response.text)
        forged = {**headers, "Authorization": "Bearer " + "x" * 43}
        assert (await direct.get("/collections", headers=forged)).status_code == 401


def test_redis_refuses_a_client_without_the_password(redis_server: EmbeddedRedis) -> None:
    client = sync_redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=5)
    try:
        with pytest.raises(sync_redis.AuthenticationError):
            client.get("anything")
    finally:
        client.close()
