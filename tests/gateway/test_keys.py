"""API keys through the real gateway: made (shown once), listed, used, revoked (the next
request fails), bounded to a workspace, and another's key is none of one's business."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    make_key,
    make_user,
    signed_in,
    with_key,
)


@pytest.fixture
def base(start_gateway: Any) -> Iterator[str]:
    with auth_gateway(start_gateway) as url:
        yield url


async def test_a_key_is_shown_once_and_listed_without_it(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        made = await make_key(admin, "laptop")
        listed = (await admin.get("/api/keys")).json()["keys"]
    assert made["key"].startswith("rgs_")
    assert made["prefix"] == made["key"][:8]
    assert (made["name"], made["workspace"]) == ("laptop", None)
    assert listed == [
        {
            "id": made["id"],
            "name": "laptop",
            "workspace": None,
            "created": made["created"],
            "prefix": made["prefix"],
            "last_used": None,
        }
    ]


async def test_a_revoked_key_fails_on_its_next_request(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        made = await make_key(admin)
        async with with_key(base, made["key"]) as keyed:
            assert (await keyed.get("/api/me")).status_code == 200
            revoked = await admin.delete(f"/api/keys/{made['id']}")
            assert revoked.status_code == 200
            assert revoked.json() == {"revoked": True, "id": made["id"]}
            after = await keyed.get("/api/me")
        assert after.status_code == 401
        assert after.json()["error"]["code"] == "unauthenticated"
        assert (await admin.get("/api/keys")).json() == {"keys": []}
        assert (await admin.delete(f"/api/keys/{made['id']}")).status_code == 404


async def test_a_key_acts_as_its_user_and_may_make_keys(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        made = await make_key(admin)
    async with with_key(base, made["key"]) as keyed:
        second = await keyed.post("/api/keys", json={"name": "from a key"})
        assert second.status_code == 201
        listed = (await keyed.get("/api/keys")).json()["keys"]
    assert [k["name"] for k in listed] == ["k", "from a key"]
    assert listed[0]["last_used"] is not None


async def test_a_workspace_key_works_only_in_its_workspace(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        made = await make_key(admin, workspace="default")
        assert made["workspace"] == "default"
    async with with_key(base, made["key"]) as keyed:
        me = (await keyed.get("/api/me")).json()
        assert me["workspace"] == "default"
        assert [w["name"] for w in me["workspaces"]] == ["default"]
        elsewhere = await keyed.get("/api/me", headers={"X-Ragis-Workspace": ADMIN})
        assert elsewhere.json()["workspace"] == ADMIN  # me says where it asked ...
        members = await keyed.get(f"/api/workspaces/{ADMIN}/members")
        assert members.status_code == 404  # ... but the key works only in `default`
        wider = await keyed.post("/api/keys", json={"name": "wider", "workspace": ADMIN})
        assert wider.status_code == 404
        narrow = await keyed.post("/api/keys", json={"name": "narrow"})
        assert narrow.json()["workspace"] == "default"


async def test_a_key_for_a_workspace_not_ones_own_is_not_found(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "bob")
    async with signed_in(base, "bob", PASSWORD) as bob:
        for workspace in (ADMIN, "nowhere", "default"):
            answer = await bob.post("/api/keys", json={"name": "k", "workspace": workspace})
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "not_found"


async def test_keys_are_revoked_by_their_owner_or_an_admin_only(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "bob")
        await make_user(admin, "carol")
        async with (
            signed_in(base, "bob", PASSWORD) as bob,
            signed_in(base, "carol", PASSWORD) as carol,
        ):
            bobs = await make_key(bob)
            assert (await carol.delete(f"/api/keys/{bobs['id']}")).status_code == 404
            assert (await carol.get("/api/keys")).json() == {"keys": []}
            assert (await admin.delete(f"/api/keys/{bobs['id']}")).status_code == 200
            assert (await bob.get("/api/keys")).json() == {"keys": []}


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "n" * 65}, {"name": "k", "workspace": "bad name"}, {"name": 5}],
)
async def test_bad_key_requests_are_refused(base: str, body: dict[str, Any]) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        answer = await admin.post("/api/keys", json=body)
        bad_id = await admin.delete("/api/keys/not-an-id!")
    assert answer.status_code == 422
    assert bad_id.status_code == 422
