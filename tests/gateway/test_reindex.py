"""`POST /api/collections/{name}/reindex` through the real gateway and RAG service: the owner's
NDJSON stream relayed line by line; 401 without sign-in, 403 for a viewer or an editor of the
workspace, 404 for another workspace's collection, 409 for a model the service cannot embed
with, 422 for hostile bodies and names."""

from __future__ import annotations

import json
from typing import Any

import httpx

from support.gateway_fixtures import GatewayFactory
from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    client,
    make_user,
    signed_in,
    team_with_viewer,
)

NOTE = b"The orchard memo: the pear trees are pruned in February, the apple trees in March.\n"
STREAM = {"Accept": "application/x-ndjson"}


async def upload(c: httpx.AsyncClient, data: bytes = NOTE) -> None:
    made = await c.post(
        "/api/documents/upload",
        files=[("file", ("memo.txt", data))],
        data={"collection": "notes"},
    )
    assert made.status_code == 200, made.text


async def reindex(c: httpx.AsyncClient, name: str = "notes", **body: Any) -> httpx.Response:
    return await c.post(f"/api/collections/{name}/reindex", json=body, headers=STREAM)


def lines(response: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response.text.splitlines() if line]


async def test_only_an_owner_may_reindex_and_gets_the_stream(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            await team_with_viewer(admin)
            await make_user(admin, "carol")
            added = await admin.post(
                "/api/workspaces/team/members", json={"username": "carol", "role": "editor"}
            )
            assert added.status_code in (200, 201), added.text
            admin.headers.update({"X-Ragis-Workspace": "team"})
            await upload(admin)
            # The admin owns every workspace: the RAG service's lines come through.
            answer = await reindex(admin, force=True)
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"].startswith("application/x-ndjson")
            got = lines(answer)
            assert got[-2] == {"type": "progress", "done": 1, "total": 1}
            assert got[-1]["type"] == "result"
            assert got[-1]["embedded"] == 1
            assert got[-1]["unchanged"] is False
            nothing = lines(await reindex(admin))
            assert [g["type"] for g in nothing] == ["result"]
            assert nothing[0]["unchanged"] is True
        async with client(base) as anonymous:
            refused = await reindex(anonymous, force=True)
            assert refused.status_code == 401
            assert refused.json()["error"]["code"] == "unauthenticated"
        async with (
            signed_in(base, "bob", PASSWORD) as bob,
            signed_in(base, "carol", PASSWORD) as carol,
            signed_in(base, "alice", PASSWORD) as alice,
        ):
            for member in (bob, carol):
                member.headers.update({"X-Ragis-Workspace": "team"})
                refused = await reindex(member, force=True)
                assert refused.status_code == 403, refused.text
                assert refused.json()["error"]["code"] == "forbidden"
            # Alice owns her own workspace, which has no collection `notes`: 404, not the team's.
            missing = await reindex(alice, force=True)
            assert missing.status_code == 404
            assert missing.json()["error"]["code"] == "not_found"
            await upload(alice)
            unavailable = await reindex(alice, model="ollama:nomic-embed-text")
            assert unavailable.status_code == 409
            assert unavailable.json()["error"]["code"] == "model_unavailable"
            for body in (
                {"model": "openai:"},
                {"model": "x" * 300},
                {"model": "openai:a\u0000b"},
                {"model": "openai:\u202ex"},
                {"restart": "1"},
                {"other": True},
            ):
                hostile = await reindex(alice, **body)
                assert hostile.status_code == 422, body
                assert set(hostile.json()["error"]) == {"code", "message"}
            for name in ("a%3Ab", "x" * 65, "%7Bc%7D"):
                hostile = await reindex(alice, name, force=True)
                assert hostile.status_code == 422, name
