"""store/conversations.py: each user's list of their chats, against a real Redis."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from ragis.db import connect
from ragis.errors import InvalidName, NotFound, SessionMismatch
from ragis.settings import load_settings
from ragis.store import Message, Store
from ragis.store.conversations import TITLE_CHARS, title_of
from support.cluster import LocalCluster
from support.corpus import add_document
from support.vectors import unit


def turn(question: str, answer: str = "an answer") -> list[Message]:
    now = time.time()
    return [Message("user", question, now), Message("assistant", answer, now)]


async def collection(store: Store, name: str = "docs") -> float:
    """Make the collection exist (a conversation of a collection that does not is forgotten);
    its `created`."""
    await add_document(store, name, f"d-{name}", [unit(1)])
    return (await store.collections.require(name)).created


async def say(
    store: Store, sid: str, question: str, *, user: str = "local", coll: str = "docs"
) -> int:
    info = await store.collections.require(coll)
    return await store.sessions.append(
        sid, turn(question), collection=coll, user=user, collection_created=info.created
    )


# --- Titles ---------------------------------------------------------------------------------


def test_a_title_is_the_first_question_with_its_whitespace_collapsed() -> None:
    assert title_of("  What is\n\n the   answer?\t") == "What is the answer?"


def test_a_long_question_is_cut_on_a_word_boundary_with_an_ellipsis() -> None:
    question = " ".join(f"word{i}" for i in range(40))
    title = title_of(question)
    assert title.endswith("…")
    assert len(title) <= TITLE_CHARS + 1
    assert question.startswith(title[:-1])
    assert question[len(title) - 1] == " "  # cut where a word ends, not inside one


def test_a_question_of_exactly_the_limit_is_not_cut() -> None:
    assert title_of("x" * TITLE_CHARS) == "x" * TITLE_CHARS


def test_one_endless_word_is_cut_where_it_must() -> None:
    title = title_of("https://example.org/" + "a" * 200)
    assert title == ("https://example.org/" + "a" * 200)[:TITLE_CHARS] + "…"


# --- The list -------------------------------------------------------------------------------


async def test_a_turn_makes_a_conversation_titled_by_its_first_question(store: Store) -> None:
    created = await collection(store)
    await say(store, "s1", "How   long is\nsourdough baked?")
    await say(store, "s1", "And at what temperature?")
    found = await store.sessions.conversations.get("s1", user="local")
    assert found is not None
    assert found.title == "How long is sourdough baked?"
    assert found.collection == "docs"
    assert found.collection_created == pytest.approx(created)
    assert found.messages == 4
    assert found.created <= found.updated
    assert 0 < found.ttl <= store.sessions.ttl


async def test_the_list_is_newest_first_and_a_new_message_moves_a_conversation_up(
    store: Store,
) -> None:
    await collection(store)
    for sid in ("a", "b", "c"):
        await say(store, sid, f"question {sid}")
    listed = await store.sessions.conversations.recent(user="local")
    assert [c.session_id for c in listed] == ["c", "b", "a"]
    await say(store, "a", "again")
    listed = await store.sessions.conversations.recent(user="local")
    assert [c.session_id for c in listed] == ["a", "c", "b"]
    assert listed[0].title == "question a"  # the first question stays the title


async def test_the_list_filters_by_title_collection_and_limit(store: Store) -> None:
    await collection(store, "docs")
    await collection(store, "other")
    await say(store, "s1", "Where is Mount ETNA?")
    await say(store, "s2", "What does castling move?")
    await say(store, "s3", "Etna again", coll="other")
    conversations = store.sessions.conversations
    assert {c.session_id for c in await conversations.recent(user="local", query="etna")} == {
        "s1",
        "s3",
    }
    assert [c.session_id for c in await conversations.recent(user="local", collection="other")] == [
        "s3"
    ]
    assert [c.session_id for c in await conversations.recent(user="local", limit=1)] == ["s3"]
    assert await conversations.recent(user="local", query="no such title") == []


async def test_another_users_conversation_is_never_listed_nor_theirs_to_touch(
    store: Store,
) -> None:
    await collection(store)
    await say(store, "alice-chat", "alice's secret question", user="alice")
    conversations = store.sessions.conversations
    assert await conversations.recent(user="bob") == []
    assert await conversations.get("alice-chat", user="bob") is None
    assert not await conversations.rename("alice-chat", user="bob", title="mine now")
    assert not await store.sessions.delete("alice-chat", user="bob")
    with pytest.raises(NotFound):
        await store.sessions.truncate("alice-chat", 0, user="bob")
    with pytest.raises(NotFound):
        await say(store, "alice-chat", "let me in", user="bob")
    # Untouched, still alice's, and not in bob's list.
    found = await conversations.get("alice-chat", user="alice")
    assert found is not None
    assert (found.title, found.messages) == ("alice's secret question", 2)
    assert await conversations.recent(user="bob") == []


async def test_another_workspaces_conversations_are_not_listed(store: Store) -> None:
    await collection(store)
    other = store.scoped("team")
    await collection(other)
    await say(other, "team-chat", "a team question")
    await say(store, "mine", "my question")
    assert [c.session_id for c in await store.sessions.conversations.recent(user="local")] == [
        "mine"
    ]
    assert await store.sessions.conversations.get("team-chat", user="local") is None


async def test_a_rename_changes_the_title_only(store: Store) -> None:
    await collection(store)
    await say(store, "s1", "first question")
    conversations = store.sessions.conversations
    assert await conversations.rename("s1", user="local", title="Bread notes")
    await say(store, "s1", "second question")
    found = await conversations.get("s1", user="local")
    assert found is not None
    assert (found.title, found.messages) == ("Bread notes", 4)
    assert not await conversations.rename("never", user="local", title="x")


async def test_delete_takes_a_conversation_out_of_the_list(store: Store, redis: Redis) -> None:
    await collection(store)
    await say(store, "s1", "question")
    assert await store.sessions.delete("s1", user="local")
    assert await store.sessions.conversations.recent(user="local") == []
    assert await redis.exists(store.keys.conversation("s1"), store.keys.session("s1")) == 0
    assert await redis.zcard(store.keys.conversations("local")) == 0
    assert not await store.sessions.delete("s1", user="local")


# --- Lifetimes ------------------------------------------------------------------------------


async def test_the_ttl_counts_from_the_last_message_not_from_a_rename_or_truncation(
    store: Store, redis: Redis
) -> None:
    await collection(store)
    await say(store, "s1", "question")
    keys = (store.keys.conversation("s1"), store.keys.session("s1"))
    for key in keys:
        await redis.expire(key, 100)
    await store.sessions.conversations.rename("s1", user="local", title="renamed")
    await store.sessions.truncate("s1", 1, user="local")
    assert all(0 < ttl <= 100 for ttl in [await redis.ttl(key) for key in keys])
    await say(store, "s1", "a new message")
    for key in (*keys, store.keys.conversations("local")):
        assert await redis.ttl(key) > store.sessions.ttl - 5


async def test_an_expired_conversation_leaves_the_list_by_itself(
    store: Store, redis: Redis
) -> None:
    await collection(store)
    await say(store, "old", "old question")
    await say(store, "new", "new question")
    await redis.pexpire(store.keys.conversation("old"), 30)
    await redis.pexpire(store.keys.session("old"), 30)
    deadline = time.monotonic() + 5
    while await redis.exists(store.keys.conversation("old")) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    listed = await store.sessions.conversations.recent(user="local")
    assert [c.session_id for c in listed] == ["new"]
    # ... and out of the index too, not only out of the answer.
    assert await redis.zscore(store.keys.conversations("local"), "old") is None


async def test_a_deleted_collections_conversations_are_forgotten(
    store: Store, redis: Redis
) -> None:
    await collection(store, "docs")
    await collection(store, "kept")
    await say(store, "gone", "about docs")
    await say(store, "stays", "about kept", coll="kept")
    await store.collections.delete("docs")
    listed = await store.sessions.conversations.recent(user="local")
    assert [c.session_id for c in listed] == ["stays"]
    assert await redis.exists(store.keys.conversation("gone"), store.keys.session("gone")) == 0


async def test_a_collection_made_again_under_the_same_name_does_not_bring_them_back(
    store: Store,
) -> None:
    await collection(store, "docs")
    await say(store, "before", "asked of the first docs")
    await store.collections.delete("docs")
    await asyncio.sleep(0.01)  # a new `created`
    await collection(store, "docs")
    await say(store, "after", "asked of the new docs")
    listed = await store.sessions.conversations.recent(user="local")
    assert [c.session_id for c in listed] == ["after"]


# --- Truncation -----------------------------------------------------------------------------


async def test_a_conversation_truncated_to_nothing_keeps_its_title_owner_and_collection(
    store: Store,
) -> None:
    await collection(store, "docs")
    await collection(store, "other")
    await say(store, "s1", "the first question")
    assert await store.sessions.truncate("s1", 0, user="local") == 0
    assert await store.sessions.history("s1") == []
    found = await store.sessions.conversations.get("s1", user="local")
    assert found is not None
    assert (found.title, found.collection, found.messages) == ("the first question", "docs", 0)
    # Still its user's, still bound to its collection...
    with pytest.raises(NotFound):
        await say(store, "s1", "mine now?", user="mallory")
    with pytest.raises(SessionMismatch):
        await say(store, "s1", "elsewhere", coll="other")
    # ... and it goes on.
    await say(store, "s1", "asked again")
    found = await store.sessions.conversations.get("s1", user="local")
    assert found is not None
    assert (found.title, found.messages) == ("the first question", 2)


async def test_a_refused_turn_leaves_no_conversation_behind(store: Store, redis: Redis) -> None:
    """A session from before conversations (a transcript without its hash) stays its user's:
    another user's turn is refused, and the hash it had claimed is taken back."""
    await collection(store)
    old = json.dumps({"role": "user", "content": "x", "time": 1.0, "citations": [],
                      "collection": "docs", "owner": "alice"})  # fmt: skip
    await redis.rpush(store.keys.session("legacy"), old)
    with pytest.raises(NotFound):
        await say(store, "legacy", "let me in", user="bob")
    assert await redis.exists(store.keys.conversation("legacy")) == 0
    assert await store.sessions.conversations.recent(user="bob") == []
    await say(store, "legacy", "still mine", user="alice")
    assert len(await store.sessions.history("legacy", user="alice")) == 3


