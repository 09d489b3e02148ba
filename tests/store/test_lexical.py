"""The keyword index on a real Redis: BM25 ranking, exact removal, replace, sharding, a cluster."""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Mapping

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from ragis.db import connect
from ragis.db.client import RedisClient
from ragis.errors import InvalidInput
from ragis.lexical import Tokenizer
from ragis.store.keys import Keys, ShardKeys
from ragis.store.lexical import K1, B, LexicalIndex, idf
from support.cluster import LocalCluster

Chunks = list[tuple[str, Mapping[str, int]]]


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


@pytest.fixture
def shard(prefix: str) -> ShardKeys:
    return Keys(prefix).collection("docs").shard(0, 1)


class Indexed(LexicalIndex):
    """The index as the registry uses it: a chunk's text is stored before its postings (a
    posting is written only for a chunk that exists)."""

    async def add(self, shard: ShardKeys, chunks: Chunks) -> None:
        await store_texts(self._redis, shard, [cid for cid, _ in chunks])
        await super().add(shard, chunks)


async def store_texts(redis: RedisClient, shard: ShardKeys, ids: list[str]) -> None:
    for cid in ids:
        if LexicalIndex_ID.fullmatch(cid):
            await redis.hset(shard.chunk(cid), "text", "stored")


LexicalIndex_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}:\d{1,9}")


@pytest.fixture
def index(redis: Redis) -> LexicalIndex:
    return Indexed(redis)


def error_codes(tok: Tokenizer) -> Chunks:
    """The issue's service manual: near-identical entries that differ only by their code."""
    chunks: Chunks = []
    for i in range(30):
        code = f"E44-44{i + 60:02d}"
        text = (
            f"Error {code}: the feed pump overheated. Switch the unit off, let the feed pump "
            "cool down, check the coolant level and restart; if the error returns call service."
        )
        chunks.append((f"manual:{i}", tok.index_terms(text)))
    return chunks


async def lex_keys(redis: RedisClient, prefix: str) -> list[str]:
    return sorted([k.decode() async for k in redis.scan_iter(match=f"{prefix}:*:lex:*")])


async def memory_per_chunk(redis: RedisClient, prefix: str, chunks: int) -> float:
    """What the index costs in Redis per chunk: MEMORY USAGE of every lex key, averaged."""
    total = 0
    for key in await lex_keys(redis, prefix):
        total += int(await redis.memory_usage(key, samples=0) or 0)
    return total / chunks


async def test_the_passage_with_the_asked_code_comes_first(
    index: LexicalIndex, shard: ShardKeys, tok: Tokenizer
) -> None:
    chunks = error_codes(tok)
    await index.add(shard, chunks)
    for i in (0, 11, 29):
        question = f"What does error E44-44{i + 60:02d} mean?"
        hits = await index.search([shard], tok.query_terms(question), k=3)
        assert hits[0].chunk_id == f"manual:{i}"
        assert hits[0].score > hits[1].score


async def test_a_rare_term_outranks_a_common_one(index: LexicalIndex, shard: ShardKeys) -> None:
    common: Chunks = [(f"d:{i}", {"pump": 1, "valv": 1}) for i in range(9)]
    await index.add(shard, [*common, ("d:9", {"zebra": 1, "valv": 1})])
    hits = await index.search([shard], ["pump", "zebra"], k=10)
    assert hits[0].chunk_id == "d:9"
    assert len(hits) == 10


async def test_scores_are_bm25_with_the_idf_of_query_time(
    index: LexicalIndex, shard: ShardKeys
) -> None:
    # Equal lengths: the write-time length normalisation is exact, so the scores are BM25's.
    await index.add(shard, [("d:0", {"a1": 2, "b1": 1}), ("d:1", {"a1": 1, "c1": 2})])
    await index.add(shard, [("d:2", {"c1": 3})])
    n, avgdl = 3, 3.0

    def bm25(tf: int, length: int, df: int) -> float:
        return idf(n, df) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / avgdl))

    hits = dict(await index.search([shard], ["a1", "c1"], k=10))
    assert hits["d:0"] == pytest.approx(bm25(2, 3, 2), rel=1e-9)
    assert hits["d:1"] == pytest.approx(bm25(1, 3, 2) + bm25(2, 3, 2), rel=1e-9)
    assert hits["d:2"] == pytest.approx(bm25(3, 3, 2), rel=1e-9)
    # idf follows the collection: remove d:2 and c1 becomes rarer, hence worth more.
    await index.remove(shard, ["d:2"])
    after = dict(await index.search([shard], ["c1"], k=10))
    assert after == {"d:1": pytest.approx(math.log(1 + 1.5 / 1.5) * 2 * (K1 + 1) / (2 + K1))}


