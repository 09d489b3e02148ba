"""`POST /api/search` and `GET /api/collections/{name}/documents/{doc_id}/passages` through the
real gateway and RAG service: results, sign-in, roles, workspaces, refusals passed through."""

from __future__ import annotations

import json
from typing import Any

import httpx

from support.gateway_fixtures import GatewayFactory
from support.signin import ADMIN, ADMIN_PASSWORD, PASSWORD, auth_gateway, make_user, signed_in

NOTE = (
    "pump.txt",
    b"The pump needs a new gasket every year.\n\nDrain the tank before the first frost.\n",
)
SECRET = ("bluebird.txt", b"The launch code of project Bluebird is 7419-ZEBRA-QUARTZ.\n")


async def upload(client: httpx.AsyncClient, file: tuple[str, bytes], **form: str) -> str:
    response = await client.post("/api/documents/upload", files=[("file", file)], data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["document_id"])


async def test_a_search_and_a_documents_passages_through_the_gateway(
    gateway: httpx.AsyncClient,
) -> None:
    doc = await upload(gateway, NOTE)
    response = await gateway.post(
        "/api/search", json={"query": "How often is the gasket replaced?", "top_k": 3}
    )
    assert response.status_code == 200, response.text
    found = response.json()
    assert (found["collection"], found["retrieval"], found["partial"]) == (
        "default",
        "hybrid",
        False,
    )
    best = found["passages"][0]
    assert (best["n"], best["doc_id"], best["filename"], best["page"]) == (1, doc, "pump.txt", None)
    assert "gasket" in best["text"]
    assert best["score"] == found["best_score"]
    assert best["legs"]
    filtered = await gateway.post(
        "/api/search", json={"query": "gasket", "filter": {"doc_ids": ["nothing-of-that-id"]}}
    )
    assert filtered.json()["passages"] == []

    read = await gateway.get(f"/api/collections/default/documents/{doc}/passages")
    assert read.status_code == 200, read.text
    body = read.json()
    assert (body["collection"], body["document"]["id"], body["start"]) == ("default", doc, 0)
    assert body["total"] == len(body["passages"]) >= 1
    assert [p["position"] for p in body["passages"]] == list(range(body["total"]))
    assert "gasket" in body["passages"][0]["text"]
    # The passage a search cites is the one read at its position.
    cited = body["passages"][best["position"]]
    assert cited["text"] == best["text"]
    window = await gateway.get(
        f"/api/collections/default/documents/{doc}/passages", params={"start": 99, "limit": 5}
    )
    assert (window.json()["start"], window.json()["passages"]) == (99, [])


async def test_refusals_of_the_rag_service_are_passed_through(gateway: httpx.AsyncClient) -> None:
    doc = await upload(gateway, NOTE)
    cases: list[tuple[object, int, str]] = [
        ({"query": "x", "collection": "nope"}, 404, "not_found"),
        ({"query": "y" * 4_001}, 413, "too_large"),  # RAGIS_MAX_MESSAGE_CHARS of the RAG service
        ({"query": "   "}, 422, "invalid_input"),
        ({"query": "x", "retrieval": "psychic"}, 422, "invalid_request"),
        ({"query": "x", "top_k": "5"}, 422, "invalid_request"),
        ({"query": "\ud800"}, 422, "invalid_request"),
        ({"query": {"nested": ["x"]}}, 422, "invalid_request"),
        ({"query": "x", "forged": True}, 422, "invalid_request"),
    ]
    for body, status, code in cases:
        response = await gateway.post(
            "/api/search", content=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), body
    base = "/api/collections"
    for url, status in (
        (f"{base}/nope/documents/{doc}/passages", 404),
        (f"{base}/default/documents/nope/passages", 404),
        (f"{base}/default/documents/{doc}/passages?limit=0", 422),
        (f"{base}/default/documents/{doc}/passages?limit=201", 422),
        (f'{base}/default/documents/{doc}/passages?limit="5"', 422),
        (f"{base}/default/documents/{doc}/passages?start=-1", 422),
        (f"{base}/bad%20name/documents/{doc}/passages", 422),
    ):
        response = await gateway.get(url)
        assert response.status_code == status, (url, response.text)
        assert response.json()["error"]["code"] in ("not_found", "invalid_request")


async def test_both_need_a_signed_in_caller(start_gateway: GatewayFactory, rag_url: str) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as anonymous:
            for response in (
                await anonymous.post("/api/search", json={"query": "gasket"}),
                await anonymous.get("/api/collections/default/documents/abc/passages"),
            ):
                assert response.status_code == 401, response.text
                assert response.json()["error"]["code"] == "unauthenticated"
        bad_key = {"Authorization": "Bearer rgs_" + "x" * 40}
        async with httpx.AsyncClient(base_url=base, timeout=30, headers=bad_key) as forged:
            assert (await forged.post("/api/search", json={"query": "x"})).status_code == 401


async def test_a_viewer_may_search_and_read_a_stranger_sees_nothing(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            for name in ("ed", "vi", "st"):
                await make_user(admin, name)
            await admin.post("/api/workspaces", json={"name": "team"})
            for name, role in (("ed", "editor"), ("vi", "viewer")):
                added = await admin.post(
                    "/api/workspaces/team/members", json={"username": name, "role": role}
                )
                assert added.status_code in (200, 201), added.text
        team = {"X-Ragis-Workspace": "team"}
        async with (
            signed_in(base, "ed", PASSWORD) as ed,
            signed_in(base, "vi", PASSWORD) as vi,
            signed_in(base, "st", PASSWORD) as st,
        ):
            for c in (ed, vi, st):
                c.headers.update(team)
            doc = await upload(ed, NOTE)
            found = await vi.post("/api/search", json={"query": "gasket"})
            assert found.status_code == 200, found.text
            assert found.json()["passages"][0]["doc_id"] == doc
            read = await vi.get(f"/api/collections/default/documents/{doc}/passages")
            assert read.status_code == 200, read.text
            for answer in (
                await st.post("/api/search", json={"query": "gasket"}),
                await st.get(f"/api/collections/default/documents/{doc}/passages"),
            ):
                assert answer.status_code == 404, answer.text


async def test_another_workspaces_collection_is_not_found(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            await make_user(admin, "alice")
            await make_user(admin, "bob")
        async with (
            signed_in(base, "alice", PASSWORD) as alice,
            signed_in(base, "bob", PASSWORD) as bob,
        ):
            vault_doc = await upload(alice, SECRET, collection="vault")
            mine = await alice.post(
                "/api/search", json={"query": "launch code", "collection": "vault"}
            )
            assert mine.status_code == 200
            assert "ZEBRA" in mine.text
            await upload(bob, NOTE)  # Bob's own default collection
            answers: list[httpx.Response] = [
                await bob.post("/api/search", json={"query": "launch code", "collection": "vault"}),
                await bob.get(f"/api/collections/vault/documents/{vault_doc}/passages"),
                await bob.get(f"/api/collections/default/documents/{vault_doc}/passages"),
                # Naming Alice's workspace: not his.
                await bob.post(
                    "/api/search",
                    json={"query": "launch code", "collection": "vault"},
                    headers={"X-Ragis-Workspace": "alice"},
                ),
            ]
            for answer in answers:
                assert answer.status_code == 404, answer.text
                assert "ZEBRA" not in answer.text
            theirs = await bob.post("/api/search", json={"query": "launch code"})
            found: dict[str, Any] = theirs.json()
            assert [p["filename"] for p in found["passages"]] == ["pump.txt"] * len(
                found["passages"]
            )
            assert "ZEBRA" not in theirs.text
