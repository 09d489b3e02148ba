from __future__ import annotations

import json
import time

import pytest
from redis.asyncio import Redis

from ragis.errors import InvalidName, NotFound, SessionMismatch
from ragis.settings import Settings
from ragis.store import Citation, Message, Store
from ragis.store.keys import Keys
from ragis.store.sessions import SessionStore


def msg(role: str, content: str, citations: tuple[Citation, ...] = ()) -> Message:
    return Message(role=role, content=content, time=time.time(), citations=citations)


async def test_history_keeps_messages_in_order_with_citations(store: Store) -> None:
    cite = Citation(n=1, doc_id="d1", filename="a.pdf", page=2, score=0.9, text="passage")
    await store.sessions.append(
        "s1", [msg("user", "hi"), msg("assistant", "hello [1]", (cite,))], collection="docs"
    )
    history = await store.sessions.history("s1")
    assert [(m.role, m.content) for m in history] == [("user", "hi"), ("assistant", "hello [1]")]
    assert history[1].citations == (cite,)
    assert [m.content for m in await store.sessions.history("s1", limit=1)] == ["hello [1]"]


async def test_every_write_sets_and_refreshes_the_ttl(
    store: Store, redis: Redis, settings: Settings
) -> None:
    await store.sessions.append("s1", [msg("user", "one")], collection="docs")
    key = store.keys.session("s1")
    assert 0 < await redis.ttl(key) <= settings.session_ttl
    await redis.expire(key, 10)
    assert await redis.ttl(key) <= 10
    await store.sessions.append("s1", [msg("user", "two")], collection="docs")
    assert await redis.ttl(key) > settings.session_ttl - 5
    assert await store.sessions.ttl_of("s1") > 10


async def test_a_session_is_trimmed_to_its_newest_messages(redis: Redis, prefix: str) -> None:
    sessions = SessionStore(redis, Keys(prefix), ttl=3600, max_messages=4)
    for i in range(10):
        length = await sessions.append("s", [msg("user", f"m{i}")], collection="docs")
    assert length == 4
    assert [m.content for m in await sessions.history("s")] == ["m6", "m7", "m8", "m9"]


async def test_an_expired_session_is_gone(redis: Redis, prefix: str) -> None:
    sessions = SessionStore(redis, Keys(prefix), ttl=1, max_messages=10)
    await sessions.append("s", [msg("user", "bye")], collection="docs")
    await redis.pexpire(Keys(prefix).session("s"), 50)
    deadline = time.monotonic() + 5
    while await sessions.exists("s") and time.monotonic() < deadline:
        await _sleep()
    assert await sessions.history("s") == []


async def _sleep() -> None:
    import asyncio

    await asyncio.sleep(0.02)


async def test_delete_and_unknown_sessions(store: Store) -> None:
    assert await store.sessions.history("never") == []
    assert await store.sessions.ttl_of("never") == -2
    assert not await store.sessions.delete("never")
    await store.sessions.append("s1", [msg("user", "x")], collection="docs")
    assert await store.sessions.delete("s1")
    assert not await store.sessions.exists("s1")


@pytest.mark.parametrize("bad", ["", "a b", "../../x", "x" * 129, "a:b", "{s}"])
async def test_bad_session_ids_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(InvalidName):
        await store.sessions.history(bad)


async def test_a_session_is_bound_to_the_collection_of_its_first_message(store: Store) -> None:
    assert await store.sessions.collection_of("s1") is None
    await store.sessions.append("s1", [msg("user", "secret of A")], collection="a")
    assert await store.sessions.collection_of("s1") == "a"
    with pytest.raises(SessionMismatch) as refused:
        await store.sessions.append("s1", [msg("user", "question to B")], collection="b")
    assert refused.value.code == "session_collection_mismatch"
    assert "'b'" in refused.value.message
    assert "'a'" not in refused.value.message  # the other collection is not named
    assert [m.content for m in await store.sessions.history("s1")] == ["secret of A"]
    assert await store.sessions.append("s1", [msg("user", "more for A")], collection="a") == 2


