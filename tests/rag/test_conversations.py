"""Conversations through the real RAG service: stopped and failed turns kept (issue 18, bug 3),
an answer's details kept, the list, rename, truncate and delete, and who sees what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from ragis.contract import Caller
from ragis.embedding import Embedder
from ragis.rag.app import create_app
from ragis.rag.settings import RagSettings
from ragis.store.keys import Keys
from ragis.web.run import serve_in_thread as serve
from support.finished import FinishedRequests
from support.fixtures import rag_client
from support.http import Event, collect_events, read_events
from support.llm_servers import Gate, OpenAIServer, Reply
from support.texts import index_all, index_body


async def ask(rag: httpx.AsyncClient, message: str, **extra: object) -> list[Event]:
    return await collect_events(rag, "/chat/stream", {"message": message, **extra})


def session_of(events: list[Event]) -> str:
    return str(events[0].data["session_id"])


async def listed(rag: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await rag.get("/sessions", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["conversations"])


async def messages(rag: httpx.AsyncClient, sid: str) -> list[dict[str, Any]]:
    response = await rag.get(f"/sessions/{sid}")
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


@pytest.fixture
def finished() -> FinishedRequests:
    return FinishedRequests()


@pytest.fixture
async def watched(
    rag_settings: RagSettings, embedder: Embedder, finished: FinishedRequests
) -> AsyncIterator[httpx.AsyncClient]:
    """The RAG service, watched: a test knows when it is done with a request it left."""
    with serve(finished.watch(create_app(rag_settings, embedder=embedder))) as url:
        async with rag_client(url, timeout=30) as client:
            yield client


async def leave_after_tokens(
    rag: httpx.AsyncClient, body: dict[str, Any], gate: Gate, tokens: int
) -> str:
    """Ask, let `tokens` tokens through the gate, read them, then hang up; the session id."""
    sid = ""
    seen = 0
    async with rag.stream("POST", "/chat/stream", json=body) as response:
        assert response.status_code == 200
        if tokens:
            gate.open()
        async for event in read_events(response):
            if event.type == "meta":
                sid = str(event.data["session_id"])
                if not tokens:
                    break
            if event.type == "token":
                seen += 1
                if seen == tokens:
                    break
                gate.open()
    return sid


# --- Stopped and failed turns (bug 3) -----------------------------------------------------------


async def test_a_stopped_turn_is_stored_with_what_was_streamed_and_is_not_cached(
    watched: httpx.AsyncClient, llm: OpenAIServer, finished: FinishedRequests
) -> None:
    """Bug 3: a turn the client stopped vanished from its session."""
    rag = watched
    await index_all(rag)
    gate = Gate()
    llm.script(Reply(tokens=["Etna ", "is ", "in ", "Sicily [1]."], gate=gate))
    sid = await leave_after_tokens(rag, {"message": "Where is Etna?"}, gate, tokens=2)
    assert await llm.wait_for_disconnect_async(within=30)
    assert await finished.wait_for_async("/chat/stream")
    question, answer = await messages(rag, sid)
    assert (question["role"], question["content"]) == ("user", "Where is Etna?")
    assert answer["content"] == "Etna is "
    assert answer["stopped"] is True
    assert answer["error"] is None
    assert answer["model"] == "gpt-4o-mini"
    assert answer["retrieval"] == "hybrid"
    assert answer["scope"] == "passages"
    assert answer["best_score"] is not None
    assert {"embed", "search", "first_token"} <= set(answer["timings"])
    assert answer["citations"]
    # Listed, titled by its question.
    assert [(c["session_id"], c["title"]) for c in await listed(rag)] == [(sid, "Where is Etna?")]
    # Not cached: the same question is asked of the LLM again.
    llm.script(Reply(tokens=["fresh"]))
    again = await ask(rag, "Where is Etna?")
    assert again[0].data["cache_hit"] is False


async def test_two_stopped_questions_both_survive(
    watched: httpx.AsyncClient, llm: OpenAIServer, finished: FinishedRequests
) -> None:
    """Bug 3: two questions, both stopped, reload: both were gone."""
    rag = watched
    await index_all(rag)
    first, second = Gate(), Gate()
    llm.script(
        Reply(tokens=["one ", "two"], gate=first),
        Reply(tokens=["What does castling move?"]),  # the follow-up's rewrite
        Reply(tokens=["three"], gate=second),
    )
    sid = await leave_after_tokens(rag, {"message": "Where is Etna?"}, first, tokens=1)
    assert await finished.wait_for_async("/chat/stream")
    body = {"message": "What does castling move?", "session_id": sid}
    # Stopped before any token: the question is kept, with an empty stopped answer.
    await leave_after_tokens(rag, body, second, tokens=0)
    assert await finished.wait_for_async("/chat/stream", count=2)
    stored = await messages(rag, sid)
    assert [m["content"] for m in stored] == [
        "Where is Etna?",
        "one ",
        "What does castling move?",
        "",
    ]
    assert [m["stopped"] for m in stored] == [None, True, None, True]


@pytest.mark.parametrize(
    ("reply", "code", "partial"),
    [
        (Reply.http_error(500), "llm_unavailable", ""),
        (Reply(tokens=["half ", "an ", "answer"], drop_after=2), "llm_stream_broken", "half an "),
    ],
)
async def test_a_failed_first_answer_keeps_the_chat_with_its_error(
    rag: httpx.AsyncClient, llm: OpenAIServer, reply: Reply, code: str, partial: str
) -> None:
    """Bug 3: when the first answer of a chat broke, its session was a 404."""
    await index_all(rag)
    llm.script(reply)
    events = await ask(rag, "Where is Etna?")
    assert events[-1].type == "error"
    sid = session_of(events)
    question, answer = await messages(rag, sid)
    assert question["content"] == "Where is Etna?"
    assert answer["content"] == partial
    assert answer["error"] == {"code": code, "message": events[-1].data["message"]}
    assert answer["stopped"] is None
    assert [c["session_id"] for c in await listed(rag)] == [sid]
    # The chat goes on in the same session; nothing was cached.
    llm.script(Reply(tokens=["Sicily [1]."]))
    follow = await ask(rag, "Where is Etna?", session_id=sid)
    assert follow[-1].type == "done"
    assert follow[0].data["cache_hit"] is False
    assert len(await messages(rag, sid)) == 4


async def test_a_complete_answer_is_stored_with_the_details_its_stream_told(
    rag: httpx.AsyncClient, llm: OpenAIServer
) -> None:
    await index_all(rag)
    llm.script(Reply(tokens=["Etna is in Sicily [1]."]))
    events = await ask(rag, "Where is Etna?")
    meta, done = events[0].data, events[-1].data
    answer = (await messages(rag, session_of(events)))[1]
    assert answer["content"] == "Etna is in Sicily [1]."
    assert answer["timings"] == done["timings"]
    for key in ("model", "retrieval", "best_score", "scope", "grounded", "cache_hit"):
        assert answer[key] == meta[key], key
    assert answer["stopped"] is None
    assert answer["error"] is None


# --- The list, rename, truncate, delete ---------------------------------------------------------


async def test_rename_truncate_and_delete(rag: httpx.AsyncClient, llm: OpenAIServer) -> None:
    await index_all(rag)
    sid = session_of(await ask(rag, "  Where   is\nEtna?  "))
    await ask(rag, "And Vesuvius?", session_id=sid)
    conversation = (await listed(rag))[0]
    assert conversation["title"] == "Where is Etna?"
    assert conversation["messages"] == 4
    assert conversation["collection"] == "default"
    assert 0 < conversation["ttl"] <= 86_400

    renamed = await rag.patch(f"/sessions/{sid}", json={"title": "  Volcanoes  "})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["title"] == "Volcanoes"
    assert (await listed(rag))[0]["title"] == "Volcanoes"

    # Retry the last answer: keep what came before its question, ask it again.
    cut = await rag.post(f"/sessions/{sid}/truncate", json={"keep": 2})
    assert cut.status_code == 200, cut.text
    assert cut.json()["messages"] == 2
    llm.script(Reply(tokens=["Where is Vesuvius?"]), Reply(tokens=["Near Naples."]))
    await ask(rag, "And Vesuvius?", session_id=sid)
    assert [m["content"] for m in await messages(rag, sid)][-1] == "Near Naples."

    # Edit the first question: keep nothing, ask the new text; the title stays.
    cut = await rag.post(f"/sessions/{sid}/truncate", json={"keep": 0})
    assert cut.json()["messages"] == 0
    empty = await rag.get(f"/sessions/{sid}")
    assert empty.status_code == 200
    assert empty.json()["messages"] == []
    await ask(rag, "Where exactly is Etna?", session_id=sid)
    assert (await messages(rag, sid))[0]["content"] == "Where exactly is Etna?"
    assert (await listed(rag))[0]["title"] == "Volcanoes"

    assert (await rag.delete(f"/sessions/{sid}")).status_code == 200
    assert await listed(rag) == []
    assert (await rag.get(f"/sessions/{sid}")).status_code == 404
    assert (await rag.delete(f"/sessions/{sid}")).status_code == 404


async def test_the_list_filters_and_limits(rag: httpx.AsyncClient) -> None:
    await index_all(rag)
    await rag.post("/index", json=index_body("b.txt", ["Beta note."], collection="b"))
    etna = session_of(await ask(rag, "Where is ETNA?"))
    chess = session_of(await ask(rag, "What does castling move?"))
    beta = session_of(await ask(rag, "What is the note?", collection="b"))
    assert [c["session_id"] for c in await listed(rag)] == [beta, chess, etna]
    assert [c["session_id"] for c in await listed(rag, q="etna")] == [etna]
    assert [c["session_id"] for c in await listed(rag, collection="b")] == [beta]
    assert [c["session_id"] for c in await listed(rag, limit=2)] == [beta, chess]


async def test_a_deleted_collections_conversations_leave_the_list(rag: httpx.AsyncClient) -> None:
    """Bug 4: after deleting a collection, its answers stayed."""
    await rag.post("/index", json=index_body("a.txt", ["Alpha note."], collection="a"))
    await rag.post("/index", json=index_body("b.txt", ["Beta note."], collection="b"))
    gone = session_of(await ask(rag, "What is the note?", collection="a"))
    kept = session_of(await ask(rag, "What is the note?", collection="b"))
    assert (await rag.delete("/collections/a")).status_code == 200
    assert [c["session_id"] for c in await listed(rag)] == [kept]
    assert (await rag.get(f"/sessions/{gone}")).status_code == 404


async def test_a_conversation_does_not_go_on_in_a_collection_made_again_under_its_name(
    rag: httpx.AsyncClient,
) -> None:
    """Bug 4: a chat of a deleted collection went on in the new one of the same name."""
    await rag.post("/index", json=index_body("a.txt", ["Alpha note."], collection="a"))
    sid = session_of(await ask(rag, "What is the note?", collection="a"))
    assert (await rag.delete("/collections/a")).status_code == 200
    await rag.post("/index", json=index_body("a2.txt", ["Another note."], collection="a"))
    again = await rag.post(
        "/chat/stream", json={"message": "And now?", "collection": "a", "session_id": sid}
    )
    assert again.status_code == 404, again.text
    assert "deleted" in again.json()["error"]["message"]
    assert await listed(rag) == []
    # A new conversation in the new collection is fine.
    assert session_of(await ask(rag, "What is the note?", collection="a")) != sid


async def test_the_ttl_counts_from_the_last_message(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    await index_all(rag)
    sid = session_of(await ask(rag, "Where is Etna?"))
    keys = Keys(prefix)
    aged = (keys.session(sid), keys.conversation(sid), keys.conversations("local"))
    for key in aged:
        await redis.expire(key, 60)
    assert (await listed(rag))[0]["ttl"] <= 60
    # A rename is not a message: the conversation still ends 60 s from its last one.
    await rag.patch(f"/sessions/{sid}", json={"title": "renamed"})
    assert (await listed(rag))[0]["ttl"] <= 60
    await ask(rag, "And Vesuvius?", session_id=sid)
    assert (await listed(rag))[0]["ttl"] > 86_000
    for key in aged:
        assert await redis.ttl(key) > 86_000


# --- Who sees what ------------------------------------------------------------------------------


async def test_another_users_conversation_is_a_404_and_never_listed(
    start_rag: Any, llm: OpenAIServer
) -> None:
    with start_rag() as url:
        async with (
            rag_client(url, **Caller("default", "alice").headers()) as alice,
            rag_client(url, **Caller("default", "bob").headers()) as bob,
        ):
            await index_all(alice)
            sid = session_of(await ask(alice, "alice's private question"))
            assert await listed(bob) == []
            assert (await bob.get(f"/sessions/{sid}")).status_code == 404
            assert (await bob.patch(f"/sessions/{sid}", json={"title": "x"})).status_code == 404
            cut = await bob.post(f"/sessions/{sid}/truncate", json={"keep": 0})
            assert cut.status_code == 404
            assert (await bob.delete(f"/sessions/{sid}")).status_code == 404
            # Bob cannot take it over by asking with its id either.
            taken = await bob.post("/chat/stream", json={"message": "hi", "session_id": sid})
            assert taken.status_code == 404
            assert [c["title"] for c in await listed(alice)] == ["alice's private question"]
            assert len(await messages(alice, sid)) == 2


async def test_another_workspaces_conversations_are_not_listed(
    start_rag: Any, llm: OpenAIServer
) -> None:
    with start_rag() as url:
        async with (
            rag_client(url, **Caller("team", "local").headers()) as team,
            rag_client(url) as mine,
        ):
            await index_all(team)
            await index_all(mine)
            sid = session_of(await ask(team, "a team question"))
            assert await listed(mine) == []
            assert (await mine.get(f"/sessions/{sid}")).status_code == 404
            assert [c["session_id"] for c in await listed(team)] == [sid]


# --- Hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/sessions?limit=0", None),
        ("GET", "/sessions?limit=201", None),
        ("GET", "/sessions?limit=ten", None),
        ("GET", "/sessions?q=" + "x" * 201, None),
        ("GET", "/sessions?collection=../x", None),
        ("PATCH", "/sessions/s1", {"title": ""}),
        ("PATCH", "/sessions/s1", {"title": " \n\t "}),
        ("PATCH", "/sessions/s1", {"title": "x" * 121}),
        ("PATCH", "/sessions/s1", {"title": "bell\x07"}),
        ("PATCH", "/sessions/s1", {"title": ["list"]}),
        ("PATCH", "/sessions/s1", {"title": "ok", "owner": "bob"}),
        ("PATCH", "/sessions/bad%20id", {"title": "ok"}),
        ("POST", "/sessions/s1/truncate", {"keep": -1}),
        ("POST", "/sessions/s1/truncate", {"keep": "1"}),
        ("POST", "/sessions/s1/truncate", {"keep": 1.5}),
        ("POST", "/sessions/s1/truncate", {"keep": 10**12}),
        ("POST", "/sessions/s1/truncate", {"keep": {"$gt": 0}}),
        ("POST", "/sessions/s1/truncate", {}),
        ("POST", "/sessions/" + "x" * 129 + "/truncate", {"keep": 0}),
    ],
)
async def test_hostile_requests_are_refused_with_a_422(
    rag: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    await index_all(rag)
    await ask(rag, "Where is Etna?", session_id="s1")
    response = await rag.request(method, path, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"
    # Nothing changed.
    conversation = (await listed(rag))[0]
    assert (conversation["title"], conversation["messages"]) == ("Where is Etna?", 2)
