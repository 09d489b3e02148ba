"""Back up a real RAG service's data, restore it into a fresh Redis, and the same questions get
the same citations; a backup taken while documents are being ingested restores every ready
document whole."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import redis as sync_redis
from redis.asyncio import Redis

from ragis.db import EmbeddedRedis
from ragis.db.format import LEGACY_FORMAT, read_format
from ragis.ops.backup import backup
from ragis.ops.restore import restore
from ragis.ops.snapshot import SnapshotReader
from ragis.settings import Settings
from ragis.store import Keys
from support.fixtures import RagFactory, rag_client
from support.http import collect_events
from support.legacy import WIDE, build_legacy
from support.texts import index_all, index_body

QUESTIONS = [
    "Where is Mount Etna?",
    "How hot should the oven be for sourdough bread?",
    "What does castling move in chess?",
]

WORDS = ["river", "mountain", "harbour", "lantern", "copper", "meadow", "violin", "glacier"]


async def citations(rag: httpx.AsyncClient, question: str) -> list[tuple[Any, ...]]:
    events = await collect_events(rag, "/chat/stream", {"message": question, "fresh": True})
    found = next(e for e in events if e.type == "citations").data["citations"]
    return [(c["n"], c["doc_id"], c["filename"], c["text"], round(c["score"], 4)) for c in found]


async def test_back_up_restore_elsewhere_and_the_same_questions_get_the_same_citations(
    start_rag: RagFactory, redis_server: EmbeddedRedis, prefix: str, tmp_path: Path
) -> None:
    with start_rag() as url:
        async with rag_client(url) as rag:
            await index_all(rag)
            before = [await citations(rag, q) for q in QUESTIONS]
    assert all(before)
    path = tmp_path / "ragis.backup"
    await asyncio.to_thread(backup, redis_server.url, prefix, path)

    # A fresh data dir, as after losing the machine: restored, then served by a new service.
    data = tmp_path / "restored"
    summary = await asyncio.to_thread(restore, path, prefix, data_dir=data)
    assert summary.keys > 0
    with EmbeddedRedis(data, port=0) as server, start_rag(redis_url=server.url) as url:
        async with rag_client(url) as rag:
            after = [await citations(rag, q) for q in QUESTIONS]
            listed = (await rag.get("/collections/default/documents")).json()
    assert after == before
    assert {d["filename"] for d in listed["documents"]} == {"volcano.md", "bread.txt", "chess.txt"}


def big_document(chunks: int, seed: int) -> list[str]:
    return [
        " ".join(WORDS[(i * 7 + j * 3 + seed) % len(WORDS)] for j in range(24)) + f" part {i}."
        for i in range(chunks)
    ]


async def unfinished(redis: Redis, prefix: str) -> int:
    return int(await redis.scard(Keys(prefix).collection("default").ingesting))


def whole_documents(client: sync_redis.Redis, prefix: str) -> tuple[int, int]:
    """(ready documents, others) of the collection `default`; fails on a ready document that
    misses a chunk or a vector."""
    ck = Keys(prefix).collection("default")
    ready = others = 0
    for doc_id in client.zrange(ck.docs, 0, -1):
        record = client.hgetall(ck.doc(doc_id.decode()))
        if record.get(b"status") != b"ready":
            others += 1
            continue
        ready += 1
        for pos in range(int(record[b"chunk_count"])):
            element = f"{doc_id.decode()}:{pos}"
            assert client.exists(ck.chunk(element)), f"chunk {element} missing"
            assert client.execute_command("VISMEMBER", ck.vectors, element), element
    return ready, others


async def test_a_backup_taken_during_an_ingest_restores_every_ready_document_whole(
    start_rag: RagFactory, redis_server: EmbeddedRedis, redis: Redis, prefix: str, tmp_path: Path
) -> None:
    path = tmp_path / "during.backup"
    with start_rag() as url:
        async with rag_client(url, timeout=300) as rag:
            await index_all(rag)

            async def ingest() -> None:
                for i in range(4):
                    body = index_body(f"big{i}.txt", big_document(24, seed=i))
                    response = await rag.post("/index", json=body)
                    assert response.status_code == 200, response.text

            writer = asyncio.create_task(ingest())
            while not await unfinished(redis, prefix) and not writer.done():
                await asyncio.sleep(0.01)
            await asyncio.to_thread(backup, redis_server.url, prefix, path)
            await writer

    data = tmp_path / "restored"
    await asyncio.to_thread(restore, path, prefix, data_dir=data)
    with EmbeddedRedis(data, port=0) as server:
        client = sync_redis.Redis.from_url(server.url)
        try:
            # A document copied half-written is `ingesting` with its lease: once that lease
            # has expired, the RAG service's recovery removes it (tests/rag/test_crash_recovery).
            ready, _ = whole_documents(client, prefix)
            assert ready >= 3
        finally:
            client.close()


async def test_data_of_an_older_format_is_restored_as_it_is_and_migrated_by_the_service(
    start_rag: RagFactory, redis_server: EmbeddedRedis, redis: Redis, settings: Settings,
    prefix: str, tmp_path: Path,
) -> None:  # fmt: skip
    await build_legacy(redis, settings)
    path = tmp_path / "legacy.backup"
    await asyncio.to_thread(backup, redis_server.url, prefix, path)
    with SnapshotReader(path) as reader:
        assert reader.header["data_format"] == LEGACY_FORMAT
        names = {(c["workspace"], c["name"]) for c in reader.header["collections"]}
    assert names == {(None, "docs"), (None, "wide")}

    data = tmp_path / "restored"
    await asyncio.to_thread(restore, path, prefix, data_dir=data)
    with EmbeddedRedis(data, port=0) as server:
        target = Redis.from_url(server.url)
        try:
            assert await read_format(target, prefix) is None  # as it was: format 1
            with start_rag(redis_url=server.url) as url:
                assert await read_format(target, prefix) == 2
                async with rag_client(url) as rag:
                    collections = (await rag.get("/collections")).json()["collections"]
        finally:
            await target.aclose()
    assert [(c["name"], c["documents"]) for c in collections] == [("docs", 2), ("wide", len(WIDE))]
