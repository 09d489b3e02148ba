"""The audit through the real gateway: admins only, newest first, every account action."""

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
)


@pytest.fixture
def base(start_gateway: Any) -> Iterator[str]:
    with auth_gateway(start_gateway, trusted_proxies=["127.0.0.1"]) as url:
        yield url


async def test_account_actions_are_audited_newest_first(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "bob")
        key = await make_key(admin)
        await admin.delete(f"/api/keys/{key['id']}")
        await admin.post("/api/workspaces", json={"name": "team"})
        await admin.post("/api/workspaces/team/members", json={"username": "bob", "role": "viewer"})
        await admin.delete("/api/workspaces/team/members/bob")
        async with client(base) as anyone:
            await anyone.post(
                "/api/auth/login",
                json={"username": "bob", "password": "wrong password"},
                headers={"X-Forwarded-For": "198.51.100.4"},
            )
        await admin.post("/api/auth/logout")
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        events = (await admin.get("/api/audit")).json()["events"]
    actions = [(e["action"], e["actor"], e["target"], e["workspace"], e["ok"]) for e in events]
    assert actions == [
        ("login", ADMIN, ADMIN, None, True),
        ("logout", ADMIN, ADMIN, None, True),
        ("login_failed", "bob", "bob", None, False),
        ("member_removed", ADMIN, "bob", "team", True),
        ("member_set", ADMIN, "bob:viewer", "team", True),
        ("workspace_created", ADMIN, "team", "team", True),
        ("key_revoked", ADMIN, f"{ADMIN}/{key['id']}", None, True),
        ("key_created", ADMIN, key["id"], None, True),
        ("user_created", ADMIN, "bob", None, True),
        ("login", ADMIN, ADMIN, None, True),
        ("user_created", "ragis", ADMIN, None, True),
    ]
    assert events[2]["address"] == "198.51.100.4"
    assert all(e["time"] > 0 and e["id"] for e in events)


async def test_the_audit_is_read_a_page_at_a_time(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        for i in range(4):
            await admin.post("/api/workspaces", json={"name": f"w{i}"})
        first = (await admin.get("/api/audit", params={"limit": 2})).json()["events"]
        rest = await admin.get("/api/audit", params={"limit": 2, "before": first[-1]["id"]})
    assert [e["target"] for e in first] == ["w3", "w2"]
    assert [e["target"] for e in rest.json()["events"]] == ["w1", "w0"]


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"limit": "x"}, {"before": "+"}, {"before": "1-x"}]
)
async def test_bad_audit_queries_are_refused(base: str, params: dict[str, Any]) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        answer = await admin.get("/api/audit", params=params)
    assert answer.status_code == 422


async def test_only_admins_read_the_audit(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "bob")
    async with signed_in(base, "bob", PASSWORD) as bob:
        assert (await bob.get("/api/audit")).status_code == 403


async def test_document_and_collection_deletions_are_audited(
    start_gateway: Any, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            upload = await admin.post(
                "/api/documents/upload",
                data={"collection": "notes"},
                files={"file": ("a.txt", b"Saturn has rings of ice.", "text/plain")},
            )
            assert upload.status_code == 200, upload.text
            doc_id = upload.json()["results"][0]["document_id"]
            deleted = await admin.delete(f"/api/documents/{doc_id}", params={"collection": "notes"})
            assert deleted.status_code == 200, deleted.text
            assert (await admin.delete("/api/collections/notes")).status_code == 200
            events = (await admin.get("/api/audit", params={"limit": 2})).json()["events"]
    assert [(e["action"], e["actor"], e["workspace"]) for e in events] == [
        ("collection_deleted", ADMIN, ADMIN),
        ("document_deleted", ADMIN, ADMIN),
    ]
    assert events[0]["target"].endswith("notes")
    assert doc_id in events[1]["target"]
