"""`/index` with a document's `source` and `replaces`: the old version is retired and removed in
the step that makes the new one ready."""

from __future__ import annotations

from typing import Any

import httpx
from redis.asyncio import Redis

from ragis.store import Keys
from support.texts import index_body


def key(prefix: str, suffix: str) -> str:
    return f"{Keys(prefix).collection('default').base}:{suffix}"


def with_source(body: dict[str, Any], source: str, replaces: str | None = None) -> dict[str, Any]:
    body["document"]["source"] = source
    if replaces is not None:
        body["replaces"] = replaces
    return body


async def test_a_replacement_retires_the_old_version_and_removes_it_whole(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    old = with_source(index_body("x.txt", ["one", "two", "three"], doc_id="old"), "a/x.txt")
    assert (await rag.post("/index", json=old)).status_code == 200
    new = with_source(index_body("x.txt", ["only one now"], doc_id="new"), "a/x.txt", "old")
    response = await rag.post("/index", json=new)
    assert response.status_code == 200, response.text
    assert response.json()["retired"] == "old"
    assert await redis.execute_command("VCARD", key(prefix, "vectors")) == 1
    assert not await redis.exists(key(prefix, "doc:old"))
    assert not [k async for k in redis.scan_iter(match=key(prefix, "chunk:old:*"))]
    assert await redis.hget(key(prefix, "sources"), "a/x.txt") == b"new"
    assert await redis.hget(key(prefix, "doc:new"), "source") == b"a/x.txt"


async def test_replacing_a_document_that_does_not_exist_retires_nothing(
    rag: httpx.AsyncClient, redis: Redis, prefix: str
) -> None:
    body = with_source(index_body("x.txt", ["text"], doc_id="new"), "x.txt", "never-was")
    response = await rag.post("/index", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["retired"] is None
    assert await redis.hget(key(prefix, "doc:new"), "status") == b"ready"


async def test_a_source_over_1024_characters_is_refused(rag: httpx.AsyncClient) -> None:
    body = with_source(index_body("x.txt", ["text"]), "a" * 1025)
    assert (await rag.post("/index", json=body)).status_code == 422