async def test_the_binding_survives_trimming(redis: Redis, prefix: str) -> None:
    sessions = SessionStore(redis, Keys(prefix), ttl=3600, max_messages=2)
    for i in range(5):
        await sessions.append("s", [msg("user", f"m{i}")], collection="a")
    with pytest.raises(SessionMismatch):
        await sessions.append("s", [msg("user", "x")], collection="b")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"role": "user", "content": "from before the binding", "time": 1}',
        b'{"role": "user", "content": "x", "time": 1, "collection": null}',
        b'{"role": "user", "content": "x", "time": 1, "collection": ["b"]}',
        b"not json at all",
        b'"a string"',
    ],
)
async def test_a_session_without_a_readable_binding_is_refused_for_every_collection(
    store: Store, redis: Redis, raw: bytes
) -> None:
    await redis.rpush(store.keys.session("old"), raw)
    assert await store.sessions.collection_of("old") == ""
    for collection in ("a", "b", ""):
        with pytest.raises(SessionMismatch):
            await store.sessions.append("old", [msg("user", "x")], collection=collection)
    assert await redis.llen(store.keys.session("old")) == 1


async def test_a_message_cannot_forge_the_binding(store: Store) -> None:
    forged = '", "collection": "b", "x": "'
    await store.sessions.append("s1", [msg("user", forged)], collection="a")
    assert await store.sessions.collection_of("s1") == "a"
    with pytest.raises(SessionMismatch):
        await store.sessions.append("s1", [msg("user", "x")], collection="b")


async def test_truncate_keeps_the_first_messages(store: Store) -> None:
    await store.sessions.append("s1", [msg("user", f"m{i}") for i in range(6)], collection="docs")
    assert await store.sessions.truncate("s1", 4) == 4
    assert [m.content for m in await store.sessions.history("s1")] == ["m0", "m1", "m2", "m3"]
    # Keeping more than there is changes nothing.
    assert await store.sessions.truncate("s1", 100) == 4
    assert len(await store.sessions.history("s1")) == 4


async def test_truncate_to_nothing_keeps_the_session_bound_and_owned(store: Store) -> None:
    await store.sessions.append("s1", [msg("user", "q")], collection="docs", user="alice")
    assert await store.sessions.truncate("s1", 0, user="alice") == 0
    binding = await store.sessions.binding("s1")
    assert binding is not None
    assert (binding.collection, binding.owner) == ("docs", "alice")
    assert await store.sessions.collection_of("s1", user="alice") == "docs"
    assert await store.sessions.collection_of("s1", user="bob") is None


async def test_another_users_session_cannot_be_truncated(store: Store) -> None:
    await store.sessions.append("s1", [msg("user", "a"), msg("user", "b")], collection="docs")
    with pytest.raises(NotFound):
        await store.sessions.truncate("s1", 0, user="mallory")
    with pytest.raises(NotFound):
        await store.sessions.truncate("never", 0)
    assert len(await store.sessions.history("s1")) == 2


async def test_a_session_from_before_conversations_keeps_working(
    store: Store, redis: Redis
) -> None:
    """A transcript written before conversations existed has no conversation hash: its owner
    and collection still come from its last message."""
    old = {"role": "user", "content": "x", "time": 1.0, "citations": [], "collection": "docs"}
    await redis.rpush(store.keys.session("legacy"), json.dumps(old))
    binding = await store.sessions.binding("legacy")
    assert binding is not None
    assert (binding.collection, binding.owner) == ("docs", "local")
    await store.sessions.append("legacy", [msg("user", "y")], collection="docs")
    assert [m.content for m in await store.sessions.history("legacy")] == ["x", "y"]
    assert await store.sessions.delete("legacy")
    assert await store.sessions.history("legacy") == []
