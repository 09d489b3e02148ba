"""`PUT`/`GET /collections/{name}/documents/{doc_id}/original`: a ready document's uploaded file,
kept up to RAGIS_KEEP_ORIGINALS_MB, in the caller's workspace, removed with its document."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import unquote

import httpx
import pytest

from ragis.contract import Caller
from support.fixtures import RAG_HEADERS, RagFactory, rag_client
from support.texts import index_body

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8
MiB = 1024 * 1024


async def indexed(
    rag: httpx.AsyncClient, *, collection: str = "default", filename: str = "manual.pdf"
) -> str:
    body = index_body(filename, ["The pump is primed by hand.", "Then the valve opens."])
    body["collection"] = collection
    response = await rag.post("/index", json=body)
    assert response.status_code == 200, response.text
    doc_id: str = response.json()["document_id"]
    return doc_id


def original(doc_id: str, collection: str = "default") -> str:
    return f"/collections/{collection}/documents/{doc_id}/original"


async def keep(
    rag: httpx.AsyncClient, doc_id: str, data: bytes = PDF, content_type: str = "application/pdf"
) -> httpx.Response:
    return await rag.put(original(doc_id), content=data, headers={"Content-Type": content_type})


async def test_a_kept_original_is_served_back_with_its_type_and_name(
    rag: httpx.AsyncClient,
) -> None:
    doc = await indexed(rag, filename="Überblick 2026.pdf")
    kept = await keep(rag, doc)
    assert kept.status_code == 200, kept.text
    assert kept.json() == {"collection": "default", "document_id": doc, "size": len(PDF)}
    served = await rag.get(original(doc))
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert unquote(served.headers["x-ragis-filename"]) == "Überblick 2026.pdf"
    record = (await rag.get(f"/collections/default/documents/{doc}")).json()
    assert record["original"] is True


async def test_a_document_without_a_kept_original_says_so(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    record = (await rag.get(f"/collections/default/documents/{doc}")).json()
    assert record["original"] is False
    missing = await rag.get(original(doc))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    assert "was not kept" in missing.json()["error"]["message"]
    ghost = await rag.get(original("0123456789abcdef"))
    assert ghost.status_code == 404
    assert "no document" in ghost.json()["error"]["message"]


async def test_deleting_the_document_removes_its_original(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    assert (await keep(rag, doc)).status_code == 200
    assert (await rag.delete(f"/index/default/{doc}")).status_code == 200
    assert (await rag.get(original(doc))).status_code == 404


async def test_a_replacement_removes_the_replaced_documents_original(
    rag: httpx.AsyncClient,
) -> None:
    old = await indexed(rag)
    assert (await keep(rag, old)).status_code == 200
    body = index_body("manual.pdf", ["The pump is now primed by a motor."])
    body["replaces"] = old
    assert (await rag.post("/index", json=body)).status_code == 200
    assert (await rag.get(original(old))).status_code == 404


async def test_dropping_the_collection_removes_its_originals(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag, collection="manuals")
    put = await rag.put(
        original(doc, "manuals"), content=PDF, headers={"Content-Type": "application/pdf"}
    )
    assert put.status_code == 200
    assert (await rag.delete("/collections/manuals")).status_code == 200
    assert (await indexed(rag, collection="manuals")) != doc
    assert (await rag.get(original(doc, "manuals"))).status_code == 404


async def test_another_workspace_neither_reads_nor_writes_an_original(
    rag: httpx.AsyncClient,
) -> None:
    doc = await indexed(rag)
    assert (await keep(rag, doc)).status_code == 200
    async with rag_client(str(rag.base_url), **Caller("team", "bob").headers()) as other:
        assert (await other.get(original(doc))).status_code == 404
        put = await other.put(
            original(doc), content=b"evil", headers={"Content-Type": "text/plain"}
        )
        assert put.status_code == 404
    assert (await rag.get(original(doc))).content == PDF


async def test_the_wrong_collection_is_not_found(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    await indexed(rag, collection="other")
    put = await rag.put(
        original(doc, "other"), content=PDF, headers={"Content-Type": "application/pdf"}
    )
    assert put.status_code == 404
    assert (await rag.get(original(doc, "other"))).status_code == 404
    assert (await rag.get(original(doc, "nowhere"))).status_code == 404


@pytest.mark.parametrize(
    "forged", ["..%2F..%2Fx", "a%3Ab", "%7Bd%7D", "x" * 200, "-starts-with-dash"]
)
async def test_a_forged_document_id_is_refused(rag: httpx.AsyncClient, forged: str) -> None:
    put = await rag.put(
        f"/collections/default/documents/{forged}/original",
        content=PDF,
        headers={"Content-Type": "application/pdf"},
    )
    assert put.status_code in (404, 422)
    got = await rag.get(f"/collections/default/documents/{forged}/original")
    assert got.status_code in (404, 422)


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "pdf",
        "text/html; x=<script>",
        "text/plain; charset=utf-8; boundary=x",
        "application/" + "x" * 300,
        "text/plain\tx",
    ],
)
async def test_a_malformed_content_type_is_refused(
    rag: httpx.AsyncClient, content_type: str
) -> None:
    doc = await indexed(rag)
    refused = await keep(rag, doc, content_type=content_type)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "invalid_request"
    assert (await rag.get(original(doc))).status_code == 404


async def test_an_empty_original_is_refused(rag: httpx.AsyncClient) -> None:
    doc = await indexed(rag)
    refused = await keep(rag, doc, data=b"")
    assert refused.status_code == 422
    assert (await rag.get(original(doc))).status_code == 404


@pytest.fixture
async def small_rag(start_rag: RagFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A RAG service that keeps originals up to 1 MiB."""
    with start_rag(keep_originals_mb=1) as url:
        async with rag_client(url) as client:
            yield client


