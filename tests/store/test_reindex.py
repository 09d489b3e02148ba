"""Reindex: a real collection moved from the built-in model to a second real model (the same
vectors turned into another 512-dim space), side by side, with questions, uploads and deletes
going on meanwhile, interrupted and resumed, and refused when it must be."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from ragis.db import connect
from ragis.embedding import Embedder
from ragis.errors import Conflict, InvalidInput, NotFound
from ragis.rag.indexing import IndexService
from ragis.settings import Settings, load_settings
from ragis.store import ChunkText, DocumentRecord, Store
from support.cluster import LocalCluster
from support.rotated import RotatedEmbedder

TOPICS = {
    "etna": "Mount Etna is an active stratovolcano on the east coast of Sicily",
    "bread": "Sourdough bread rises with a starter of wild yeast and lactic acid bacteria",
    "chess": "In chess, castling moves the king two squares toward a rook",
    "pump": "The centrifugal pump needs its priming valve opened before it starts",
    "tide": "Spring tides happen when the sun and the moon line up with the earth",
}
QUESTIONS = {
    "etna": "Which volcano is on the coast of Sicily?",
    "bread": "What makes sourdough rise?",
    "chess": "How does castling move the king?",
    "pump": "What must be opened before the pump starts?",
    "tide": "When do spring tides happen?",
}
CHUNKS = 12  # per document


def texts(topic: str, n: int = CHUNKS) -> list[str]:
    return [f"{TOPICS[topic]} (note {i}: {topic} detail number {i})." for i in range(n)]


async def ingest(store: Store, indexer: IndexService, doc_id: str, chunks: list[str]) -> None:
    data = "\n".join(chunks).encode()
    record = DocumentRecord(
        id=doc_id, filename=f"{doc_id}.txt", content_type="text/plain", size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), tags=[doc_id],
    )  # fmt: skip
    contents = [ChunkText(text=t, position=i) for i, t in enumerate(chunks)]
    await indexer.index("docs", record, contents, workspace=store.workspace)


async def top_doc(store: Store, embedder: Embedder, question: str) -> str:
    vector = (await embedder.embed([question]))[0]
    found = await store.retriever.search("docs", vector, k=3, mode="vector")
    return found[0].chunk.doc_id


async def corpus(store: Store, embedder: Embedder, topics: list[str] | None = None) -> None:
    indexer = IndexService(store, embedder, batch_size=16)
    for topic in topics or list(TOPICS):
        await ingest(store, indexer, topic, texts(topic))


async def elements(redis: Redis, key: str) -> set[str]:
    reply = await redis.execute_command("VRANDMEMBER", key, 100_000) or []
    return {e.decode() for e in reply}


async def written(redis: Redis, done: str) -> int:
    """Chunks the reindex in progress has written, by its progress hash."""
    return sum(int(v.rsplit(b":", 1)[1]) for v in (await redis.hgetall(done)).values())


@pytest.fixture
def rotated(embedder: Embedder) -> RotatedEmbedder:
    return RotatedEmbedder(embedder)


async def test_a_reindex_moves_every_chunk_to_the_new_model_and_questions_find_the_same(
    store: Store, embedder: Embedder, rotated: RotatedEmbedder, redis: Redis
) -> None:
    await corpus(store, embedder)
    before = {t: await top_doc(store, embedder, q) for t, q in QUESTIONS.items()}
    assert before == {t: t for t in TOPICS}
    old = await store.collections.require("docs")
    ck = store.keys.collection("docs")
    await redis.execute_command("VADD", ck.cache, "VALUES", 2, 1, 0, "q")
    seen: list[tuple[int, int]] = []

    result = await store.reindexer.run(
        "docs", rotated, batch_size=16, progress=lambda d, t: seen.append((d, t))
    )

    total = CHUNKS * len(TOPICS)
    assert (result.previous_model, result.model, result.dim) == (old.model, rotated.model_name, 512)
    assert (result.embedded, result.chunks, result.documents) == (total, total, len(TOPICS))
    assert not result.resumed
    assert not result.unchanged
    info = await store.collections.require("docs")
    assert (info.model, info.dim) == ("openai:rotated", 512)
    assert result.version == info.version > old.version
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # Every chunk embedded once, by the new model, with its attributes.
    assert sorted(rotated.texts) == sorted(t for topic in TOPICS for t in texts(topic))
    assert await redis.execute_command("VCARD", ck.vectors) == total
    assert await redis.execute_command("VDIM", ck.vectors) == 512
    attrs = await redis.execute_command("VGETATTR", ck.vectors, "etna:3")
    assert b'"doc":"etna"' in attrs
    assert b'"tags":["etna"]' in attrs
    assert b'"pos":3' in attrs
    # The swap left nothing of the reindex, and the old model's cached questions are gone.
    for key in (ck.shard(0, 1).vectors_next, ck.reindex, ck.reindex_done):
        assert not await redis.exists(key)
    assert not await redis.exists(ck.cache)
    assert await store.reindexer.state("docs") is None
    after = {t: await top_doc(store, rotated, q) for t, q in QUESTIONS.items()}
    assert after == before
    # The old model's vectors no longer fit the collection.
    with pytest.raises(InvalidInput):
        await top_doc(store, embedder, QUESTIONS["etna"])


async def test_questions_are_answered_from_the_old_vectors_during_the_reindex(
    store: Store, embedder: Embedder, rotated: RotatedEmbedder
) -> None:
    await corpus(store, embedder)
    rotated.pause_after = 16
    task = asyncio.create_task(store.reindexer.run("docs", rotated, batch_size=16))
    await rotated.paused.wait()
    state = await store.reindexer.state("docs")
    assert state is not None
    assert state.running
    assert state.model == "openai:rotated"
    assert (await store.collections.require("docs")).model == embedder.model_name
    for topic, question in QUESTIONS.items():
        assert await top_doc(store, embedder, question) == topic
    rotated.resume()
    await task
    for topic, question in QUESTIONS.items():
        assert await top_doc(store, rotated, question) == topic


async def test_an_interrupted_reindex_resumes_where_it_stopped(
    store: Store, embedder: Embedder, redis: Redis
) -> None:
    await corpus(store, embedder)
    first = RotatedEmbedder(embedder)
    first.pause_after = 32
    task = asyncio.create_task(store.reindexer.run("docs", first, batch_size=16))
    await first.paused.wait()
    done = store.keys.collection("docs").reindex_done
    while await written(redis, done) < 32:  # the second batch is being written
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    state = await store.reindexer.state("docs")
    assert state is not None
    assert not state.running
    assert state.documents_done >= 1
    # Another model is refused while this one is half done ...
    with pytest.raises(Conflict, match="openai:rotated"):
        await store.reindexer.run("docs", RotatedEmbedder(embedder, "ollama:other"))
    # ... and the same model picks up where it was: no chunk embedded twice.
    second = RotatedEmbedder(embedder)
    result = await store.reindexer.run("docs", second, batch_size=16)
    total = CHUNKS * len(TOPICS)
    assert result.resumed
    assert len(first.texts) == 32
    assert len(second.texts) == total - 32
    assert sorted(first.texts + second.texts) == sorted(t for x in TOPICS for t in texts(x))
    assert await redis.execute_command("VCARD", store.keys.collection("docs").vectors) == total
    for topic, question in QUESTIONS.items():
        assert await top_doc(store, second, question) == topic


async def test_restart_drops_a_half_done_reindex_to_another_model(
    store: Store, embedder: Embedder
) -> None:
    await corpus(store, embedder, ["etna", "bread"])
    first = RotatedEmbedder(embedder)
    first.pause_after = 16
    task = asyncio.create_task(store.reindexer.run("docs", first, batch_size=16))
    await first.paused.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    other = RotatedEmbedder(embedder, "ollama:other", dim=448)
    result = await store.reindexer.run("docs", other, restart=True)
    assert not result.resumed
    assert len(other.texts) == 2 * CHUNKS
    info = await store.collections.require("docs")
    assert (info.model, info.dim) == ("ollama:other", 448)
    assert await top_doc(store, other, QUESTIONS["bread"]) == "bread"


async def test_documents_ingested_and_deleted_during_the_reindex_are_right_after_it(
    store: Store, embedder: Embedder, rotated: RotatedEmbedder, redis: Redis
) -> None:
    await corpus(store, embedder, ["etna", "bread", "chess", "pump"])
    rotated.pause_after = 2 * CHUNKS  # etna and bread done
    task = asyncio.create_task(store.reindexer.run("docs", rotated, batch_size=CHUNKS))
    await rotated.paused.wait()
    # While it runs: a new document (embedded by the old model, as uploads still are), one
    # document done already deleted, one done re-tagged, and one not yet done deleted.
    await ingest(store, IndexService(store, embedder, batch_size=8), "tide", texts("tide"))
    await store.documents.delete("docs", "etna")
    await store.documents.delete("docs", "pump")
    await store.documents.set_tags("docs", "bread", ["baking"])
    rotated.resume()
    result = await task
    assert (result.documents, result.chunks) == (3, 3 * CHUNKS)
    ck = store.keys.collection("docs")
    ids = await elements(redis, ck.vectors)
    assert ids == {f"{d}:{i}" for d in ("bread", "chess", "tide") for i in range(CHUNKS)}
    attrs = await redis.execute_command("VGETATTR", ck.vectors, "bread:0")
    assert b'"tags":["baking"]' in attrs
    assert await top_doc(store, rotated, QUESTIONS["tide"]) == "tide"
    assert await top_doc(store, rotated, QUESTIONS["chess"]) == "chess"


async def test_a_second_reindex_of_the_same_collection_is_refused_while_one_runs(
    store: Store, embedder: Embedder, rotated: RotatedEmbedder
) -> None:
    await corpus(store, embedder, ["etna"])
    rotated.pause_after = 0
    task = asyncio.create_task(store.reindexer.run("docs", rotated))
    await rotated.paused.wait()
    with pytest.raises(Conflict, match="already running"):
        await store.reindexer.run("docs", RotatedEmbedder(embedder))
    rotated.resume()
    assert (await task).embedded == CHUNKS


async def test_a_reindex_to_the_model_it_has_does_nothing_unless_forced(
    store: Store, embedder: Embedder, redis: Redis
) -> None:
    await corpus(store, embedder, ["chess"])
    version = await store.collections.version("docs")
    result = await store.reindexer.run("docs", embedder)
    assert result.unchanged
    assert result.embedded == 0
    assert result.chunks == CHUNKS
    assert await store.collections.version("docs") == version
    forced = await store.reindexer.run("docs", embedder, force=True)
    assert not forced.unchanged
    assert forced.embedded == CHUNKS
    assert await store.collections.version("docs") == version + 1
    assert await top_doc(store, embedder, QUESTIONS["chess"]) == "chess"


async def test_a_sharded_collection_is_reindexed_shard_by_shard(
    redis: Redis, settings: Settings, embedder: Embedder, rotated: RotatedEmbedder
) -> None:
    store = Store.create(redis, settings.model_copy(update={"shards": 3}))
    await corpus(store, embedder)
    ck = store.keys.collection("docs")
    before = [await redis.execute_command("VCARD", s.vectors) for s in ck.shards(3)]
    await store.reindexer.run("docs", rotated, batch_size=20)
    info = await store.collections.require("docs")
    assert info.shards == 3
    assert info.model == "openai:rotated"
    # Each shard holds what it held, in the new model (a shard may hold no document).
    assert [await redis.execute_command("VCARD", s.vectors) for s in ck.shards(3)] == before
    assert sum(before) == CHUNKS * len(TOPICS)
    assert not any([await redis.exists(s.vectors_next) for s in ck.shards(3)])
    for topic, question in QUESTIONS.items():
        assert await top_doc(store, rotated, question) == topic


@pytest.mark.parametrize(
    "model", ["", "openai:" + "x" * 300, "openai:bad\nname", "ollama:\x00", "m\x7f"]
)
async def test_a_hostile_model_id_is_refused_before_anything_is_written(
    store: Store, embedder: Embedder, redis: Redis, model: str
) -> None:
    with pytest.raises(InvalidInput):
        await store.reindexer.run("docs", RotatedEmbedder(embedder, model))
    assert await store.reindexer.state("docs") is None
    assert not await redis.keys(f"{store.keys.prefix}:*")


async def test_an_unknown_or_invalid_collection_is_refused(
    store: Store, rotated: RotatedEmbedder
) -> None:
    with pytest.raises(NotFound):
        await store.reindexer.run("nothing", rotated)
    with pytest.raises(InvalidInput):
        await store.reindexer.run("../etc", rotated)


@pytest.mark.parametrize("shards", [1, 3])
async def test_a_reindex_on_a_redis_cluster_swaps_every_shard(
    redis_cluster: LocalCluster, prefix: str, embedder: Embedder, shards: int
) -> None:
    client = await connect(redis_cluster.url)
    assert isinstance(client, RedisCluster)
    try:
        settings = load_settings(redis_url=redis_cluster.url, key_prefix=prefix, shards=shards)
        store = Store.create(client, settings)
        await corpus(store, embedder, ["etna", "bread", "chess", "tide"])
        rotated = RotatedEmbedder(embedder)
        result = await store.reindexer.run("docs", rotated, batch_size=20)
        assert result.chunks == 4 * CHUNKS
        info = await store.collections.require("docs")
        assert (info.model, info.dim, info.shards) == ("openai:rotated", 512, shards)
        ck = store.keys.collection("docs")
        counts = [await client.execute_command("VCARD", s.vectors) for s in ck.shards(shards)]
        assert sum(counts) == 4 * CHUNKS
        for shard in ck.shards(shards):
            assert not await client.exists(shard.vectors_next)
        for topic in ("etna", "bread", "chess", "tide"):
            assert await top_doc(store, rotated, QUESTIONS[topic]) == topic
    finally:
        await client.aclose()
