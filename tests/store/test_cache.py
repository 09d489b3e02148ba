from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from redis.asyncio import Redis

from ragis.store import CachedAnswer, Citation, Store
from ragis.store.cache import SemanticCache
from ragis.store.keys import Keys
from support.corpus import add_document
from support.vectors import near, unit

CITE = Citation(n=1, doc_id="d1", filename="a.md", page=None, score=0.8, text="source text")


SCOPE = {"model": "m", "prompt_version": "1", "retrieval": "r", "terms": "x"}


async def put(store: Store, vector: object, *, version: int, **scope: str) -> str:
    entry = await store.cache.store(
        "docs", vector,  # type: ignore[arg-type]
        question="what?", answer="because [1]", citations=[CITE],
        version=version, **{**SCOPE, **scope},  # type: ignore[arg-type]
    )  # fmt: skip
    assert entry is not None
    return entry


async def get(store: Store, vector: object, *, version: int, **scope: Any) -> CachedAnswer | None:
    return await store.cache.lookup(
        "docs",
        vector,
        version=version,
        **{**SCOPE, **scope},  # type: ignore[arg-type]
    )


async def test_a_similar_question_hits_and_returns_answer_and_citations(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    version = await store.collections.version("docs")
    await put(store, unit(10), version=version)
    hit = await get(store, near(unit(10), 3, 0.05), version=version)
    assert hit is not None
    assert hit.answer == "because [1]"
    assert hit.citations == (CITE,)
    assert hit.similarity >= store.cache.threshold


async def test_a_different_question_misses(store: Store) -> None:
    await put(store, unit(10), version=0)
    assert await get(store, unit(11), version=0) is None


@pytest.mark.parametrize(
    "scope",
    [
        {"model": "other"},
        {"prompt_version": "2"},
        {"retrieval": "another filter or top_k"},
        {"terms": "another year"},
    ],
)
async def test_an_entry_of_another_scope_misses(store: Store, scope: dict[str, str]) -> None:
    await put(store, unit(10), version=0)
    assert await get(store, unit(10), version=0, **scope) is None
    assert await get(store, unit(10), version=0) is not None


async def test_two_entries_of_one_question_in_two_scopes_each_serve_their_own(
    store: Store,
) -> None:
    await store.cache.store(
        "docs", unit(10), question="q", answer="from public", citations=[], version=0,
        **{**SCOPE, "retrieval": "public"},  # type: ignore[arg-type]
    )  # fmt: skip
    await store.cache.store(
        "docs", unit(10), question="q", answer="from all", citations=[], version=0,
        **{**SCOPE, "retrieval": "all"},  # type: ignore[arg-type]
    )  # fmt: skip
    public = await get(store, unit(10), version=0, retrieval="public")
    everything = await get(store, unit(10), version=0, retrieval="all")
    assert public is not None
    assert public.answer == "from public"
    assert everything is not None
    assert everything.answer == "from all"


@pytest.mark.parametrize(
    "hostile",
    [
        '" or .v == 0 or .m == "',
        'r" or 1 or "',
        "r\\",
        '") or (1',
        "\u0022 or 1",
    ],
)
async def test_a_scope_value_cannot_rewrite_the_filter(store: Store, hostile: str) -> None:
    await put(store, unit(10), version=0)
    for field in ("retrieval", "terms", "model", "prompt_version"):
        assert await get(store, unit(10), version=0, **{field: hostile}) is None
    # Stored, it widens nothing either: an ordinary lookup does not find it.
    await put(store, unit(20), version=0, terms=hostile)
    assert await get(store, unit(20), version=0) is None


async def test_a_candidate_its_question_does_not_accept_is_skipped(store: Store) -> None:
    await put(store, unit(10), version=0)
    seen: list[str] = []

    def refuse(question: str) -> bool:
        seen.append(question)
        return False

    assert await get(store, unit(10), version=0, accept=refuse) is None
    assert seen == ["what?"]
    assert await get(store, unit(10), version=0, accept=lambda q: q == "what?") is not None


async def test_a_collection_change_makes_the_next_identical_question_miss(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    v1 = await store.collections.version("docs")
    await put(store, unit(10), version=v1)
    assert await get(store, unit(10), version=v1)
    await add_document(store, "docs", "d2", [unit(2)])
    v2 = await store.collections.version("docs")
    assert v2 == v1 + 1
    assert await get(store, unit(10), version=v2) is None
    # Even a stale caller that still believes in v1 gets nothing: the index was dropped.
    assert await get(store, unit(10), version=v1) is None


async def test_an_answer_computed_before_the_corpus_changed_is_not_stored(store: Store) -> None:
    await add_document(store, "docs", "d1", [unit(1)])
    stale = await store.collections.version("docs")
    await add_document(store, "docs", "d2", [unit(2)])
    assert await store.cache.store(
        "docs", unit(10), question="q", answer="a", citations=[], version=stale,
        **SCOPE,  # type: ignore[arg-type]
    ) is None  # fmt: skip


async def test_an_expired_answer_misses_and_its_index_entry_is_removed(
    redis: Redis, prefix: str
) -> None:
    cache = SemanticCache(redis, Keys(prefix), threshold=0.9, ttl=1)
    entry = await cache.store(
        "docs", unit(10), question="q", answer="a", citations=[], version=0,
        **SCOPE,  # type: ignore[arg-type]
    )  # fmt: skip
    assert entry is not None
    ck = Keys(prefix).collection("docs")
    await redis.pexpire(ck.cache_entry(entry), 30)
    deadline = time.monotonic() + 5
    while await redis.exists(ck.cache_entry(entry)) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert await cache.lookup("docs", unit(10), version=0, **SCOPE) is None  # type: ignore[arg-type]
    assert not await redis.exists(ck.cache)


async def test_cache_answers_carry_a_ttl(store: Store, redis: Redis) -> None:
    entry = await put(store, unit(10), version=0)
    ttl = await redis.ttl(store.keys.collection("docs").cache_entry(entry))
    assert 0 < ttl <= store.cache.ttl
