"""Uploads through the gateway into the real RAG service (real Redis, real model)."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from ragis.web.run import serve_in_thread as serve
from support.documents import docx_bytes, html_page, pdf_bytes, png_bytes
from support.gateway_fixtures import GatewayFactory
from support.http import collect_events

FileSpec = tuple[str, bytes]

PDF_PAGES = [
    "The Atacama Desert in northern Chile is one of the driest places on Earth; some of its "
    "weather stations have never recorded a drop of rain.",
    "Honeybees tell their hive mates where flowers are with the waggle dance: the angle of the "
    "run gives the direction relative to the sun, and its length gives the distance.",
    "The Treaty of Westphalia, signed in 1648, ended the Thirty Years' War in the Holy Roman "
    "Empire.",
]
DOCX = docx_bytes(
    [
        ("h1", "Lighthouse keeping"),
        (
            "p",
            "The Fresnel lens, invented by Augustin-Jean Fresnel in 1822, lets a lighthouse "
            "beam be seen more than twenty nautical miles out to sea.",
        ),
    ]
)
HTML = html_page(
    "Origami",
    "<h1>Paper cranes</h1><p>In Japanese tradition, folding one thousand origami paper cranes, "
    "a senbazuru, is said to grant the folder a wish.</p>",
)
MARKDOWN = (
    b"# Espresso\n\nA proper espresso is brewed by forcing water at about nine bars of pressure "
    b"through finely ground coffee for twenty-five to thirty seconds.\n"
)
TEXT = (
    b"Saturn's rings are made mostly of water ice particles, from tiny grains to chunks as "
    b"large as a house.\n"
)


async def upload(
    client: httpx.AsyncClient, *files: FileSpec, **form: str
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        "/api/documents/upload",
        files=[("file", (name, data)) for name, data in files],
        data=form,
    )
    return response.status_code, response.json()


async def documents(client: httpx.AsyncClient, collection: str = "default") -> list[Any]:
    response = await client.get("/api/documents", params={"collection": collection})
    assert response.status_code == 200, response.text
    docs: list[Any] = response.json()["documents"]
    return docs


async def test_every_supported_type_answers_its_own_question_with_the_right_source(
    gateway: httpx.AsyncClient,
) -> None:
    status, body = await upload(
        gateway,
        ("field-notes.pdf", pdf_bytes(PDF_PAGES)),
        ("lighthouse.docx", DOCX),
        ("cranes.html", HTML),
        ("espresso.md", MARKDOWN),
        ("saturn.txt", TEXT),
    )
    assert status == 200, body
    assert body["collection"] == "default"
    results = {r["filename"]: r for r in body["results"]}
    assert all(r["ok"] for r in results.values()), body
    assert results["field-notes.pdf"]["content_type"] == "application/pdf"
    assert results["field-notes.pdf"]["pages"] == 3
    assert results["field-notes.pdf"]["chunks"] == 3  # a chunk never spans two pages
    assert results["lighthouse.docx"]["content_type"].endswith("wordprocessingml.document")
    assert results["cranes.html"]["content_type"] == "text/html"
    assert results["espresso.md"]["content_type"] == "text/markdown"
    assert results["saturn.txt"]["content_type"] == "text/plain"
    assert results["saturn.txt"]["pages"] is None
    for result in results.values():
        assert len(result["document_id"]) == 32
        assert result["duplicate"] is False
        timings = result["timings"]
        assert timings["total_ms"] >= timings["index_ms"] > 0
        assert timings["parse_ms"] > 0
        assert timings["chunk_ms"] > 0

    questions = {
        "How do honeybees tell other bees the direction of flowers?": ("field-notes.pdf", 2),
        "Who invented the lens that lighthouses use?": ("lighthouse.docx", None),
        "What happens if you fold a thousand paper cranes?": ("cranes.html", None),
        "At what pressure is an espresso brewed?": ("espresso.md", None),
        "What are the rings of Saturn made of?": ("saturn.txt", None),
    }
    for question, (filename, page) in questions.items():
        events = await collect_events(gateway, "/api/chat/stream", {"message": question})
        assert [e.type for e in events][:2] == ["meta", "citations"]
        assert events[-1].type == "done"
        best = events[1].data["citations"][0]
        assert best["filename"] == filename, (question, events[1].data["citations"])
        assert best["page"] == page
        assert best["doc_id"] == results[filename]["document_id"]
        assert "script-in-body-marker" not in best["text"]
        assert "trackingMarker" not in best["text"]


async def test_a_bad_file_fails_alone_and_stores_nothing(gateway: httpx.AsyncClient) -> None:
    status, body = await upload(
        gateway,
        ("saturn.txt", TEXT),
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage\n"),
        ("espresso.md", MARKDOWN),
    )
    assert status == 200, body
    oks = [r["ok"] for r in body["results"]]
    assert oks == [True, False, True]
    failed = body["results"][1]
    assert failed["filename"] == "broken.pdf"
    assert failed["error"]["code"] == "corrupt_file"
    assert "broken.pdf" in failed["error"]["message"]
    assert "error" not in body
    stored = await documents(gateway)
    assert sorted(d["filename"] for d in stored) == ["espresso.md", "saturn.txt"]


async def test_the_same_bytes_twice_are_a_duplicate(gateway: httpx.AsyncClient) -> None:
    _, first = await upload(gateway, ("saturn.txt", TEXT))
    status, second = await upload(gateway, ("saturn-copy.txt", TEXT))
    assert status == 200
    again = second["results"][0]
    assert again["ok"] is True
    assert again["duplicate"] is True
    assert again["document_id"] == first["results"][0]["document_id"]
    assert len(await documents(gateway)) == 1


async def test_png_bytes_named_txt_are_unsupported_and_named(gateway: httpx.AsyncClient) -> None:
    status, body = await upload(gateway, ("notes.txt", png_bytes()))
    assert status == 415
    assert body["error"]["code"] == "unsupported_file"
    assert "notes.txt" in body["error"]["message"]
    assert "PNG" in body["error"]["message"]
    assert body["results"][0] == {"filename": "notes.txt", "ok": False, "error": body["error"]}
    assert await documents(gateway) == []


async def test_a_corrupt_pdf_is_422(gateway: httpx.AsyncClient) -> None:
    status, body = await upload(gateway, ("scan.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\nnot a pdf"))
    assert status == 422
    assert body["error"]["code"] == "corrupt_file"


async def test_an_empty_file_and_a_file_of_blanks_are_422(gateway: httpx.AsyncClient) -> None:
    status, body = await upload(gateway, ("empty.txt", b""), ("blank.md", b"  \n\n\t \n"))
    assert status == 422
    codes = [r["error"]["code"] for r in body["results"]]
    assert codes == ["empty_file", "empty_file"]
    assert body["error"]["code"] == "empty_file"
    assert body["error"]["message"].startswith("None of the 2 files could be added.")
    assert "empty.txt" in body["error"]["message"]


async def test_when_every_file_fails_the_status_is_the_first_failures(
    gateway: httpx.AsyncClient,
) -> None:
    status, body = await upload(gateway, ("a.txt", png_bytes()), ("b.txt", b""))
    assert status == 415
    assert [r["error"]["code"] for r in body["results"]] == ["unsupported_file", "empty_file"]


async def test_a_path_in_the_file_name_is_only_a_label(gateway: httpx.AsyncClient) -> None:
    status, body = await upload(gateway, ("../../etc/passwd", TEXT))
    assert status == 200, body
    result = body["results"][0]
    assert result["filename"] == "passwd"
    [stored] = await documents(gateway)
    assert stored["filename"] == "passwd"
    assert stored["id"] == result["document_id"]
    assert "/" not in stored["id"]


async def test_collection_and_tags_come_from_the_form(gateway: httpx.AsyncClient) -> None:
    status, body = await upload(
        gateway, ("saturn.txt", TEXT), collection="space", tags=" planets, ice ,,planets"
    )
    assert status == 200, body
    assert body["collection"] == "space"
    [stored] = await documents(gateway, "space")
    assert stored["tags"] == ["planets", "ice"]
    assert await documents(gateway) == []  # "default" does not exist: an empty list, 200


async def test_a_bad_collection_name_no_file_or_no_multipart_are_422(
    gateway: httpx.AsyncClient,
) -> None:
    status, body = await upload(gateway, ("saturn.txt", TEXT), collection="../etc")
    assert status == 422
    assert body["error"]["code"] == "invalid_name"
    response = await gateway.post("/api/documents/upload", data={"collection": "x"})
    assert response.status_code == 422
    assert "multipart/form-data" in response.json()["error"]["message"]
    response = await gateway.post(
        "/api/documents/upload", files=[("note", (None, b"x"))], data={"collection": "x"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("The upload holds no file")
    response = await gateway.post("/api/documents/upload", json={"file": "x"})
    assert response.status_code == 422
    assert await documents(gateway, "x") == []


async def test_an_index_answer_the_gateway_cannot_read_is_an_upstream_error_not_a_500(
    start_gateway: GatewayFactory,
) -> None:
    # A stand-in RAG service that indexes "successfully" but leaves out most of its answer:
    # the gateway answers as for any unusable upstream answer (503, `status_for`), in a sentence.
    async def index(request: Request) -> JSONResponse:
        return JSONResponse({"document_id": "d1", "chunks": 1, "duplicate": False})

    app = Starlette(routes=[Route("/index", index, methods=["POST"])])
    with serve(app) as rag_url, start_gateway(rag_urls=[rag_url]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            status, body = await upload(client, ("saturn.txt", TEXT))
    assert status == 503
    assert body["error"]["code"] == "upstream_error"
    assert body["error"]["message"].startswith(f"The RAG service at {rag_url} answered /index")
    assert "(collection: Field required)" in body["error"]["message"]