async def test_add_then_remove_leaves_no_key_of_the_index(
    index: LexicalIndex, shard: ShardKeys, redis: Redis, prefix: str, tok: Tokenizer
) -> None:
    chunks = error_codes(tok)
    await index.add(shard, chunks)
    assert len(await lex_keys(redis, prefix)) > 30
    assert await index.stats(shard) == (30, sum(sum(t.values()) for _, t in chunks))
    assert await index.remove(shard, [cid for cid, _ in chunks]) == 30
    assert await lex_keys(redis, prefix) == []
    assert await index.remove(shard, ["manual:0", "never:1"]) == 0


async def test_a_replaced_chunk_leaves_no_stale_hit(
    index: LexicalIndex, shard: ShardKeys, redis: Redis, prefix: str
) -> None:
    await index.add(shard, [("d:0", {"oldterm": 3, "kept": 1}), ("d:1", {"kept": 1})])
    await index.add(shard, [("d:0", {"newterm": 1, "kept": 2})])
    assert await index.search([shard], ["oldterm"], k=5) == []
    assert [h.chunk_id for h in await index.search([shard], ["newterm"], k=5)] == ["d:0"]
    assert await index.stats(shard) == (2, 4)
    assert not any(":lex:t:oldterm" in k for k in await lex_keys(redis, prefix))
    # A replace by a chunk with no terms removes it from the index.
    await index.add(shard, [("d:0", {})])
    assert [h.chunk_id for h in await index.search([shard], ["kept"], k=5)] == ["d:1"]


async def test_written_in_the_same_multi_as_the_vectors(
    index: LexicalIndex, shard: ShardKeys, redis: Redis
) -> None:
    await store_texts(redis, shard, ["d:0"])
    async with redis.pipeline(transaction=True) as pipe:
        pipe.execute_command("VADD", shard.vectors, "VALUES", 2, 0.6, 0.8, "d:0")
        index.queue_add(pipe, shard, [("d:0", {"pump": 1})])
        await pipe.execute()
    assert [h.chunk_id for h in await index.search([shard], ["pump"], k=1)] == ["d:0"]
    async with redis.pipeline(transaction=True) as pipe:
        pipe.execute_command("VREM", shard.vectors, "d:0")
        index.queue_remove(pipe, shard, ["d:0"])
        assert await pipe.execute() == [1, 1]
    assert await index.search([shard], ["pump"], k=1) == []


async def test_a_chunk_whose_text_is_gone_is_not_indexed(
    shard: ShardKeys, redis: Redis, prefix: str
) -> None:
    # A writer (the backfill) that read a chunk just before its document was deleted must not
    # leave postings the delete already missed.
    index = LexicalIndex(redis)
    await index.add(shard, [("d:0", {"pump": 1})])
    assert await index.search([shard], ["pump"], k=1) == []
    assert await lex_keys(redis, prefix) == []


async def test_a_bad_chunk_queues_nothing(
    index: LexicalIndex, shard: ShardKeys, redis: Redis, prefix: str
) -> None:
    bad: list[Chunks] = [
        [("d:0", {"ok": 1}), ("no-position", {"ok": 1})],
        [("d:0", {"ok": 1}), ("d:1 x", {"ok": 1})],
        [("d:0", {"two words": 1})],
        [("d:0", {"": 1})],
        [("d:0", {"x" * 257: 1})],
        [("d:0", {"ok": 0})],
        [("d:0", {"ok": True})],
        [("d:0", {"ok": 2**31})],
        [("d:0", {"ok": "1"})],  # type: ignore[dict-item]
        [("{c:other}:0", {"ok": 1})],
    ]
    for chunks in bad:
        with pytest.raises(InvalidInput):
            await index.add(shard, chunks)
    with pytest.raises(InvalidInput):
        await index.remove(shard, ["../../etc:1"])
    assert await lex_keys(redis, prefix) == []


