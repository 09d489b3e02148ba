"""Signing in through the real gateway: login, logout, me, the cookie, 401 everywhere without
credentials, hostile bodies, and passwords that never reach a log."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    client,
    make_key,
    make_user,
    signed_in,
)

GatewayFactory = Any


@pytest.fixture
def base(start_gateway: GatewayFactory) -> Iterator[str]:
    with auth_gateway(start_gateway) as url:
        yield url


async def test_login_returns_me_and_sets_a_locked_down_cookie(base: str) -> None:
    async with client(base) as anyone:
        answer = await anyone.post(
            "/api/auth/login", json={"username": ADMIN, "password": ADMIN_PASSWORD}
        )
    assert answer.status_code == 200
    assert answer.json() == {
        "username": ADMIN,
        "role": "admin",
        "auth": "on",
        "via": "session",
        "workspace": ADMIN,
        "workspaces": [
            {"name": "default", "role": "owner", "personal": False},
            {"name": ADMIN, "role": "owner", "personal": True},
        ],
    }
    cookie = answer.headers["set-cookie"]
    parts = [p.strip().lower() for p in cookie.split(";")]
    assert parts[0].startswith("ragis_session=")
    assert "httponly" in parts
    assert "samesite=lax" in parts
    assert "path=/" in parts
    assert f"max-age={7 * 86400}" in parts
    assert "secure" not in parts  # plain http on loopback


async def test_the_cookie_is_secure_behind_an_https_proxy(start_gateway: GatewayFactory) -> None:
    with auth_gateway(start_gateway, trusted_proxies=["127.0.0.1"]) as url:
        async with client(url) as anyone:
            answer = await anyone.post(
                "/api/auth/login",
                json={"username": ADMIN, "password": ADMIN_PASSWORD},
                headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
            )
    assert answer.status_code == 200
    assert "secure" in [p.strip().lower() for p in answer.headers["set-cookie"].split(";")]


async def test_me_logout_and_the_session_gone(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        me = await admin.get("/api/me")
        assert me.status_code == 200
        assert (me.json()["username"], me.json()["via"]) == (ADMIN, "session")
        cookie = admin.cookies["ragis_session"]
        out = await admin.post("/api/auth/logout")
        assert out.status_code == 200
        assert out.json() == {"logged_out": True}
        assert "max-age=0" in out.headers["set-cookie"].lower()
    # The old cookie, replayed, is refused: the server-side session is gone.
    async with client(base, cookies={"ragis_session": cookie}) as replay:
        again = await replay.get("/api/me")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "unauthenticated"


async def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(base: str) -> None:
    async with client(base) as anyone:
        wrong = await anyone.post("/api/auth/login", json={"username": ADMIN, "password": "nope"})
        ghost = await anyone.post("/api/auth/login", json={"username": "ghost", "password": "x"})
    for answer in (wrong, ghost):
        assert answer.status_code == 401
        assert answer.json() == {
            "error": {"code": "invalid_credentials", "message": "Wrong username or password."}
        }
        assert "set-cookie" not in answer.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/me"),
        ("GET", "/api/keys"),
        ("POST", "/api/keys"),
        ("GET", "/api/users"),
        ("GET", "/api/workspaces"),
        ("GET", "/api/audit"),
        ("GET", "/api/documents"),
        ("GET", "/api/collections"),
        ("POST", "/api/chat/stream"),
        ("GET", "/api/sessions/abc"),
    ],
)
async def test_everything_under_api_needs_credentials(base: str, method: str, path: str) -> None:
    async with client(base) as anyone:
        answer = await anyone.request(method, path, json={} if method == "POST" else None)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-a-ragis-key"},
        {"Authorization": "Bearer rgs_" + "A" * 43},
        {"Authorization": "Basic cm9vdDpyb290IHBhc3N3b3JkIDE="},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer rgs_" + "x" * 5000},
        {"Cookie": "ragis_session=forged-cookie-value"},
        {"Cookie": "ragis_session=" + "y" * 3000},
    ],
)
async def test_forged_credentials_are_refused(base: str, headers: dict[str, str]) -> None:
    async with client(base) as anyone:
        answer = await anyone.get("/api/me", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"


async def test_health_without_credentials_says_only_its_status(base: str) -> None:
    async with client(base) as anyone:
        bare = await anyone.get("/api/health")
    assert bare.status_code == 200
    assert bare.json() == {"status": "degraded"}  # the RAG service is not there
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        full = await admin.get("/api/health")
    assert full.status_code == 200
    assert {"status", "gateway", "rag", "redis", "limits"} <= set(full.json())


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "root", "password": ',
        "[]",
        '{"username": "root"}',
        '{"username": "root", "password": "x", "extra": 1}',
        '{"username": ["root"], "password": "x"}',
        json.dumps({"username": "r" * 100_000, "password": "x"}),
        json.dumps({"username": "root", "password": "p" * 900_000}),
        '{"username": ' + "[" * 50_000 + "]" * 50_000 + ', "password": "x"}',
        '{"username": "root", "password": "\\ud800"}',
    ],
)
async def test_hostile_login_bodies_are_refused_before_any_hashing(base: str, body: str) -> None:
    async with client(base) as anyone:
        answer = await anyone.post(
            "/api/auth/login", content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_request"


async def test_usernames_are_case_insensitive_at_sign_in(base: str) -> None:
    async with client(base) as anyone:
        answer = await anyone.post(
            "/api/auth/login", json={"username": " Root ", "password": ADMIN_PASSWORD}
        )
    assert answer.status_code == 200
    assert answer.json()["username"] == ADMIN


async def test_passwords_never_reach_the_log(base: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "bob", password=PASSWORD)
        await admin.post("/api/users", json={"username": "eve", "password": "short"})
        key = await make_key(admin)
    async with client(base) as anyone:
        await anyone.post("/api/auth/login", json={"username": "bob", "password": "guess 12345"})
        await anyone.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (ADMIN_PASSWORD, PASSWORD, "guess 12345", key["key"]):
        assert secret not in logged


async def test_me_with_a_key_says_via_key(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        key = await make_key(admin)
    async with client(base, headers={"Authorization": f"Bearer {key['key']}"}) as keyed:
        me = await keyed.get("/api/me")
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["via"]) == (ADMIN, "key")


async def test_with_auth_off_everyone_is_the_local_owner(start_gateway: GatewayFactory) -> None:
    from support.signin import nowhere

    with start_gateway(auth="off", rag_urls=[nowhere()]) as url:
        async with client(url) as anyone:
            me = await anyone.get("/api/me", headers={"X-Ragis-Workspace": "team"})
            keys = await anyone.get("/api/keys")
            login = await anyone.post("/api/auth/login", json={"username": "a", "password": "b"})
            health = await anyone.get("/api/health")
    assert me.status_code == 200
    assert me.json() == {
        "username": "local",
        "role": "admin",
        "auth": "off",
        "via": "off",
        "workspace": "team",
        "workspaces": [{"name": "team", "role": "owner", "personal": False}],
    }
    for answer in (keys, login):
        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "auth_off"
    assert "gateway" in health.json()
