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


async def test_documents_are_listed_with_their_source_and_found_by_it(
    rag: httpx.AsyncClient,
) -> None:
    await rag.post("/index", json=with_source(index_body("x.txt", ["a"], doc_id="d1"), "m/x.txt"))
    await rag.post("/index", json=index_body("y.txt", ["b"], doc_id="d2"))
    listed = (await rag.get("/collections/default/documents")).json()["documents"]
    assert {d["id"]: d["source"] for d in listed} == {"d1": "m/x.txt", "d2": None}
    found = await rag.get("/collections/default/documents", params={"source": "m/x.txt"})
    assert [d["id"] for d in found.json()["documents"]] == ["d1"]
    none = await rag.get("/collections/default/documents", params={"source": "m/X.txt"})
    assert none.json()["documents"] == []
    too_long = await rag.get("/collections/default/documents", params={"source": "a" * 1025})
    assert too_long.status_code == 422


async def test_patch_renames_a_source_and_refuses_one_another_document_has(
    rag: httpx.AsyncClient,
) -> None:
    await rag.post("/index", json=with_source(index_body("x.txt", ["a"], doc_id="d1"), "x.txt"))
    await rag.post("/index", json=with_source(index_body("y.txt", ["b"], doc_id="d2"), "y.txt"))
    renamed = await rag.patch("/collections/default/documents/d1", json={"source": "new/x.txt"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["source"] == "new/x.txt"
    taken = await rag.patch("/collections/default/documents/d2", json={"source": "new/x.txt"})
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "source_taken"
    unknown = await rag.patch("/collections/default/documents/nope", json={"source": "z"})
    assert unknown.status_code == 404
    extra = await rag.patch("/collections/default/documents/d1", json={"source": "z", "x": 1})
    assert extra.status_code == 422
    surrogate = await rag.patch(
        "/collections/default/documents/d1",
        content=b'{"source": "\\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422
