"""Gateways with sign-in on, and clients that sign in: for the accounts API's tests.

with auth_gateway(start_gateway, rag_urls=[url]) as base:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await admin.post("/api/users", json={...})
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from typing import Any

import httpx

from support.net import free_port

ADMIN = "root"
ADMIN_PASSWORD = "root password 1"
PASSWORD = "member password 1"


def nowhere() -> str:
    """The URL of a RAG service that is not there (for tests that never reach it)."""
    return f"http://127.0.0.1:{free_port()}"


def auth_gateway(
    start_gateway: Callable[..., AbstractContextManager[str]], **overrides: Any
) -> AbstractContextManager[str]:
    """A gateway with RAGIS_AUTH=on and the first admin made from the settings."""
    options: dict[str, Any] = {
        "auth": "on",
        "admin_user": ADMIN,
        "admin_password": ADMIN_PASSWORD,
        "rag_urls": [nowhere()],
    }
    return start_gateway(**{**options, **overrides})


def client(base: str, **kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, timeout=30, **kwargs)


@asynccontextmanager
async def signed_in(base: str, username: str, password: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding the session cookie of `username`."""
    async with client(base) as signed:
        answer = await signed.post(
            "/api/auth/login", json={"username": username, "password": password}
        )
        assert answer.status_code == 200, answer.text
        yield signed


@asynccontextmanager
async def with_key(base: str, key: str, **headers: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client sending `Authorization: Bearer <key>` (and `headers`), no cookie."""
    async with client(base, headers={"Authorization": f"Bearer {key}", **headers}) as keyed:
        yield keyed


async def make_user(
    admin: httpx.AsyncClient, name: str, role: str = "member", password: str = PASSWORD
) -> None:
    answer = await admin.post(
        "/api/users", json={"username": name, "password": password, "role": role}
    )
    assert answer.status_code == 201, answer.text


async def make_key(signed: httpx.AsyncClient, name: str = "k", **body: Any) -> dict[str, Any]:
    answer = await signed.post("/api/keys", json={"name": name, **body})
    assert answer.status_code == 201, answer.text
    made: dict[str, Any] = answer.json()
    return made


async def team_with_viewer(admin: httpx.AsyncClient, viewer: str = "bob") -> None:
    """As the admin: users `alice` and `viewer`, and a workspace `team` where `viewer` only
    reads (alice is not in it): the cast of the workspace-scope tests."""
    await make_user(admin, "alice")
    await make_user(admin, viewer)
    made = await admin.post("/api/workspaces", json={"name": "team"})
    assert made.status_code in (200, 201), made.text
    added = await admin.post(
        "/api/workspaces/team/members", json={"username": viewer, "role": "viewer"}
    )
    assert added.status_code in (200, 201), added.text
