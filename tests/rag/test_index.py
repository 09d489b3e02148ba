from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from ragis.store import Keys
from support.texts import index_body


def key(prefix: str, suffix: str) -> str:
    """A key of the collection `default` of the workspace `default`."""
    return f"{Keys(prefix).collection('default').base}:{suffix}"


async def test_index_embeds_and_writes_every_chunk(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    response = await rag.post("/index", json=index_body("volcano.md", doc_id="etna"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["document_id"] == "etna"
    assert body["chunks"] == 2
    assert body["duplicate"] is False
    assert body["replaced"] is False
    assert body["version"] == 1
    assert set(body["timings"]) == {"embed_ms", "write_ms", "total_ms"}
    assert await redis.execute_command("VCARD", key(prefix, "vectors")) == 2
    assert await redis.hget(key(prefix, "doc:etna"), "status") == b"ready"


async def test_the_same_bytes_again_are_a_duplicate_without_new_work(
    rag: httpx.AsyncClient,
) -> None:
    first = (await rag.post("/index", json=index_body("bread.txt", doc_id="a"))).json()
    again = (await rag.post("/index", json=index_body("bread.txt", doc_id="b"))).json()
    assert again["duplicate"] is True
    assert again["document_id"] == "a"
    assert again["version"] == first["version"]
    assert again["timings"]["embed_ms"] == 0
    # Another collection is another corpus: not a duplicate there.
    other = (await rag.post("/index", json=index_body("bread.txt", collection="other"))).json()
    assert other["duplicate"] is False


async def test_reindexing_the_same_id_replaces_its_old_chunks(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    await rag.post("/index", json=index_body("x.txt", ["one", "two", "three"], doc_id="d"))
    response = await rag.post("/index", json=index_body("x.txt", ["only one now"], doc_id="d"))
    assert response.json()["replaced"] is True
    assert await redis.execute_command("VCARD", key(prefix, "vectors")) == 1
    assert not await redis.exists(key(prefix, "chunk:d:1"))
    assert await redis.hget(key(prefix, "chunk:d:0"), "text") == b"only one now"


async def test_delete_removes_the_document(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    await rag.post("/index", json=index_body("chess.txt", doc_id="c1"))
    response = await rag.delete("/index/default/c1")
    assert response.status_code == 200
    assert response.json()["deleted"] is True
    assert await redis.execute_command("VCARD", key(prefix, "vectors")) == 0
    missing = await rag.delete("/index/default/c1")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def _mutate(body: dict, path: list, value: object) -> dict:
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


@pytest.mark.parametrize(
    ("path", "value", "status"),
    [
        (["chunks"], [], 422),
        (["chunks", 0, "text"], "", 422),
        (["chunks", 0, "position"], -1, 422),
        (["chunks", 1, "position"], 0, 422),
        (["chunks", 0, "page"], 0, 422),
        (["collection"], "bad name!", 422),
        (["collection"], "a{b}", 422),
        (["document", "id"], "../../etc", 422),
        (["document", "id"], "a:b", 422),
        (["document", "sha256"], "xyz", 422),
        (["document", "size"], -5, 422),
        (["document", "filename"], "", 422),
        (["chunks", 0, "text"], "x" * 30_000, 413),
    ],
)
async def test_bad_index_requests_are_refused_and_store_nothing(
    rag: httpx.AsyncClient, redis: Redis, prefix: str, path: list, value: object, status: int
) -> None:
    body = _mutate(index_body("volcano.md"), path, value)
    response = await rag.post("/index", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    assert [k async for k in redis.scan_iter(match=f"{prefix}:w:*")] == []


async def test_delete_with_a_bad_name_is_a_422(rag: httpx.AsyncClient) -> None:
    assert (await rag.delete("/index/default/a%3Ab")).status_code == 422
    assert (await rag.delete("/index/no%20pe/x")).status_code == 422


async def test_the_same_bytes_indexed_twice_at_once_make_one_document(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    # Both requests pass the duplicate check before either is ready (embedding takes a while):
    # the one made ready second is answered as the other's duplicate and leaves nothing.
    bodies = [index_body("volcano.md", doc_id=d) for d in ("one", "two", "three")]
    answers = await asyncio.gather(*(rag.post("/index", json=b) for b in bodies))
    results = [a.json() for a in answers]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    kept = {r["document_id"] for r in results}
    assert len(kept) == 1, results
    assert sorted(r["duplicate"] for r in results) == [False, True, True]
    listing = (await rag.get("/collections/default/documents")).json()["documents"]
    assert [d["id"] for d in listing] == list(kept)
    assert await redis.execute_command("VCARD", key(prefix, "vectors")) == 2