async def test_a_declared_size_over_the_limit_is_refused_before_reading(
    small_rag: httpx.AsyncClient,
) -> None:
    doc = await indexed(small_rag)
    at_limit = await keep(small_rag, doc, data=b"x" * MiB, content_type="text/plain")
    assert at_limit.status_code == 200
    over = await keep(small_rag, doc, data=b"y" * (MiB + 1), content_type="text/plain")
    assert over.status_code == 413
    assert over.json()["error"]["code"] == "too_large"
    assert "RAGIS_KEEP_ORIGINALS_MB" in over.json()["error"]["message"]
    assert (await small_rag.get(original(doc))).content == b"x" * MiB


async def test_a_streamed_body_is_refused_once_past_the_limit_without_its_end(
    small_rag: httpx.AsyncClient,
) -> None:
    """No Content-Length (chunked), and a body that never ends: the service answers 413 once
    the bytes pass the limit, it does not wait for (and hold) the whole body first."""
    doc = await indexed(small_rag)
    url = small_rag.base_url
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        head = (
            f"PUT {original(doc)} HTTP/1.1\r\nHost: {url.host}\r\n"
            "Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in RAG_HEADERS.items())
            + "\r\n"
        )
        writer.write(head.encode())
        piece = b"z" * (64 * 1024)
        for _ in range(24):  # 1.5 MiB, never the last chunk
            writer.write(b"%x\r\n%b\r\n" % (len(piece), piece))
        await writer.drain()
        status = await asyncio.wait_for(reader.readline(), timeout=60)
    finally:
        writer.close()
    assert status.startswith(b"HTTP/1.1 413"), status
    assert (await small_rag.get(original(doc))).status_code == 404


async def test_keeping_is_refused_when_it_is_off(start_rag: RagFactory) -> None:
    with start_rag(keep_originals_mb=0) as url:
        async with rag_client(url) as client:
            doc = await indexed(client)
            refused = await keep(client, doc)
            assert refused.status_code == 413
            assert "RAGIS_KEEP_ORIGINALS_MB=0" in refused.json()["error"]["message"]
