"""Collections through the gateway: made, listed, their grounded threshold changed (by editors
only, in their workspace, with a finite number from 0 to 1), deleted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.signin import ADMIN, ADMIN_PASSWORD, PASSWORD, auth_gateway, make_user, signed_in


def raw(body: str) -> dict[str, Any]:
    return {"content": body.encode(), "headers": {"content-type": "application/json"}}


async def test_create_list_and_delete_a_collection(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/collections", json={"name": "papers"})
    assert response.status_code == 200
    created = response.json()
    assert created["name"] == "papers"
    assert created["documents"] == 0
    assert created["dim"] == 384

    names = [c["name"] for c in (await gateway.get("/api/collections")).json()["collections"]]
    assert names == ["papers"]

    response = await gateway.delete("/api/collections/papers")
    assert response.status_code == 200
    assert response.json()["deleted"] is True
    assert (await gateway.get("/api/collections")).json() == {"collections": []}


async def test_collection_errors_pass_through(gateway: httpx.AsyncClient) -> None:
    response = await gateway.delete("/api/collections/ghost")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "There is no collection 'ghost': upload a document to create it.",
    }
    response = await gateway.post("/api/collections", json={"name": "no spaces"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    response = await gateway.post("/api/collections", json={})
    assert response.status_code == 422


async def test_an_editor_sets_and_clears_a_collections_threshold(
    gateway: httpx.AsyncClient,
) -> None:
    created = (await gateway.post("/api/collections", json={"name": "papers"})).json()
    assert created["min_score"] is None
    assert created["keyword_index"] == "ready"
    default = created["effective_min_score"]
    response = await gateway.patch("/api/collections/papers", json={"min_score": 0.62})
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["name"], patched["min_score"], patched["effective_min_score"]) == (
        "papers", 0.62, 0.62
    )  # fmt: skip
    listed = (await gateway.get("/api/collections")).json()["collections"]
    assert listed == [patched]
    cleared = (await gateway.patch("/api/collections/papers", json={"min_score": None})).json()
    assert (cleared["min_score"], cleared["effective_min_score"]) == (None, default)


async def test_the_threshold_of_an_unknown_collection_is_not_found(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.patch("/api/collections/ghost", json={"min_score": 0.5})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    response = await gateway.patch("/api/collections/no%20spaces", json={"min_score": 0.5})
    assert response.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        '{"min_score": NaN}',
        '{"min_score": Infinity}',
        '{"min_score": -Infinity}',
        '{"min_score": 1e999}',
        '{"min_score": "0.5"}',
        '{"min_score": true}',
        '{"min_score": 2}',
        '{"min_score": -1}',
        '{"min_score": 0.5, "extra": 1}',
        '{"min_score": [0.5]}',
        '{"min_score": {"a": {"b": [[[0.5]]]}}}',
        '{"min_score": 0.5, "nested": {"junk": [1, {"x": null}]}}',
        '{"min_score": 0.5',
        "{}",
        "null",
        '"0.5"',
        "",
    ],
)
async def test_a_threshold_must_be_a_number_from_0_to_1(
    gateway: httpx.AsyncClient, body: str
) -> None:
    await gateway.post("/api/collections", json={"name": "papers"})
    response = await gateway.patch("/api/collections/papers", **raw(body))
    assert response.status_code == 422, (body, response.text)
    assert response.json()["error"]["code"] == "invalid_request"
    listed = (await gateway.get("/api/collections")).json()["collections"]
    assert (listed[0]["min_score"], listed[0]["version"]) == (None, 0)


async def test_a_huge_threshold_body_is_refused_before_it_is_read(
    gateway: httpx.AsyncClient,
) -> None:
    await gateway.post("/api/collections", json={"name": "papers"})
    padding = " " * (2 * 1024 * 1024)
    response = await gateway.patch(
        "/api/collections/papers", **raw(f'{{"min_score": 0.5{padding}}}')
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    digits = await gateway.patch(
        "/api/collections/papers", **raw('{"min_score": 0.' + "5" * 5000 + "}")
    )
    assert digits.status_code == 200, digits.text  # a long number is still one number
    assert digits.json()["min_score"] == pytest.approx(5 / 9)


async def test_editors_change_thresholds_viewers_cannot_and_strangers_see_nothing(
    start_gateway: Any, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            for name in ("ed", "vi", "st"):
                await make_user(admin, name)
            await admin.post("/api/workspaces", json={"name": "team"})
            for name, role in (("ed", "editor"), ("vi", "viewer")):
                await admin.post(
                    "/api/workspaces/team/members", json={"username": name, "role": role}
                )
            async with (
                signed_in(base, "ed", PASSWORD) as ed,
                signed_in(base, "vi", PASSWORD) as vi,
                signed_in(base, "st", PASSWORD) as st,
            ):
                for c in (ed, vi):
                    c.headers["X-Ragis-Workspace"] = "team"
                assert (
                    await ed.post("/api/collections", json={"name": "notes"})
                ).status_code == 200
                # The stranger's own (personal) workspace has a collection of the same name.
                assert (
                    await st.post("/api/collections", json={"name": "notes"})
                ).status_code == 200
                threshold = {"min_score": 0.7}

                by_viewer = await vi.patch("/api/collections/notes", json=threshold)
                assert by_viewer.status_code == 403, by_viewer.text
                in_team = await st.patch(
                    "/api/collections/notes", json=threshold, headers={"X-Ragis-Workspace": "team"}
                )
                assert in_team.status_code == 404, in_team.text
                by_editor = await ed.patch("/api/collections/notes", json=threshold)
                assert by_editor.status_code == 200, by_editor.text
                assert by_editor.json()["min_score"] == 0.7

                # Each workspace keeps its own: the stranger's `notes` did not change.
                own = (await st.get("/api/collections")).json()["collections"]
                assert [(c["name"], c["min_score"]) for c in own] == [("notes", None)]
                team = (await vi.get("/api/collections")).json()["collections"]
                assert [(c["name"], c["min_score"]) for c in team] == [("notes", 0.7)]
            events = (await admin.get("/api/audit", params={"limit": 1})).json()["events"]
    assert [(e["action"], e["actor"], e["workspace"], e["target"]) for e in events] == [
        ("collection_updated", "ed", "team", "notes")
    ]