async def test_hostile_queries_are_bounded(
    index: LexicalIndex, shard: ShardKeys, tok: Tokenizer
) -> None:
    await index.add(shard, error_codes(tok))
    # Garbage terms are ignored, duplicates and a huge k are harmless.
    assert await index.search([shard], ["", "a b", "x" * 10_000, "\x00"], k=5) == []
    many = [f"t{i}" for i in range(100_000)] + ["pump"]
    assert await index.search([shard], many, k=5) == []  # only the first 64 terms count
    hits = await index.search([shard], ["pump"] * 1000, k=10**9)
    assert len(hits) == 30
    assert await index.search([shard], ["pump"], k=-5) != []
    assert await index.search([], ["pump"], k=5) == []
    # Glob and brace characters in a term stay inside its key.
    assert await index.search([shard], ["*", "{c:x}", "?"], k=5) == []


async def test_a_term_of_any_script_round_trips(index: LexicalIndex, shard: ShardKeys) -> None:
    await index.add(shard, [("d:0", {"שלום": 1, "مرحبا": 2, "§12.3": 1, "naïve": 1})])
    for term in ("שלום", "مرحبا", "§12.3", "naïve"):
        assert [h.chunk_id for h in await index.search([shard], [term], k=1)] == ["d:0"]


async def test_sharded_search_uses_the_collection_s_idf(
    index: LexicalIndex, prefix: str, redis: Redis
) -> None:
    ck = Keys(prefix).collection("docs")
    chunks: Chunks = [(f"doc{i}:0", {"pump": 1, f"w{i % 4}": 1}) for i in range(24)]
    chunks.append(("rare:0", {"zebra": 1, "pump": 1}))
    single = ck.shard(0, 1)
    await index.add(single, chunks)
    shards = ck.shards(3)
    for cid, terms in chunks:
        await index.add(ck.shard_for(cid.split(":")[0], 3), [(cid, terms)])
    assert all(n > 0 for n, _ in [await index.stats(s) for s in shards])
    for query in (["zebra", "pump"], ["w1"], ["pump", "w2", "w3"]):
        one = await index.search([single], query, k=8)
        three = await index.search(shards, query, k=8)
        assert [h.chunk_id for h in three] == [h.chunk_id for h in one]
        assert [h.score for h in three] == pytest.approx([h.score for h in one], rel=1e-9)


async def test_memory_per_chunk_is_reported(
    index: LexicalIndex, shard: ShardKeys, redis: Redis, prefix: str, tok: Tokenizer
) -> None:
    paragraph = (
        "To replace the feed pump of unit {n}, switch off the mains, close valve V{n}-A and "
        "drain the circuit. Remove the four M6 screws, disconnect connector X{n} and lift the "
        "pump out. Fit the new pump with a fresh gasket (part GK-{n}0), tighten to 9 Nm, reopen "
        "the valve and check for leaks. Error E44-{n} clears once the pump reaches 40 °C."
    )
    chunks: Chunks = [(f"m:{n}", tok.index_terms(paragraph.format(n=n))) for n in range(500)]
    await index.add(shard, chunks)
    per_chunk = await memory_per_chunk(redis, prefix, len(chunks))
    terms = sum(len(t) for _, t in chunks) / len(chunks)
    print(f"lexical index: {per_chunk:.0f} bytes per chunk of {terms:.0f} distinct terms")
    assert 0 < per_chunk < 16_384


# -- a real three-node cluster ------------------------------------------------------------


@pytest.fixture
async def cluster_client(redis_cluster: LocalCluster) -> AsyncIterator[RedisClient]:
    client = await connect(redis_cluster.url)
    assert isinstance(client, RedisCluster)
    yield client
    await client.aclose()


