"""Workspaces and members through the real gateway: made, listed, members managed by owners
and admins, 404 for a workspace that is not one's own, 403 without the role; viewers, editors
and owners on the data routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support.signin import ADMIN, ADMIN_PASSWORD, PASSWORD, auth_gateway, make_user, signed_in


@pytest.fixture
def base(start_gateway: Any) -> Iterator[str]:
    with auth_gateway(start_gateway) as url:
        yield url


async def _people(admin: httpx.AsyncClient, *names: str) -> None:
    for name in names:
        await make_user(admin, name)


async def test_a_workspace_is_made_and_listed_with_ones_role(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await _people(admin, "bob")
        async with signed_in(base, "bob", PASSWORD) as bob:
            made = await bob.post("/api/workspaces", json={"name": "team"})
            assert made.status_code == 201
            body = made.json()
            assert (body["name"], body["role"], body["personal"]) == ("team", "owner", False)
            mine = (await bob.get("/api/workspaces")).json()["workspaces"]
            assert [(w["name"], w["role"], w["personal"]) for w in mine] == [
                ("bob", "owner", True),
                ("team", "owner", False),
            ]
        every = (await admin.get("/api/workspaces")).json()["workspaces"]
    assert [(w["name"], w["role"]) for w in every] == [
        ("bob", None),
        ("default", "owner"),
        (ADMIN, "owner"),
        ("team", None),
    ]


async def test_a_taken_or_bad_workspace_name_is_refused(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        assert (await admin.post("/api/workspaces", json={"name": ADMIN})).status_code == 409
        assert (await admin.post("/api/workspaces", json={"name": "default"})).status_code == 409
        assert (await admin.post("/api/workspaces", json={"name": "a b"})).status_code == 422
        assert (await admin.post("/api/workspaces", json={"name": "x" * 65})).status_code == 422


async def test_owners_manage_members_and_others_cannot(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await _people(admin, "bob", "carol", "dave")
        async with (
            signed_in(base, "bob", PASSWORD) as bob,
            signed_in(base, "carol", PASSWORD) as carol,
            signed_in(base, "dave", PASSWORD) as dave,
        ):
            await bob.post("/api/workspaces", json={"name": "team"})
            added = await bob.post(
                "/api/workspaces/team/members", json={"username": "carol", "role": "editor"}
            )
            assert added.status_code == 200
            assert added.json() == {"workspace": "team", "username": "carol", "role": "editor"}
            members = (await carol.get("/api/workspaces/team/members")).json()
            assert members == {
                "workspace": "team",
                "members": [
                    {"username": "bob", "role": "owner"},
                    {"username": "carol", "role": "editor"},
                ],
            }
            # An editor may not manage members: 403. A stranger does not see it: 404.
            by_editor = await carol.post(
                "/api/workspaces/team/members", json={"username": "dave", "role": "viewer"}
            )
            assert by_editor.status_code == 403
            for answer in (
                await dave.get("/api/workspaces/team/members"),
                await dave.post(
                    "/api/workspaces/team/members", json={"username": "dave", "role": "owner"}
                ),
                await dave.delete("/api/workspaces/team/members/carol"),
                await dave.get("/api/workspaces/nowhere/members"),
            ):
                assert answer.status_code == 404, answer.text
            # The last owner stays; an admin manages any workspace.
            last = await bob.delete("/api/workspaces/team/members/bob")
            assert last.status_code == 409
            removed = await admin.delete("/api/workspaces/team/members/carol")
            assert removed.json() == {"removed": True, "workspace": "team", "username": "carol"}
            assert (await carol.get("/api/workspaces/team/members")).status_code == 404


async def test_an_admin_is_not_a_member_of_others_workspaces_data(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await _people(admin, "bob")
        answer = await admin.get("/api/documents", headers={"X-Ragis-Workspace": "bob"})
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"


async def test_a_malformed_workspace_header_is_refused(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        answer = await admin.get("/api/documents", headers={"X-Ragis-Workspace": "../x"})
    assert answer.status_code == 422


async def test_viewers_ask_editors_change_and_strangers_see_nothing(
    start_gateway: Any, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            await _people(admin, "ed", "vi", "st")
            await admin.post("/api/workspaces", json={"name": "team"})
            for name, role in (("ed", "editor"), ("vi", "viewer")):
                await admin.post(
                    "/api/workspaces/team/members", json={"username": name, "role": role}
                )
        team = {"X-Ragis-Workspace": "team"}
        async with (
            signed_in(base, "ed", PASSWORD) as ed,
            signed_in(base, "vi", PASSWORD) as vi,
            signed_in(base, "st", PASSWORD) as st,
        ):
            for c in (ed, vi, st):
                c.headers.update(team)
            upload = {"file": ("notes.txt", b"The team meets on Tuesdays.", "text/plain")}
            by_viewer = await vi.post("/api/documents/upload", files=upload)
            assert by_viewer.status_code == 403, by_viewer.text
            by_editor = await ed.post("/api/documents/upload", files=upload)
            assert by_editor.status_code == 200, by_editor.text
            doc_id = by_editor.json()["results"][0]["document_id"]

            listed = await vi.get("/api/documents")
            assert [d["id"] for d in listed.json()["documents"]] == [doc_id]
            asked = await vi.post("/api/chat/stream", json={"message": "When does the team meet?"})
            assert asked.status_code == 200
            assert (await vi.delete(f"/api/documents/{doc_id}")).status_code == 403
            assert (await vi.delete("/api/collections/default")).status_code == 403

            for answer in (
                await st.get("/api/documents"),
                await st.post("/api/chat/stream", json={"message": "When?"}),
                await st.delete(f"/api/documents/{doc_id}"),
                await st.post("/api/documents/upload", files=upload),
            ):
                assert answer.status_code == 404, answer.text

            assert (await ed.delete(f"/api/documents/{doc_id}")).status_code == 200
