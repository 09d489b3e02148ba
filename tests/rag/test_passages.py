"""`GET /collections/{name}/documents/{doc_id}/passages`: a document's stored passages, in
order, a page of them at a time."""

from __future__ import annotations

from typing import Any

import httpx

from ragis.contract import Caller
from support.fixtures import RagFactory, rag_client
from support.texts import index_body

TEXTS = [f"Passage number {i} of the long manual." for i in range(12)]


async def indexed(rag: httpx.AsyncClient, collection: str = "default") -> str:
    pages: list[int | None] = [1 + i // 5 for i in range(len(TEXTS))]
    response = await rag.post(
        "/index", json=index_body("manual.txt", TEXTS, pages=pages, collection=collection)
    )
    assert response.status_code == 200, response.text
    doc_id: str = response.json()["document_id"]
    return doc_id


async def passages(rag: httpx.AsyncClient, doc_id: str, query: str = "") -> dict[str, Any]:
    response = await rag.get(f"/collections/default/documents/{doc_id}/passages{query}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_documents_passages_are_read_in_order(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    read = await passages(rag, doc)
    assert read["collection"] == "default"
    assert (read["document"]["id"], read["document"]["filename"]) == (doc, "manual.txt")
    assert (read["start"], read["total"]) == (0, 12)
    assert [p["text"] for p in read["passages"]] == TEXTS
    assert [p["position"] for p in read["passages"]] == list(range(12))
    assert [p["page"] for p in read["passages"]] == [1] * 5 + [2] * 5 + [3] * 2


async def test_start_and_limit_read_a_window(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    window = await passages(rag, doc, "?start=3&limit=4")
    assert (window["start"], window["total"]) == (3, 12)
    assert [p["position"] for p in window["passages"]] == [3, 4, 5, 6]
    assert [p["text"] for p in window["passages"]] == TEXTS[3:7]
    tail = await passages(rag, doc, "?start=10&limit=200")
    assert [p["position"] for p in tail["passages"]] == [10, 11]
    one = await passages(rag, doc, "?start=11&limit=1")
    assert [p["text"] for p in one["passages"]] == [TEXTS[11]]


async def test_a_start_at_or_beyond_the_end_reads_nothing(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    for start in (12, 13, 10_000_000):
        beyond = await passages(rag, doc, f"?start={start}")
        assert (beyond["start"], beyond["total"], beyond["passages"]) == (start, 12, [])


async def test_a_read_longer_than_a_store_batch_keeps_the_order(start_rag: RagFactory) -> None:
    with start_rag(vadd_batch=5) as url:
        async with rag_client(url) as rag:
            doc = await indexed(rag)
            read = await passages(rag, doc, "?start=2&limit=9")
            assert [p["position"] for p in read["passages"]] == list(range(2, 11))


async def test_bad_windows_are_refused(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    url = f"/collections/default/documents/{doc}/passages"
    for query in (
        "?limit=0",
        "?limit=201",
        '?limit="5"',
        "?limit=true",
        "?limit=",
        "?start=-1",
        "?start=abc",
        "?start=1e3",
        "?start=99999999999999999999999",
    ):
        response = await rag.get(url + query)
        assert response.status_code == 422, query
        assert response.json()["error"]["code"] == "invalid_request"


async def test_an_unknown_collection_or_document_is_not_found(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    for url in (
        f"/collections/nope/documents/{doc}/passages",
        "/collections/default/documents/nope/passages",
    ):
        response = await rag.get(url)
        assert response.status_code == 404, url
        assert response.json()["error"]["code"] == "not_found"
    for url in (
        f"/collections/bad%20name/documents/{doc}/passages",
        "/collections/default/documents/..%2F..%2Fx/passages",
    ):
        assert (await rag.get(url)).status_code in (404, 422), url


async def test_another_workspaces_document_is_not_found(start_rag: RagFactory) -> None:
    with start_rag() as url:
        async with (
            rag_client(url, **Caller("team-a", "alice").headers()) as alice,
            rag_client(url, **Caller("team-b", "bob").headers()) as bob,
        ):
            doc = await indexed(alice)
            await indexed(bob)  # Bob's own `default` collection: the name exists for him too
            response = await bob.get(f"/collections/default/documents/{doc}/passages")
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