async def test_add_search_remove_on_a_cluster(
    cluster_client: RedisClient, prefix: str, tok: Tokenizer
) -> None:
    index = Indexed(cluster_client)
    ck = Keys(prefix).collection("docs")
    shards = ck.shards(3)
    chunks = [(f"doc{i}:0", terms) for i, (_, terms) in enumerate(error_codes(tok))]
    by_shard: dict[int, Chunks] = {}
    for cid, terms in chunks:
        by_shard.setdefault(ck.shard_for(cid.split(":")[0], 3).index, []).append((cid, terms))
    assert len(by_shard) > 1
    for i, part in by_shard.items():
        await store_texts(cluster_client, shards[i], [cid for cid, _ in part])
        async with cluster_client.pipeline(transaction=True) as pipe:
            index.queue_add(pipe, shards[i], part)
            await pipe.execute()
    hits = await index.search(shards, tok.query_terms("error E44-4471"), k=3)
    assert hits[0].chunk_id == "doc11:0"
    for i, part in by_shard.items():
        assert await index.remove(shards[i], [cid for cid, _ in part]) == len(part)
    assert await index.search(shards, ["pump"], k=3) == []
    left = [k async for k in cluster_client.scan_iter(match=f"{prefix}:*:lex:*")]
    assert left == []


async def test_frequent_terms_are_scored_exactly_on_their_best_postings(
    redis: Redis, shard: ShardKeys, prefix: str
) -> None:
    # Every chunk has "pump" and "valv" (more than `depth` postings each); three have "zebra".
    chunks: Chunks = [(f"d:{i}", {"pump": 1 + i % 5, "valv": 1 + i % 3}) for i in range(60)]
    chunks += [(f"z:{i}", {"zebra": 1, "pump": 1 + i, "valv": 1}) for i in range(3)]
    shallow, deep = Indexed(redis, depth=5), Indexed(redis, depth=10_000)
    await deep.add(shard, chunks)
    # A rare term's postings are all candidates: its chunks are found as an exact search does.
    exact = await deep.search([shard], ["zebra", "pump", "valv"], k=3)
    found = await shallow.search([shard], ["zebra", "pump", "valv"], k=3)
    assert [h.chunk_id for h in found] == [h.chunk_id for h in exact] == ["z:0", "z:1", "z:2"]
    assert [h.score for h in found] == pytest.approx([h.score for h in exact], rel=1e-12)
    # Frequent terms only: the candidates are each term's best postings (an approximation:
    # docs/redis-layout.md), and every candidate's score is its exact score.
    for query in (["pump", "valv"], ["pump"]):
        every = dict(await deep.search([shard], query, k=1000))
        found = await shallow.search([shard], query, k=3)
        assert len(found) == 3
        assert [h.score for h in found] == pytest.approx([every[h.chunk_id] for h in found])
        assert [h.score for h in found] == sorted((h.score for h in found), reverse=True)
    # The search's scratch keys are gone when it returns.
    assert not any(":lex:tmp" in k for k in await lex_keys(redis, prefix))


async def test_a_stopped_node_makes_a_cluster_search_partial(
    cluster_client: RedisClient, redis_cluster: LocalCluster, prefix: str, tok: Tokenizer
) -> None:
    index = Indexed(cluster_client, shard_timeout=1.0)
    ck = Keys(prefix).collection("docs")
    shards = ck.shards(3)
    chunks = [(f"doc{i}:0", terms) for i, (_, terms) in enumerate(error_codes(tok))]
    for cid, terms in chunks:
        await index.add(ck.shard_for(cid.split(":")[0], 3), [(cid, terms)])
    full = await index.search_all(shards, ["pump"], k=30)
    assert not full.partial
    assert len(full.hits) == 30
    victim_shard = ck.shard_for("doc11", 3)
    slot = key_slot(victim_shard.lex_stats.encode())
    victim = redis_cluster.node_for_slot(slot)
    victim.stop()
    try:
        partial = await index.search_all(shards, tok.query_terms("error E44-4471"), k=30)
        assert partial.partial
        assert 0 < len(partial.hits) < 30
        assert "doc11:0" not in {h.chunk_id for h in partial.hits}
    finally:
        redis_cluster.restart(victim)
    for cid, _ in chunks:
        await index.remove(ck.shard_for(cid.split(":")[0], 3), [cid])
    assert [k async for k in cluster_client.scan_iter(match=f"{prefix}:*:lex:*")] == []
