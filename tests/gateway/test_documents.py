"""Listing, reading and deleting documents through the gateway."""

from __future__ import annotations

import httpx

from support.http import collect_events

TEXT = b"The Fresnel lens lets a lighthouse beam be seen twenty nautical miles out to sea.\n"


async def add(client: httpx.AsyncClient, name: str, data: bytes, collection: str) -> str:
    response = await client.post(
        "/api/documents/upload", files=[("file", (name, data))], data={"collection": collection}
    )
    assert response.status_code == 200, response.text
    doc_id: str = response.json()["results"][0]["document_id"]
    return doc_id


async def test_list_get_and_delete_a_document(gateway: httpx.AsyncClient) -> None:
    doc_id = await add(gateway, "lens.txt", TEXT, "lights")
    other = await add(gateway, "other.txt", b"Granite is an igneous rock.\n", "lights")

    listed = (await gateway.get("/api/documents", params={"collection": "lights"})).json()
    assert listed["collection"] == "lights"
    assert [d["id"] for d in listed["documents"]] == [doc_id, other]

    response = await gateway.get(f"/api/documents/{doc_id}", params={"collection": "lights"})
    assert response.status_code == 200
    record = response.json()
    assert record["filename"] == "lens.txt"
    assert record["status"] == "ready"
    assert record["chunks"] == 1
    assert record["size"] == len(TEXT)

    response = await gateway.delete(f"/api/documents/{doc_id}", params={"collection": "lights"})
    assert response.status_code == 200
    assert response.json()["deleted"] is True

    response = await gateway.get(f"/api/documents/{doc_id}", params={"collection": "lights"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    listed = (await gateway.get("/api/documents", params={"collection": "lights"})).json()
    assert [d["id"] for d in listed["documents"]] == [other]
    events = await collect_events(
        gateway,
        "/api/chat/stream",
        {"message": "How far is a lighthouse seen?", "collection": "lights"},
    )
    assert all(c["doc_id"] != doc_id for c in events[1].data["citations"])


async def test_an_unknown_collection_lists_no_documents(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/documents", params={"collection": "never-made"})
    assert response.status_code == 200
    assert response.json() == {"collection": "never-made", "documents": []}


async def test_unknown_documents_are_404_and_bad_ids_422(gateway: httpx.AsyncClient) -> None:
    await add(gateway, "lens.txt", TEXT, "default")
    assert (await gateway.get("/api/documents/nope")).status_code == 404
    response = await gateway.delete("/api/documents/nope")
    assert response.status_code == 404
    assert "nope" in response.json()["error"]["message"]
    response = await gateway.get("/api/documents/bad%20id!")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    response = await gateway.get("/api/documents", params={"collection": "../x"})
    assert response.status_code == 422
