from __future__ import annotations

import httpx
import numpy as np
import pytest

from ragis.embedding import decode_vectors


async def test_embed_returns_unit_vectors_as_base64_fp32(rag: httpx.AsyncClient) -> None:
    response = await rag.post("/embed", json={"texts": ["a red apple", "a green apple", "taxes"]})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert body["dim"] == 384
    vectors = decode_vectors(body["embeddings"], 384)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # Real embeddings: the two apples are closer to each other than to taxes.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"texts": []}, 422, "texts"),
        ({"texts": "not a list"}, 422, "texts"),
        ({"texts": [1, 2]}, 422, "texts"),
        ({}, 422, "texts"),
        ({"texts": ["x"], "extra": 1}, 422, "extra"),
        ({"texts": ["x"] * 300}, 413, "RAGIS_EMBED_MAX_TEXTS"),
        ({"texts": ["x" * 30_000]}, 413, "RAGIS_MAX_TEXT_CHARS"),
    ],
)
async def test_bad_embed_requests_get_a_clear_error(
    rag: httpx.AsyncClient, body: object, status: int, needle: str
) -> None:
    response = await rag.post("/embed", json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert needle in error["message"]


async def test_not_json_at_all_is_a_422(rag: httpx.AsyncClient) -> None:
    response = await rag.post(
        "/embed", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "error" in response.json()


async def test_the_openapi_schema_documents_every_endpoint(rag: httpx.AsyncClient) -> None:
    paths = (await rag.get("/openapi.json")).json()["paths"]
    for path in ("/embed", "/index", "/index/{collection}/{doc_id}", "/chat/stream",
                 "/sessions/{session_id}", "/health"):  # fmt: skip
        assert path in paths
    assert "text/event-stream" in paths["/chat/stream"]["post"]["responses"]["200"]["content"]
