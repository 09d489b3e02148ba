"""`PATCH /api/documents/{id}?collection=` with `tags` through the real gateway and RAG service:
a search by the new tag finds the document at once and by the old one not; audited as
`document_tags_changed`; a viewer may not, another workspace's document is a 404; hostile bodies
are refused with 422 and change nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from support.gateway_fixtures import GatewayFactory
from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    signed_in,
    team_with_viewer,
)

NOTE = b"The orchard memo: the pear trees are pruned in February, the apple trees in March.\n"


async def upload(c: httpx.AsyncClient, data: bytes = NOTE, tags: str = "draft") -> str:
    made = await c.post(
        "/api/documents/upload",
        files=[("file", ("memo.txt", data))],
        data={"collection": "notes", "tags": tags},
    )
    assert made.status_code == 200, made.text
    return str(made.json()["results"][0]["document_id"])


async def found(c: httpx.AsyncClient, tag: str) -> set[str]:
    answer = await c.post(
        "/api/search",
        json={"collection": "notes", "query": "orchard pruning", "filter": {"tags": [tag]}},
    )
    assert answer.status_code == 200, answer.text
    return {p["doc_id"] for p in answer.json()["passages"]}


async def patch(c: httpx.AsyncClient, doc: str, body: Any) -> httpx.Response:
    return await c.patch(f"/api/documents/{doc}", params={"collection": "notes"}, json=body)


async def test_a_search_finds_the_new_tags_at_once_and_the_old_one_no_more(
    gateway: httpx.AsyncClient,
) -> None:
    doc = await upload(gateway)
    assert await found(gateway, "draft") == {doc}
    changed = await patch(gateway, doc, {"tags": ["final", "orchard"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["final", "orchard"]
    assert await found(gateway, "final") == {doc}
    assert await found(gateway, "orchard") == {doc}
    assert await found(gateway, "draft") == set()
    listed = await gateway.get("/api/documents", params={"collection": "notes"})
    assert listed.json()["documents"][0]["tags"] == ["final", "orchard"]
    renamed = await patch(gateway, doc, {"source": "notes/memo.txt"})
    assert (renamed.json()["source"], renamed.json()["tags"]) == ("notes/memo.txt",
                                                                  ["final", "orchard"])  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"tags": None},
        {"tags": [f"t{i}" for i in range(33)]},
        {"tags": ["x" * 65]},
        {"tags": ["bell\x07"]},
        {"tags": ["line\nbreak"]},
        {"tags": ["back\\slash"]},
        {"tags": ["  "]},
        {"tags": [["nested"]]},
        {"tags": [{"a": {"b": {"c": ["d"]}}}]},
        {"tags": "a,b"},
        {"tags": [True]},
        {"tags": ["ok"], "filter": "x"},
        {"tags": ["ok"] * 10_000},
    ],
)
async def test_hostile_bodies_are_refused_and_change_nothing(
    gateway: httpx.AsyncClient, body: Any
) -> None:
    doc = await upload(gateway)
    refused = await patch(gateway, doc, body)
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["error"]) == {"code", "message"}
    record = await gateway.get(f"/api/documents/{doc}", params={"collection": "notes"})
    assert record.json()["tags"] == ["draft"]


async def test_a_body_that_is_not_json_is_refused(gateway: httpx.AsyncClient) -> None:
    doc = await upload(gateway)
    for content in (b"", b"tags=a", b'{"tags": ["a"]', b"\xff\xfe"):
        refused = await gateway.patch(
            f"/api/documents/{doc}", params={"collection": "notes"}, content=content,
            headers={"content-type": "application/json"},
        )  # fmt: skip
        assert refused.status_code == 422, (content, refused.text)


async def test_tags_are_audited_viewers_refused_and_other_workspaces_not_found(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            await team_with_viewer(admin)
            admin.headers.update({"X-Ragis-Workspace": "team"})
            shared = await upload(admin)
        async with (
            signed_in(base, "alice", PASSWORD) as alice,
            signed_in(base, "bob", PASSWORD) as bob,
        ):
            mine = await upload(alice)
            assert (await patch(alice, mine, {"tags": ["kept"]})).status_code == 200
            # Bob's own workspace has no document of Alice's.
            assert (await patch(bob, mine, {"tags": ["stolen"]})).status_code == 404
            # In the team, Bob is a viewer: he reads, he does not edit.
            bob.headers.update({"X-Ragis-Workspace": "team"})
            assert (await patch(bob, shared, {"tags": ["x"]})).status_code == 403
            record = await bob.get(f"/api/documents/{shared}", params={"collection": "notes"})
            assert record.json()["tags"] == ["draft"]
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            events = (await admin.get("/api/audit", params={"limit": 5})).json()["events"]
    tagged = [e for e in events if e["action"] == "document_tags_changed"]
    assert [(e["actor"], e["target"]) for e in tagged] == [("alice", f"notes/{mine}")]
