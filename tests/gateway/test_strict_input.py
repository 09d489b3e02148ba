"""The gateway refuses hostile JSON itself (lone surrogates, numbers in disguise) with a 422."""

from __future__ import annotations

import httpx
import pytest


def raw(body: str) -> dict[str, object]:
    return {"content": body.encode(), "headers": {"content-type": "application/json"}}


@pytest.mark.parametrize(
    "body",
    [
        '{"message": "why\\ud800"}',
        '{"message": "why", "filter": {"tags": ["\\udfff"]}}',
        '{"message": "why", "top_k": "5"}',
        '{"message": "why", "top_k": true}',
        '{"message": "why", "top_k": 5.5}',
    ],
)
async def test_chat_refuses_hostile_json(gateway: httpx.AsyncClient, body: str) -> None:
    response = await gateway.post("/api/chat/stream", **raw(body))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert "lone surrogate" in error["message"] or "top_k" in error["message"]


@pytest.mark.parametrize("name", ["1", "true", '"c\\ud800"'])
async def test_collection_names_are_strings_of_whole_characters(
    gateway: httpx.AsyncClient, name: str
) -> None:
    response = await gateway.post("/api/collections", **raw(f'{{"name": {name}}}'))
    assert response.status_code == 422, response.text
    assert "name" in response.json()["error"]["message"]
