from __future__ import annotations

import time

import pytest
from redis.asyncio import Redis

from ragis.errors import InvalidName
from ragis.settings import Settings
from ragis.store import Citation, Message, Store
from ragis.store.keys import Keys
from ragis.store.sessions import SessionStore


def msg(role: str, content: str, citations: tuple[Citation, ...] = ()) -> Message:
    return Message(role=role, content=content, time=time.time(), citations=citations)


async def test_history_keeps_messages_in_order_with_citations(store: Store) -> None:
    cite = Citation(n=1, doc_id="d1", filename="a.pdf", page=2, score=0.9, text="passage")
    await store.sessions.append("s1", [msg("user", "hi"), msg("assistant", "hello [1]", (cite,))])
    history = await store.sessions.history("s1")
    assert [(m.role, m.content) for m in history] == [("user", "hi"), ("assistant", "hello [1]")]
    assert history[1].citations == (cite,)
    assert [m.content for m in await store.sessions.history("s1", limit=1)] == ["hello [1]"]


async def test_every_write_sets_and_refreshes_the_ttl(
    store: Store, redis: Redis, settings: Settings
) -> None:
    await store.sessions.append("s1", [msg("user", "one")])
    key = store.keys.session("s1")
    assert 0 < await redis.ttl(key) <= settings.session_ttl
    await redis.expire(key, 10)
    assert await redis.ttl(key) <= 10
    await store.sessions.append("s1", [msg("user", "two")])
    assert await redis.ttl(key) > settings.session_ttl - 5
    assert await store.sessions.ttl_of("s1") > 10


async def test_a_session_is_trimmed_to_its_newest_messages(redis: Redis, prefix: str) -> None:
    sessions = SessionStore(redis, Keys(prefix), ttl=3600, max_messages=4)
    for i in range(10):
        length = await sessions.append("s", [msg("user", f"m{i}")])
    assert length == 4
    assert [m.content for m in await sessions.history("s")] == ["m6", "m7", "m8", "m9"]


async def test_an_expired_session_is_gone(redis: Redis, prefix: str) -> None:
    sessions = SessionStore(redis, Keys(prefix), ttl=1, max_messages=10)
    await sessions.append("s", [msg("user", "bye")])
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
    await store.sessions.append("s1", [msg("user", "x")])
    assert await store.sessions.delete("s1")
    assert not await store.sessions.exists("s1")


@pytest.mark.parametrize("bad", ["", "a b", "../../x", "x" * 129, "a:b", "{s}"])
async def test_bad_session_ids_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(InvalidName):
        await store.sessions.history(bad)
