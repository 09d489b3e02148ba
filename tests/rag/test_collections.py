from __future__ import annotations

import httpx

from support.texts import index_all, index_body


async def test_collections_and_documents_are_listed(rag: httpx.AsyncClient) -> None:
    ids = await index_all(rag)
    await rag.post("/index", json=index_body("volcano.md", collection="geo"))
    collections = (await rag.get("/collections")).json()["collections"]
    assert [c["name"] for c in collections] == ["default", "geo"]
    default = collections[0]
    assert default["documents"] == 3
    assert default["chunks"] == 6
    assert default["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    docs = (await rag.get("/collections/default/documents")).json()["documents"]
    assert [d["filename"] for d in docs] == ["volcano.md", "bread.txt", "chess.txt"]
    assert docs[0]["status"] == "ready"
    assert docs[0]["chunks"] == 2
    one = (await rag.get(f"/collections/default/documents/{ids['bread.txt']}")).json()
    assert one["filename"] == "bread.txt"


async def test_create_and_delete_a_collection(rag: httpx.AsyncClient) -> None:
    created = await rag.post("/collections", json={"name": "notes"})
    assert created.status_code == 200
    assert created.json()["documents"] == 0
    assert (await rag.post("/collections", json={"name": "notes"})).status_code == 200
    assert (await rag.get("/collections/notes/documents")).json()["documents"] == []
    await rag.post("/index", json=index_body("chess.txt", collection="notes"))
    assert (await rag.delete("/collections/notes")).json()["deleted"] is True
    assert (await rag.get("/collections/notes/documents")).status_code == 404
    assert (await rag.delete("/collections/notes")).status_code == 404


async def test_bad_collection_requests(rag: httpx.AsyncClient) -> None:
    assert (await rag.post("/collections", json={"name": "bad name"})).status_code == 422
    assert (await rag.get("/collections/nope/documents")).status_code == 404
    assert (await rag.get("/collections/default/documents/nope")).status_code == 404
