"""Hostile JSON: lone UTF-16 surrogates and numbers in disguise get a 422 with a sentence, never
a 500 nor a silent coercion (`"5"` and `true` are not integers; `5.0` is one, as in JSON
Schema, and `5.5` is not)."""

from __future__ import annotations

import json

import httpx
import pytest

from support.texts import index_body

SURROGATE = "\\ud800"  # as JSON spells it: Python's json.loads makes a lone surrogate of it


def raw(body: str) -> dict[str, object]:
    # Sent as bytes: a str holding a lone surrogate cannot be encoded by a JSON client.
    return {"content": body.encode(), "headers": {"content-type": "application/json"}}


def assert_refused(response: httpx.Response, *needles: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    for needle in needles:
        assert needle in error["message"], error["message"]


@pytest.mark.parametrize(
    "texts",
    [f'["{SURROGATE}"]', f'["ok", "a{SURROGATE}b"]', '["\\udfff"]', '["\\udc00\\ud800"]'],
)
async def test_embed_refuses_a_lone_surrogate(rag: httpx.AsyncClient, texts: str) -> None:
    response = await rag.post("/embed", **raw(f'{{"texts": {texts}}}'))
    assert_refused(response, "texts", "lone surrogate")


async def test_a_surrogate_pair_is_one_character_and_embeds(rag: httpx.AsyncClient) -> None:
    # \ud83c\udf4e is a whole character (an apple emoji): only a lone half is refused.
    response = await rag.post("/embed", **raw('{"texts": ["an apple \\ud83c\\udf4e"]}'))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "where"),
    [
        (("chunks", 0, "text"), "chunks.0.text"),
        (("document", "filename"), "document.filename"),
        (("document", "content_type"), "document.content_type"),
        (("document", "tags"), "document.tags.0"),
    ],
)
async def test_index_refuses_a_lone_surrogate(
    rag: httpx.AsyncClient, path: tuple[str | int, ...], where: str
) -> None:
    body = index_body("a.txt", ["Some text."])
    marker = "@@SURROGATE@@"
    node: object = body
    for step in path[:-1]:
        node = node[step]  # type: ignore[index]
    node[path[-1]] = [marker] if path[-1] == "tags" else marker  # type: ignore[index]
    response = await rag.post("/index", **raw(json.dumps(body).replace(marker, SURROGATE)))
    assert_refused(response, where, "lone surrogate")


@pytest.mark.parametrize(
    "body",
    [
        f'{{"message": "why{SURROGATE}"}}',
        f'{{"message": "why", "filter": {{"tags": ["{SURROGATE}"]}}}}',
    ],
)
async def test_chat_refuses_a_lone_surrogate(rag: httpx.AsyncClient, body: str) -> None:
    assert_refused(await rag.post("/chat/stream", **raw(body)), "lone surrogate")


@pytest.mark.parametrize("top_k", ['"5"', "true", "false", "5.5", '"five"', "[5]"])
async def test_top_k_must_be_an_integer(rag: httpx.AsyncClient, top_k: str) -> None:
    response = await rag.post("/chat/stream", **raw(f'{{"message": "why", "top_k": {top_k}}}'))
    assert_refused(response, "top_k")


@pytest.mark.parametrize(
    ("field", "value"),
    [("size", '"12"'), ("size", "true"), ("pages", '"1"'), ("pages", "true")],
)
async def test_index_numbers_must_be_integers(
    rag: httpx.AsyncClient, field: str, value: str
) -> None:
    body = index_body("a.txt", ["Some text."])
    body["document"][field] = "@@VALUE@@"
    response = await rag.post("/index", **raw(json.dumps(body).replace('"@@VALUE@@"', value)))
    assert_refused(response, f"document.{field}")


@pytest.mark.parametrize("value", ['"1"', "true", "1.5"])
async def test_chunk_positions_and_pages_must_be_integers(
    rag: httpx.AsyncClient, value: str
) -> None:
    for field in ("position", "page"):
        body = index_body("a.txt", ["Some text."])
        body["chunks"][0][field] = "@@VALUE@@"
        response = await rag.post("/index", **raw(json.dumps(body).replace('"@@VALUE@@"', value)))
        assert_refused(response, f"chunks.0.{field}")


@pytest.mark.parametrize("shards", ['"2"', "true"])
async def test_collection_shards_must_be_an_integer(rag: httpx.AsyncClient, shards: str) -> None:
    response = await rag.post("/collections", **raw(f'{{"name": "c1", "shards": {shards}}}'))
    assert_refused(response, "shards")


async def test_strict_integers_still_accept_integers(rag: httpx.AsyncClient) -> None:
    response = await rag.post("/collections", json={"name": "c1", "shards": 1})
    assert response.status_code == 200, response.text
    body = index_body("a.txt", ["Mount Etna is in Sicily."], collection="c1")
    assert (await rag.post("/index", json=body)).status_code == 200
    chat = {"message": "Etna?", "collection": "c1", "top_k": 3.0}
    response = await rag.post("/chat/stream", json=chat)
    assert response.status_code == 200