@pytest.mark.parametrize("bad", ["", "a b", "../x", "x" * 129, "a:b", "{s}"])
async def test_forged_session_ids_never_reach_a_key(store: Store, bad: str) -> None:
    with pytest.raises(InvalidName):
        await store.sessions.conversations.get(bad, user="local")
    with pytest.raises(InvalidName):
        await store.sessions.conversations.rename(bad, user="local", title="t")


@pytest.mark.parametrize("bad", ["", "a b", "a:b", "{u}", "x" * 65])
async def test_forged_user_names_never_reach_a_key(store: Store, bad: str) -> None:
    with pytest.raises(InvalidName):
        await store.sessions.conversations.recent(user=bad)


# --- Redis Cluster --------------------------------------------------------------------------


@pytest.fixture
async def cluster_store(redis_cluster: LocalCluster, prefix: str) -> AsyncIterator[Store]:
    client = await connect(redis_cluster.url)
    assert isinstance(client, RedisCluster)
    yield Store.create(client, load_settings(redis_url=redis_cluster.url, key_prefix=prefix))
    await client.aclose()


async def test_conversations_work_on_a_cluster_where_their_keys_lie_in_several_slots(
    cluster_store: Store,
) -> None:
    """Every script touches one key (a session, its hash and the user's list are three slots):
    a script naming keys of two slots would be refused (CROSSSLOT) here."""
    store = cluster_store
    await collection(store)
    for sid in ("c1", "c2", "c3"):
        await say(store, sid, f"question {sid}")
    conversations = store.sessions.conversations
    assert [c.session_id for c in await conversations.recent(user="local")] == ["c3", "c2", "c1"]
    assert await conversations.rename("c1", user="local", title="renamed")
    assert await store.sessions.truncate("c2", 0, user="local") == 0
    assert await store.sessions.delete("c3", user="local")
    listed = {c.session_id: c for c in await conversations.recent(user="local")}
    assert set(listed) == {"c1", "c2"}
    assert listed["c1"].title == "renamed"
    assert listed["c2"].messages == 0
    await store.collections.delete("docs")
    assert await conversations.recent(user="local") == []
