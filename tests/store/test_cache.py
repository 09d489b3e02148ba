from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from ragis.store import Citation, Store
from ragis.store.cache import SemanticCache
from ragis.store.keys import Keys
from support.corpus import add_document
from support.vectors import near, unit

CITE = Citation(n=1, doc_id="d1", filename="a.md", page=None, score=0.8, text="source text")


async def put(store: Store, vector: object, *, version: int, model: str = "m", p: str = "1") -> str:
    entry = await store.cache.store(
        "docs", vector,  # type: ignore[arg-type]
        question="what?", answer="because [1]", citations=[CITE],
        version=version, model=model, prompt_version=p,
    )  # fmt: skip
    assert entry is not None
    return entry


async def test_a_similar_question_hits_and_returns_answer_and_citations(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    version = await store.collections.version("docs")
    await put(store, unit(10), version=version)
    hit = await store.cache.lookup(
        "docs", near(unit(10), 3, 0.05), version=version, model="m", prompt_version="1"
    )
    assert hit is not None
    assert hit.answer == "because [1]"
    assert hit.citations == (CITE,)
    assert hit.similarity >= store.cache.threshold


async def test_a_different_question_misses(store: Store) -> None:
    await put(store, unit(10), version=0)
    assert (
        await store.cache.lookup("docs", unit(11), version=0, model="m", prompt_version="1") is None
    )


async def test_an_entry_for_another_model_or_prompt_version_misses(store: Store) -> None:
    await put(store, unit(10), version=0)
    for model, p in (("other", "1"), ("m", "2")):
        assert (
            await store.cache.lookup("docs", unit(10), version=0, model=model, prompt_version=p)
            is None
        )


async def test_a_collection_change_makes_the_next_identical_question_miss(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    v1 = await store.collections.version("docs")
    await put(store, unit(10), version=v1)
    assert await store.cache.lookup("docs", unit(10), version=v1, model="m", prompt_version="1")
    await add_document(store, "docs", "d2", [unit(2)])
    v2 = await store.collections.version("docs")
    assert v2 == v1 + 1
    assert (
        await store.cache.lookup("docs", unit(10), version=v2, model="m", prompt_version="1")
        is None
    )
    # Even a stale caller that still believes in v1 gets nothing: the index was dropped.
    assert (
        await store.cache.lookup("docs", unit(10), version=v1, model="m", prompt_version="1")
        is None
    )


async def test_an_answer_computed_before_the_corpus_changed_is_not_stored(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    stale = await store.collections.version("docs")
    await add_document(store, "docs", "d2", [unit(2)])
    assert await store.cache.store(
        "docs", unit(10), question="q", answer="a", citations=[], version=stale,
        model="m", prompt_version="1",
    ) is None  # fmt: skip


async def test_an_expired_answer_misses_and_its_index_entry_is_removed(
    redis: Redis, prefix: str
) -> None:
    cache = SemanticCache(redis, Keys(prefix), threshold=0.9, ttl=1)
    entry = await cache.store(
        "docs", unit(10), question="q", answer="a", citations=[], version=0,
        model="m", prompt_version="1",
    )  # fmt: skip
    assert entry is not None
    ck = Keys(prefix).collection("docs")
    await redis.pexpire(ck.cache_entry(entry), 30)
    deadline = time.monotonic() + 5
    while await redis.exists(ck.cache_entry(entry)) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert await cache.lookup("docs", unit(10), version=0, model="m", prompt_version="1") is None
    assert not await redis.exists(ck.cache)


async def test_cache_answers_carry_a_ttl(store: Store, redis: Redis) -> None:
    entry = await put(store, unit(10), version=0)
    ttl = await redis.ttl(store.keys.collection("docs").cache_entry(entry))
    assert 0 < ttl <= store.cache.ttl
