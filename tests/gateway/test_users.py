"""Users through the real gateway: admins only; made with a personal workspace; deleted with
their keys, sign-ins, memberships and their workspace's data."""

from __future__ import annotations

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
    with_key,
)


@pytest.fixture
def base(start_gateway: Any) -> Iterator[str]:
    with auth_gateway(start_gateway) as url:
        yield url


async def test_an_admin_makes_and_lists_users(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        made = await admin.post(
            "/api/users", json={"username": "bob", "password": PASSWORD, "role": "member"}
        )
        assert made.status_code == 201
        assert (made.json()["username"], made.json()["role"]) == ("bob", "member")
        listed = (await admin.get("/api/users")).json()["users"]
    assert [(u["username"], u["role"]) for u in listed] == [("bob", "member"), (ADMIN, "admin")]
    async with signed_in(base, "bob", PASSWORD) as bob:
        me = (await bob.get("/api/me")).json()
    assert me["workspaces"] == [{"name": "bob", "role": "owner", "personal": True}]


async def test_members_may_not_manage_users(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "bob")
    async with signed_in(base, "bob", PASSWORD) as bob:
        answers = [
            await bob.get("/api/users"),
            await bob.post("/api/users", json={"username": "eve", "password": PASSWORD}),
            await bob.delete(f"/api/users/{ADMIN}"),
            await bob.get("/api/audit"),
        ]
    for answer in answers:
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": ADMIN, "password": PASSWORD}, 409),
        ({"username": "default", "password": PASSWORD}, 422),
        ({"username": "Bob", "password": PASSWORD}, 422),
        ({"username": "bob", "password": "short"}, 422),
        ({"username": "bob", "password": "p" * 1025}, 422),
        ({"username": "bob", "password": PASSWORD, "role": "owner"}, 422),
        ({"username": "bob", "password": PASSWORD, "extra": True}, 422),
        ({"username": "b" * 10_000, "password": PASSWORD}, 422),
    ],
)
async def test_bad_or_taken_users_are_refused(base: str, body: dict[str, Any], status: int) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        answer = await admin.post("/api/users", json=body)
        assert answer.status_code == status, answer.text
        assert [u["username"] for u in (await admin.get("/api/users")).json()["users"]] == [ADMIN]


async def test_a_name_taken_by_a_workspace_is_a_conflict(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        assert (await admin.post("/api/workspaces", json={"name": "team"})).status_code == 201
        answer = await admin.post("/api/users", json={"username": "team", "password": PASSWORD})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "conflict"


async def test_an_admin_cannot_delete_themself_nor_the_last_admin(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        myself = await admin.delete(f"/api/users/{ADMIN}")
        ghost = await admin.delete("/api/users/ghost")
    assert myself.status_code == 409
    assert ghost.status_code == 404


async def test_deleting_a_user_ends_their_keys_and_sessions_and_data(
    start_gateway: Any, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            await make_user(admin, "bob")
            async with signed_in(base, "bob", PASSWORD) as bob:
                key = await make_key(bob)
                upload = await bob.post(
                    "/api/documents/upload",
                    files={"file": ("secret.txt", b"The vault code of bob is 7314.", "text/plain")},
                )
                assert upload.status_code == 200, upload.text
                deleted = await admin.delete("/api/users/bob")
                assert deleted.status_code == 200, deleted.text
                assert deleted.json() == {"deleted": True, "username": "bob"}
                assert (await bob.get("/api/me")).status_code == 401
            async with with_key(base, key["key"]) as keyed:
                assert (await keyed.get("/api/me")).status_code == 401
            async with client(base) as anyone:
                login = await anyone.post(
                    "/api/auth/login", json={"username": "bob", "password": PASSWORD}
                )
                assert login.status_code == 401
            # A new bob starts with an empty personal workspace.
            await make_user(admin, "bob")
            async with signed_in(base, "bob", PASSWORD) as new_bob:
                documents = await new_bob.get("/api/documents")
                assert documents.status_code == 200, documents.text
                assert documents.json()["documents"] == []
