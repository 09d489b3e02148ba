"""`GET /api/collections/{c}/documents/{id}/original` on the real stack: an upload keeps its file
(up to RAGIS_KEEP_ORIGINALS_MB), which is served back inline with headers that keep a browser
from running or sniffing it, to viewers of the workspace only, and goes with its document."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from ragis.errors import ConfigError
from ragis.gateway.settings import load_gateway_settings
from support.documents import html_page, pdf_bytes
from support.gateway_fixtures import GatewayFactory
from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    signed_in,
    team_with_viewer,
)

PDF = pdf_bytes(["The feed pump is primed by hand before the first start.", "Valves."])


async def upload(
    client: httpx.AsyncClient,
    name: str,
    data: bytes,
    collection: str = "manuals",
    **fields: str,
) -> str:
    response = await client.post(
        "/api/documents/upload",
        files=[("file", (name, data))],
        data={"collection": collection, **fields},
    )
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["ok"] is True, result
    doc_id: str = result["document_id"]
    return doc_id


def original(doc_id: str, collection: str = "manuals") -> str:
    return f"/api/collections/{collection}/documents/{doc_id}/original"


async def record(
    client: httpx.AsyncClient, doc_id: str, collection: str = "manuals"
) -> dict[str, Any]:
    response = await client.get(f"/api/documents/{doc_id}", params={"collection": collection})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_an_uploaded_pdf_is_kept_and_served_inline_with_safe_headers(
    gateway: httpx.AsyncClient,
) -> None:
    doc = await upload(gateway, "Pumpe – Überblick.pdf", PDF)
    assert (await record(gateway, doc))["original"] is True
    served = await gateway.get(original(doc))
    assert served.status_code == 200, served.text
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"] == (
        "inline; filename*=UTF-8''" + quote("Pumpe – Überblick.pdf", safe="")
    )
    assert served.headers["x-content-type-options"] == "nosniff"
    policy = served.headers["content-security-policy"]
    assert policy.split(";")[0].strip() == "sandbox"
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # nothing of the app's policy that would allow a script


async def test_an_html_original_is_sandboxed_and_a_text_one_is_never_sniffed_as_html(
    gateway: httpx.AsyncClient,
) -> None:
    """An uploaded page with a script, served from the app's own origin: its answer is a
    sandbox (no script runs, no cookie is reachable); a text file full of markup stays text."""
    page = html_page("Hostile", "<script>fetch('/api/keys')</script><p>Pumps are primed.</p>")
    html_doc = await upload(gateway, "hostile.html", page)
    served = await gateway.get(original(html_doc))
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/html")
    assert served.headers["content-security-policy"].startswith("sandbox")
    assert served.headers["x-content-type-options"] == "nosniff"
    # Served as the type ragis named the document (from its content, not its name), never as
    # what a browser would sniff from it.
    text = b"Pumps are primed by hand. Never paste <script>alert(1)</script> into the log.\n"
    text_doc = await upload(gateway, "notes.txt", text)
    named = (await record(gateway, text_doc))["content_type"]
    served = await gateway.get(original(text_doc))
    assert served.headers["content-type"].split(";")[0] == named
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"].startswith("sandbox")
    assert served.content == text


async def test_deleting_the_document_removes_its_original(gateway: httpx.AsyncClient) -> None:
    doc = await upload(gateway, "pump.pdf", PDF)
    deleted = await gateway.delete(f"/api/documents/{doc}", params={"collection": "manuals"})
    assert deleted.status_code == 200
    gone = await gateway.get(original(doc))
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"


async def test_dropping_the_collection_removes_its_originals(gateway: httpx.AsyncClient) -> None:
    doc = await upload(gateway, "pump.pdf", PDF, collection="dropped")
    assert (await gateway.delete("/api/collections/dropped")).status_code == 200
    await upload(gateway, "other.txt", b"Granite is an igneous rock.\n", collection="dropped")
    assert (await gateway.get(original(doc, "dropped"))).status_code == 404


async def test_a_replaced_documents_original_goes_and_the_new_one_is_kept(
    gateway: httpx.AsyncClient,
) -> None:
    old = await upload(gateway, "pump.pdf", PDF, source="pump.pdf")
    newer = pdf_bytes(["The feed pump is now primed by a motor.", "Valves."])
    new = await upload(gateway, "pump.pdf", newer, source="pump.pdf", replaces=old)
    assert (await gateway.get(original(old))).status_code == 404
    served = await gateway.get(original(new))
    assert served.status_code == 200
    assert served.content == newer


async def test_a_document_whose_file_was_not_kept_says_so(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    with start_gateway(rag_urls=[rag_url], keep_originals_mb=0) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            doc = await upload(client, "pump.pdf", PDF)
            assert (await record(client, doc))["original"] is False
            missing = await client.get(original(doc))
            assert missing.status_code == 404
            assert missing.json()["error"]["code"] == "not_found"
            assert "was not kept" in missing.json()["error"]["message"]
            unknown = await client.get(original("0123456789abcdef0123456789abcdef"))
            assert unknown.status_code == 404
            assert "no document" in unknown.json()["error"]["message"]


async def test_the_wrong_collection_and_forged_ids_find_nothing(
    gateway: httpx.AsyncClient,
) -> None:
    doc = await upload(gateway, "pump.pdf", PDF)
    await upload(gateway, "other.txt", b"Granite is an igneous rock.\n", collection="rocks")
    assert (await gateway.get(original(doc, "rocks"))).status_code == 404
    assert (await gateway.get(original(doc, "nowhere"))).status_code == 404
    for forged in ("..%2F..%2Fetc", "a%3Ab", "%7Bc%7D", "x" * 200, "-dash", "id%0d%0aX:1"):
        answer = await gateway.get(f"/api/collections/manuals/documents/{forged}/original")
        assert answer.status_code in (404, 422), (forged, answer.text)
        assert answer.headers["content-type"] == "application/json"
    bad_collection = await gateway.get(f"/api/collections/a%3Ab/documents/{doc}/original")
    assert bad_collection.status_code in (404, 422)


async def test_a_huge_request_body_is_refused_before_the_rag_service_sees_it(
    gateway: httpx.AsyncClient,
) -> None:
    doc = await upload(gateway, "pump.pdf", PDF)
    answer = await gateway.request("GET", original(doc), content=b"x" * (2 * 1024 * 1024))
    assert answer.status_code == 413


def test_no_original_is_kept_beyond_the_upload_limit() -> None:
    settings = load_gateway_settings(
        _env_file=None, internal_token="t" * 40, max_upload_mb=5, keep_originals_mb=25
    )
    assert settings.keep_originals_bytes == 5 * 1024 * 1024
    off = load_gateway_settings(_env_file=None, internal_token="t" * 40, keep_originals_mb=0)
    assert off.keep_originals_bytes == 0
    with pytest.raises(ConfigError, match="keep_originals_mb"):
        load_gateway_settings(_env_file=None, internal_token="t" * 40, keep_originals_mb=-1)


async def test_only_the_workspace_reads_an_original_and_a_viewer_may(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    with auth_gateway(start_gateway, rag_urls=[rag_url]) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            await team_with_viewer(admin)
            admin.headers.update({"X-Ragis-Workspace": "team"})
            shared = await upload(admin, "team.pdf", PDF)
        async with (
            signed_in(base, "alice", PASSWORD) as alice,
            signed_in(base, "bob", PASSWORD) as bob,
        ):
            private = await upload(alice, "alice.pdf", PDF)
            assert (await alice.get(original(private))).status_code == 200
            # Bob's own workspace, then the shared one: Alice's document is in neither.
            assert (await bob.get(original(private))).status_code == 404
            bob.headers.update({"X-Ragis-Workspace": "team"})
            assert (await bob.get(original(private))).status_code == 404
            # A viewer of the shared workspace reads its originals.
            read = await bob.get(original(shared))
            assert read.status_code == 200, read.text
            assert read.content == PDF
        async with httpx.AsyncClient(base_url=base, timeout=30) as anonymous:
            assert (await anonymous.get(original(shared))).status_code == 401
