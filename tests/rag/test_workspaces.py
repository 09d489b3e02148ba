"""Workspaces all the way down to Redis, through the RAG service.

Two workspaces with a collection of the same name are two collections: indexing, listing,
search, the semantic cache, sessions and deletes in one never touch the other. A chat session
belongs to its user: another user of the same workspace gets 404 for it. `DELETE /workspace`
removes every key of one workspace (SCAN says so) and none of another. The background recovery
sweeps every workspace.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from redis.asyncio import Redis

from ragis.contract import Caller
from ragis.rag.recovery import sweep_every_workspace
from ragis.store import Keys, Store
from support.corpus import add_document
from support.fixtures import RagFactory, rag_client
from support.http import Event, collect_events
from support.llm_servers import OpenAIServer, Reply
from support.texts import index_all, index_body
from support.vectors import unit

QUESTION = "Where is Mount Etna?"


@pytest.fixture
def rag_url(start_rag: RagFactory) -> Iterator[str]:
    with start_rag() as url:
        yield url


@pytest.fixture
async def alice(rag_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with rag_client(rag_url, **Caller("team-a", "alice").headers()) as client:
        yield client


@pytest.fixture
async def bob(rag_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with rag_client(rag_url, **Caller("team-b", "bob").headers()) as client:
        yield client


def meta(events: list[Event]) -> dict[str, object]:
    return next(e.data for e in events if e.type == "meta")


def cited(events: list[Event]) -> list[str]:
    return [c["doc_id"] for e in events if e.type == "citations" for c in e.data["citations"]]


async def keys_of(redis: Redis, pattern: str) -> set[str]:
    return {k.decode() async for k in redis.scan_iter(match=pattern)}


async def test_two_workspaces_with_the_same_collection_name_are_independent(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    ids = await index_all(alice)
    mine = await bob.post("/index", json=index_body("note.txt", ["Bob keeps bees in Oslo."]))
    bob_doc = mine.json()["document_id"]
    # The same bytes in another workspace are no duplicate: each indexes its own.
    again = await bob.post("/index", json=index_body("volcano.md"))
    assert again.json()["duplicate"] is False

    a_docs = (await alice.get("/collections/default/documents")).json()["documents"]
    b_docs = (await bob.get("/collections/default/documents")).json()["documents"]
    assert sorted(d["filename"] for d in a_docs) == sorted(ids)
    assert sorted(d["filename"] for d in b_docs) == ["note.txt", "volcano.md"]
    a_info = (await alice.get("/collections")).json()["collections"]
    b_info = (await bob.get("/collections")).json()["collections"]
    assert [(c["name"], c["documents"]) for c in a_info] == [("default", 3)]
    assert [(c["name"], c["documents"]) for c in b_info] == [("default", 2)]
    assert (await alice.get(f"/collections/default/documents/{bob_doc}")).status_code == 404
    assert (await alice.delete(f"/index/default/{bob_doc}")).status_code == 404

    # Search and cache: Alice's answer is cached for her, and never served to Bob.
    llm.script(Reply(tokens=["Sicily [1]."]), Reply(tokens=["Bob's answer."]))
    first = await collect_events(alice, "/chat/stream", {"message": QUESTION})
    assert meta(first)["cache_hit"] is False
    assert set(cited(first)) <= set(ids.values())
    hit = await collect_events(alice, "/chat/stream", {"message": QUESTION})
    assert meta(hit)["cache_hit"] is True
    theirs = await collect_events(bob, "/chat/stream", {"message": QUESTION})
    assert meta(theirs)["cache_hit"] is False
    assert not set(cited(theirs)) & set(ids.values())
    assert "".join(e.data["text"] for e in theirs if e.type == "token") == "Bob's answer."

    # Sessions: Bob cannot read or delete Alice's, though he names it; naming it in a chat
    # starts a session of that id in his own workspace, which knows nothing of hers.
    session = str(meta(first)["session_id"])
    assert (await bob.get(f"/sessions/{session}")).status_code == 404
    assert (await bob.delete(f"/sessions/{session}")).status_code == 404
    await collect_events(bob, "/chat/stream", {"message": "and?", "session_id": session})
    prompt = str(llm.chat_requests[-1].json["messages"])
    assert QUESTION not in prompt
    assert "Sicily [1]." not in prompt
    ours = (await alice.get(f"/sessions/{session}")).json()["messages"]
    assert [m["content"] for m in ours] == [QUESTION, "Sicily [1]."]
    theirs_now = (await bob.get(f"/sessions/{session}")).json()["messages"]
    assert theirs_now[0]["content"] == "and?"

    # A delete in one workspace leaves the other's collection of the same name whole.
    assert (await bob.delete("/collections/default")).status_code == 200
    assert (await bob.get("/collections")).json()["collections"] == []
    assert len((await alice.get("/collections/default/documents")).json()["documents"]) == 3


async def test_a_session_of_one_user_is_not_found_for_another_of_the_same_workspace(
    rag_url: str, llm: OpenAIServer
) -> None:
    async with (
        rag_client(rag_url, **Caller("team", "ann").headers()) as ann,
        rag_client(rag_url, **Caller("team", "ben").headers()) as ben,
    ):
        await index_all(ann)
        events = await collect_events(ann, "/chat/stream", {"message": QUESTION})
        session = str(meta(events)["session_id"])
        own = await ann.get(f"/sessions/{session}")
        assert own.status_code == 200
        assert [m["role"] for m in own.json()["messages"]] == ["user", "assistant"]
        # Ben shares the workspace (and its documents), not Ann's conversation.
        assert (await ben.get("/collections/default/documents")).status_code == 200
        for response in (
            await ben.get(f"/sessions/{session}"),
            await ben.delete(f"/sessions/{session}"),
            await ben.post("/chat/stream", json={"message": "more?", "session_id": session}),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["code"] == "not_found"
        assert (await ann.get(f"/sessions/{session}")).status_code == 200
        assert (await ann.delete(f"/sessions/{session}")).status_code == 200


async def test_deleting_a_workspace_removes_all_and_only_its_keys(
    alice: httpx.AsyncClient, bob: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    await index_all(alice)
    await index_all(alice, collection="more")
    await collect_events(alice, "/chat/stream", {"message": QUESTION})
    await index_all(bob)
    await collect_events(bob, "/chat/stream", {"message": QUESTION})
    team_a, team_b = Keys(prefix, "team-a"), Keys(prefix, "team-b")
    a_keys = await keys_of(redis, team_a.pattern)
    b_keys = await keys_of(redis, team_b.pattern)
    assert any(":session:" in k for k in a_keys)
    assert any(":cache" in k for k in a_keys)
    everything = await keys_of(redis, f"{prefix}:*")

    deleted = await alice.delete("/workspace")
    assert deleted.status_code == 200
    assert deleted.json() == {
        "deleted": True,
        "workspace": "team-a",
        "keys_removed": len(a_keys),
    }
    assert await keys_of(redis, team_a.pattern) == set()
    assert await keys_of(redis, team_b.pattern) == b_keys
    assert await keys_of(redis, f"{prefix}:*") == everything - a_keys
    assert (await alice.get("/collections")).json()["collections"] == []
    assert len((await bob.get("/collections/default/documents")).json()["documents"]) == 3
    assert await redis.smembers(team_a.workspaces) == {b"team-b"}


async def test_the_recovery_sweep_covers_every_workspace(store: Store, redis: Redis) -> None:
    left: dict[str, str] = {}
    for workspace in ("default", "team-a", "team-b"):
        scoped = store.scoped(workspace)
        await add_document(scoped, "docs", "kept", [unit(1)])
        await add_document(scoped, "docs", "stuck", [unit(2), unit(3)], ready=False)
        # Its writer is gone: the lease is what a killed writer no longer renews.
        await redis.delete(scoped.keys.collection("docs").lease("stuck"))
        left[workspace] = "stuck"
    assert await store.workspaces.with_data() == ["default", "team-a", "team-b"]
    assert await sweep_every_workspace(store, full=False) == 3
    for workspace in left:
        scoped = store.scoped(workspace)
        assert [d.id for d in await scoped.documents.list("docs")] == ["kept"]
        info = await scoped.collections.get("docs")
        assert info is not None
        assert info.vectors == 1
