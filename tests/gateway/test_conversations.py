"""Conversations through the gateway: a user's own in the request's workspace, with sign-in on
(a viewer keeps their own; nobody sees another's), and hostile input refused before the RAG
service sees it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from support.gateway_fixtures import GatewayFactory
from support.http import collect_events, read_events
from support.llm_servers import Gate, OpenAIServer, Reply
from support.signin import ADMIN, ADMIN_PASSWORD, PASSWORD, auth_gateway, make_user, signed_in

NOTE = b"The harbour office opens at seven; the ferry leaves at nine.\n"
TEAM = {"X-Ragis-Workspace": "team"}


async def upload(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/documents/upload", files=[("file", ("note.txt", NOTE))])
    assert answer.status_code == 200, answer.text


async def ask(client: httpx.AsyncClient, message: str, **extra: Any) -> str:
    """Ask; the session id of the answer."""
    events = await collect_events(client, "/api/chat/stream", {"message": message, **extra})
    assert events[-1].type == "done", events[-1]
    return str(events[0].data["session_id"])


async def titles(client: httpx.AsyncClient) -> list[str]:
    answer = await client.get("/api/sessions")
    assert answer.status_code == 200, answer.text
    return [c["title"] for c in answer.json()["conversations"]]


async def test_a_viewer_keeps_their_own_conversations_and_nobody_sees_another_s(
    start_gateway: GatewayFactory, rag_url: str, llm: OpenAIServer
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            await make_user(admin, "alice")
            await make_user(admin, "bob")
            await admin.post("/api/workspaces", json={"name": "team"})
            for name, role in (("alice", "editor"), ("bob", "viewer")):
                added = await admin.post(
                    "/api/workspaces/team/members", json={"username": name, "role": role}
                )
                assert added.status_code in (200, 201), added.text
            admin.headers.update(TEAM)
            await upload(admin)
        async with (
            signed_in(base, "alice", PASSWORD) as alice,
            signed_in(base, "bob", PASSWORD) as bob,
        ):
            alice.headers.update(TEAM)
            bob.headers.update(TEAM)
            sid = await ask(bob, "When does the ferry leave?")
            await ask(alice, "When does the office open?")
            # Each lists their own only.
            assert await titles(bob) == ["When does the ferry leave?"]
            assert await titles(alice) == ["When does the office open?"]
            # Bob's conversation is a 404 to Alice, whatever she tries.
            assert (await alice.get(f"/api/sessions/{sid}")).status_code == 404
            renamed = await alice.patch(f"/api/sessions/{sid}", json={"title": "mine"})
            assert renamed.status_code == 404
            assert renamed.json()["error"]["code"] == "not_found"
            cut = await alice.post(f"/api/sessions/{sid}/truncate", json={"keep": 0})
            assert cut.status_code == 404
            assert (await alice.delete(f"/api/sessions/{sid}")).status_code == 404
            # A viewer may rename, truncate and delete their own.
            renamed = await bob.patch(f"/api/sessions/{sid}", json={"title": "Ferry"})
            assert renamed.status_code == 200, renamed.text
            assert renamed.json()["title"] == "Ferry"
            cut = await bob.post(f"/api/sessions/{sid}/truncate", json={"keep": 0})
            assert cut.status_code == 200, cut.text
            assert cut.json()["messages"] == 0
            # Bob's personal workspace does not list what he said in the team's.
            async with signed_in(base, "bob", PASSWORD) as personal:
                assert await titles(personal) == []
            assert (await bob.delete(f"/api/sessions/{sid}")).status_code == 200
            assert await titles(bob) == []
            assert await titles(alice) == ["When does the office open?"]


async def test_signed_out_callers_cannot_list(start_gateway: GatewayFactory, rag_url: str) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as stranger:
            answer = await stranger.get("/api/sessions")
            assert answer.status_code == 401
            assert answer.json()["error"]["code"]
            answer = await stranger.patch("/api/sessions/abc", json={"title": "x"})
            assert answer.status_code == 401


async def test_list_rename_and_truncate_through_the_gateway(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await upload(gateway)
    sid = await ask(gateway, "When does the ferry leave?")
    listed = (await gateway.get("/api/sessions", params={"q": "FERRY", "limit": 5})).json()
    (conversation,) = listed["conversations"]
    assert conversation["session_id"] == sid
    assert conversation["collection"] == "default"
    assert conversation["messages"] == 2
    renamed = await gateway.patch(f"/api/sessions/{sid}", json={"title": "Ferry times"})
    assert renamed.json()["title"] == "Ferry times"
    cut = await gateway.post(f"/api/sessions/{sid}/truncate", json={"keep": 0})
    assert cut.json() == {**conversation, "title": "Ferry times", "messages": 0,
                          "ttl": cut.json()["ttl"]}  # fmt: skip
    llm.script(Reply(tokens=["At nine [1]."]))
    assert await ask(gateway, "Is the harbour office open on Sundays?", session_id=sid) == sid
    session = (await gateway.get(f"/api/sessions/{sid}")).json()
    assert [m["content"] for m in session["messages"]] == [
        "Is the harbour office open on Sundays?",
        "At nine [1].",
    ]
    assert session["messages"][1]["timings"]["total"] > 0


NESTED = '{"title": ' + "[" * 5000 + "]" * 5000 + "}"


HOSTILE: list[tuple[str, str, Any]] = [
    ("GET", "/api/sessions?limit=0", None),
    ("GET", "/api/sessions?limit=201", None),
    ("GET", "/api/sessions?limit=-1", None),
    ("GET", "/api/sessions?limit=1e9", None),
    ("GET", "/api/sessions?q=" + "x" * 5000, None),
    ("GET", "/api/sessions?collection=a%2Fb", None),
    ("PATCH", "/api/sessions/SID", {"title": "x" * 100_000}),
    ("PATCH", "/api/sessions/SID", {"title": "\x00\x01\x1b[31m"}),
    ("PATCH", "/api/sessions/SID", {"title": "\u0085\u009f"}),
    ("PATCH", "/api/sessions/SID", '{"title": "\\ud800"}'),
    ("PATCH", "/api/sessions/SID", {"title": None}),
    ("PATCH", "/api/sessions/SID", {"title": {"nested": {"deeper": "x"}}}),
    ("PATCH", "/api/sessions/SID", NESTED),
    ("POST", "/api/sessions/SID/truncate", {"keep": -1}),
    ("POST", "/api/sessions/SID/truncate", {"keep": 10**30}),
    ("POST", "/api/sessions/SID/truncate", {"keep": "2"}),
    ("POST", "/api/sessions/SID/truncate", {"keep": True}),
    ("POST", "/api/sessions/SID/truncate", {"keep": [1]}),
    ("POST", "/api/sessions/SID/truncate", {"keep": 1, "session_id": "other"}),
    ("PATCH", "/api/sessions/..%2F..%2Fcollections", {"title": "x"}),
    ("PATCH", "/api/sessions/a:b", {"title": "x"}),
    ("PATCH", "/api/sessions/%7Bs%7D", {"title": "x"}),
    ("POST", "/api/sessions/" + "x" * 129 + "/truncate", {"keep": 0}),
]


async def test_hostile_input_is_refused_and_changes_nothing(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await upload(gateway)
    sid = await ask(gateway, "When does the ferry leave?")
    for method, template, body in HOSTILE:
        path = template.replace("SID", sid)
        if isinstance(body, str):
            answer = await gateway.request(
                method, path, content=body, headers={"Content-Type": "application/json"}
            )
        else:
            answer = await gateway.request(method, path, json=body)
        assert answer.status_code in (404, 413, 422), (method, path[:80], answer.text)
        assert "error" in answer.json()
        assert "Traceback" not in answer.text
    (conversation,) = (await gateway.get("/api/sessions")).json()["conversations"]
    assert (conversation["title"], conversation["messages"]) == ("When does the ferry leave?", 2)


async def test_forged_session_ids_are_404_not_someone_else_s(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await upload(gateway)
    await ask(gateway, "When does the ferry leave?")
    for forged in ("never-made", "0" * 32, "a.b-c_d"):
        assert (await gateway.get(f"/api/sessions/{forged}")).status_code == 404
        renamed = await gateway.patch(f"/api/sessions/{forged}", json={"title": "x"})
        assert renamed.status_code == 404
        cut = await gateway.post(f"/api/sessions/{forged}/truncate", json={"keep": 0})
        assert cut.status_code == 404
    assert await titles(gateway) == ["When does the ferry leave?"]


async def test_an_answer_the_browser_stops_is_kept_as_stopped(
    gateway: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    """Bug 3, as the web UI meets it: Stop closes the gateway's stream, the gateway closes the
    RAG service's, and the turn is kept with what had arrived."""
    await upload(gateway)
    gate = Gate()
    llm.script(Reply(tokens=["At ", "nine ", "[1]."], gate=gate))
    sid = ""
    async with gateway.stream(
        "POST", "/api/chat/stream", json={"message": "When does the ferry leave?"}
    ) as response:
        gate.open()
        async for event in read_events(response):
            if event.type == "meta":
                sid = str(event.data["session_id"])
            if event.type == "token":
                break
    assert await llm.wait_for_disconnect_async(within=30)
    # The RAG service stores the turn as it closes its stream: wait for it (a bound against a
    # hang, not a speed to meet).
    deadline = time.monotonic() + 30
    answer = await gateway.get(f"/api/sessions/{sid}")
    while answer.status_code == 404 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        answer = await gateway.get(f"/api/sessions/{sid}")
    assert answer.status_code == 200, answer.text
    question, stopped = answer.json()["messages"]
    assert question["content"] == "When does the ferry leave?"
    assert (stopped["content"], stopped["stopped"]) == ("At ", True)
    assert await titles(gateway) == ["When does the ferry leave?"]
