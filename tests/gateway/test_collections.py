"""Collections through the gateway."""

from __future__ import annotations

import httpx


async def test_create_list_and_delete_a_collection(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post("/api/collections", json={"name": "papers"})
    assert response.status_code == 200
    created = response.json()
    assert created["name"] == "papers"
    assert created["documents"] == 0
    assert created["dim"] == 384

    names = [c["name"] for c in (await gateway.get("/api/collections")).json()["collections"]]
    assert names == ["papers"]

    response = await gateway.delete("/api/collections/papers")
    assert response.status_code == 200
    assert response.json()["deleted"] is True
    assert (await gateway.get("/api/collections")).json() == {"collections": []}


async def test_collection_errors_pass_through(gateway: httpx.AsyncClient) -> None:
    response = await gateway.delete("/api/collections/ghost")
    assert response.status_code == 404
    assert response.json()["error"] == {
        "code": "not_found",
        "message": "There is no collection 'ghost': upload a document to create it.",
    }
    response = await gateway.post("/api/collections", json={"name": "no spaces"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    response = await gateway.post("/api/collections", json={})
    assert response.status_code == 422
