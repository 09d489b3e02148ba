"""`/index` as an NDJSON stream (`Accept: application/x-ndjson`): a `progress` line per written
batch with real embeddings, then the result or the error; a client that leaves cancels the
indexing and nothing of the document is kept."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from redis.asyncio import Redis

from ragis.store import Keys
from support.fixtures import RagFactory, rag_client
from support.texts import index_body

STREAM = {"Accept": "application/x-ndjson"}


def key(prefix: str, suffix: str) -> str:
    return f"{Keys(prefix).collection('default').base}:{suffix}"


def sentences(n: int, seed: str = "pump") -> list[str]:
    return [
        f"Step {i} of the {seed} manual: check valve {i} and note the pressure." for i in range(n)
    ]


async def lines(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if line:
            yield json.loads(line)


@asynccontextmanager
async def service(start_rag: RagFactory, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    with start_rag(**settings) as url:
        async with rag_client(url, timeout=120) as client:
            yield client


async def test_progress_lines_follow_each_written_batch_then_the_result(
    start_rag: RagFactory, redis: Redis, prefix: str
) -> None:
    async with service(start_rag, embed_batch_size=4) as rag:
        body = index_body("pump.txt", sentences(10), doc_id="pump")
        async with rag.stream("POST", "/index", json=body, headers=STREAM) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("application/x-ndjson")
            got = [line async for line in lines(response)]
    progress = [g for g in got if g["type"] == "progress"]
    assert [(p["embedded"], p["total"]) for p in progress] == [(4, 10), (8, 10), (10, 10)]
    assert got[-1]["type"] == "result"
    assert got[-1]["document_id"] == "pump"
    assert got[-1]["chunks"] == 10
    assert got[-1]["duplicate"] is False
    assert len(got) == 4
    assert await redis.hget(key(prefix, "doc:pump"), "status") == b"ready"
    assert await redis.execute_command("VCARD", key(prefix, "vectors")) == 10


async def test_a_duplicate_streams_only_its_result(rag: httpx.AsyncClient) -> None:
    assert (await rag.post("/index", json=index_body("bread.txt", doc_id="a"))).status_code == 200
    body = index_body("bread.txt", doc_id="b")
    async with rag.stream("POST", "/index", json=body, headers=STREAM) as response:
        got = [line async for line in lines(response)]
    assert [g["type"] for g in got] == ["result"]
    assert got[0]["duplicate"] is True
    assert got[0]["document_id"] == "a"


async def test_a_failure_midway_is_an_error_line_and_stores_nothing(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    """The collection holds vectors of another dimension: the indexing fails, which the stream
    reports as its last line."""
    made = await rag.post("/index", json=index_body("chess.txt", doc_id="chess"))
    assert made.status_code == 200
    await redis.hset(key(prefix, "meta"), "dim", 3)
    version = await redis.hget(key(prefix, "meta"), "version")
    body = index_body("volcano.md", doc_id="etna")
    async with rag.stream("POST", "/index", json=body, headers=STREAM) as response:
        assert response.status_code == 200
        got = [line async for line in lines(response)]
    assert got[-1]["type"] == "error"
    assert got[-1]["status"] >= 400
    assert set(got[-1]["error"]) == {"code", "message"}
    assert not await redis.exists(key(prefix, "doc:etna"))
    assert await redis.hget(key(prefix, "meta"), "version") == version


async def test_the_requests_own_checks_still_answer_json_before_any_line(
    start_rag: RagFactory,
) -> None:
    async with service(start_rag, index_max_chunks=3) as rag:
        too_many = await rag.post("/index", json=index_body("x.txt", sentences(4)), headers=STREAM)
        assert too_many.status_code == 413
        assert too_many.json()["error"]["code"] == "too_large"
        malformed = await rag.post("/index", json={"chunks": "nope"}, headers=STREAM)
        assert malformed.status_code == 422
        assert "error" in malformed.json()


async def test_without_the_accept_header_the_answer_is_json_as_before(
    rag: httpx.AsyncClient,
) -> None:
    response = await rag.post("/index", json=index_body("volcano.md", doc_id="etna"))
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["document_id"] == "etna"


async def test_a_client_that_leaves_mid_embedding_stores_nothing(
    start_rag: RagFactory, redis: Redis, prefix: str
) -> None:
    """Closed after the first progress line: the service cancels the indexing and removes what
    it wrote. The lease is long, so recovery (after the lease lapses) cannot be what removed
    it; the collection's version stays where it was (nothing was ever searchable)."""
    async with service(start_rag, embed_batch_size=2, index_lease=3600) as rag:
        first = await rag.post("/index", json=index_body("chess.txt", doc_id="chess"))
        assert first.status_code == 200
        version = await redis.hget(key(prefix, "meta"), "version")
        body = index_body("pump.txt", sentences(400), doc_id="pump")
        async with rag.stream("POST", "/index", json=body, headers=STREAM) as response:
            async for line in lines(response):
                assert line["type"] == "progress"
                break
        # The stream is closed; the service may still be removing the chunks.
        assert await gone(redis, prefix, "pump")
        assert await redis.hget(key(prefix, "meta"), "version") == version
        assert await redis.execute_command("VCARD", key(prefix, "vectors")) == 2
        listed = (await rag.get("/collections/default/documents")).json()["documents"]
        assert [d["id"] for d in listed] == ["chess"]


async def gone(redis: Redis, prefix: str, doc_id: str, within: float = 120.0) -> bool:
    """Whether every key of `doc_id` is gone (record, lease, chunks, vectors, the ingesting
    set), waiting for the service's cleanup to finish."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        chunks = [k async for k in redis.scan_iter(match=key(prefix, f"chunk:{doc_id}:*"))]
        lex = [k async for k in redis.scan_iter(match=key(prefix, f"lex:c:{doc_id}:*"))]
        left = (
            chunks
            or lex
            or await redis.exists(key(prefix, f"doc:{doc_id}"), key(prefix, f"lease:{doc_id}"))
            or await redis.sismember(key(prefix, "ingesting"), doc_id)
            or await redis.zscore(key(prefix, "docs"), doc_id) is not None
            or await redis.execute_command("VISMEMBER", key(prefix, "vectors"), f"{doc_id}:0")
        )
        if not left:
            return True
        await asyncio.sleep(0.05)
    return False
