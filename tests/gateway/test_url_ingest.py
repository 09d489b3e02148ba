"""`POST /api/documents/url` through the real gateway and RAG service, fetching from a loopback web
site: a page asked and cited, a refetch that is a duplicate, the SSRF guard's refusals, limits,
sign-in and workspaces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from support.documents import html_page
from support.gateway_fixtures import GatewayFactory
from support.http import collect_events
from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    client,
    make_user,
    nowhere,
    signed_in,
)
from support.web_site import page, redirect, silent, web_site

TIDE_POOLS = html_page(
    "Tide pools",
    "<h1>Life between the tides</h1><p>The ochre sea star of the tide pools can turn its "
    "stomach inside out to digest a mussel outside its own body.</p>"
    "<script>var marker = 'script-in-body-marker';</script>",
)


@asynccontextmanager
async def gateway_client(
    start_gateway: GatewayFactory, **options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway that never reaches a RAG service unless `rag_urls` says."""
    with start_gateway(**{"rag_urls": [nowhere()], **options}) as base:
        async with client(base) as api:
            yield api


async def ingest(api: httpx.AsyncClient, url: str, **body: Any) -> httpx.Response:
    return await api.post("/api/documents/url", json={"url": url, **body})


def refused(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code, answer.text


async def test_a_page_is_ingested_with_its_title_and_url_then_asked_and_cited(
    start_gateway: GatewayFactory, rag_url: str
) -> None:
    async with web_site({"/sea/tide-pools": page(TIDE_POOLS)}) as site:
        url = f"{site.url}/sea/tide-pools"
        async with gateway_client(start_gateway, rag_urls=[rag_url], url_allow_private=True) as api:
            answer = await ingest(api, url, collection="web", tags=["sea", "sea", " web "])
            assert answer.status_code == 200, answer.text
            indexed = answer.json()
            assert indexed["ok"] is True
            assert indexed["filename"] == "Tide pools.html"
            assert indexed["content_type"] == "text/html"
            assert indexed["duplicate"] is False
            assert indexed["chunks"] >= 1

            listed = await api.get("/api/documents", params={"collection": "web"})
            (doc,) = listed.json()["documents"]
            assert doc["id"] == indexed["document_id"]
            assert doc["source"] == url
            assert doc["filename"] == "Tide pools.html"
            assert sorted(doc["tags"]) == ["sea", "web"]

            events = await collect_events(
                api,
                "/api/chat/stream",
                {"message": "How does the ochre sea star digest a mussel?", "collection": "web"},
            )
            best = events[1].data["citations"][0]
            assert best["doc_id"] == indexed["document_id"]
            assert best["filename"] == "Tide pools.html"
            assert "ochre sea star" in best["text"]
            assert "script-in-body-marker" not in best["text"]

            again = await ingest(api, url, collection="web")
            assert again.status_code == 200, again.text
            assert again.json()["duplicate"] is True
            assert again.json()["document_id"] == indexed["document_id"]
            listed = await api.get("/api/documents", params={"collection": "web"})
            assert len(listed.json()["documents"]) == 1
        assert site.paths == ["/sea/tide-pools", "/sea/tide-pools"]
        assert all(r.headers["user-agent"].startswith("ragis/") for r in site.requests)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "127.1", "2130706433"]
)
async def test_loopback_is_refused_by_default_in_every_spelling(
    start_gateway: GatewayFactory, host: str
) -> None:
    async with web_site({"/": page(TIDE_POOLS)}) as site:
        port = site.url.rsplit(":", 1)[1]
        async with gateway_client(start_gateway) as api:
            answer = await ingest(api, f"http://{host}:{port}/")
        refused(answer, 422, "url_refused")
        assert site.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.0.0.1/",
    ],
)
async def test_metadata_mapped_and_private_addresses_are_refused(
    start_gateway: GatewayFactory, url: str
) -> None:
    async with gateway_client(start_gateway) as api:
        refused(await ingest(api, url), 422, "url_refused")


async def test_metadata_stays_refused_when_private_addresses_are_allowed(
    start_gateway: GatewayFactory,
) -> None:
    async with gateway_client(start_gateway, url_allow_private=True) as api:
        refused(await ingest(api, "http://169.254.169.254/latest/"), 422, "url_refused")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://127.0.0.1/notes.txt"}, "url_refused"),
        ({"url": "file:///etc/passwd"}, "url_refused"),
        ({"url": "http://user:secret@127.0.0.1/"}, "url_refused"),
        ({"url": "not a url at all"}, "url_refused"),
        ({"url": "http://example.com/" + "a" * 5000}, "invalid_request"),
        ({"url": ""}, "invalid_request"),
        ({"url": ["http://example.com/"]}, "invalid_request"),
        ({"url": {"nested": {"deeper": "http://example.com/"}}}, "invalid_request"),
        ({}, "invalid_request"),
        ({"url": "http://example.com/", "collection": "../x"}, "invalid_request"),
        ({"url": "http://example.com/", "tags": ["t"] * 33}, "invalid_request"),
        ({"url": "http://example.com/", "tags": ["x" * 65]}, "invalid_request"),
        ({"url": "http://example.com/", "tags": ["back\\slash"]}, "invalid_request"),
        ({"url": "http://example.com/", "tags": ["bell\u0007"]}, "invalid_request"),
        ({"url": "http://example.com/", "forged": True}, "invalid_request"),
    ],
)
async def test_refused_and_malformed_requests_are_422(
    start_gateway: GatewayFactory, body: dict[str, Any], code: str
) -> None:
    async with gateway_client(start_gateway, url_allow_private=True) as api:
        refused(await api.post("/api/documents/url", json=body), 422, code)


@pytest.mark.parametrize(
    "raw",
    [
        '{"url": "http://example.com/\\ud800"}',
        '{"url": "http://example.com/", "tags": ["\\udfff"]}',
        '{"url": "http://example.com/"',
        '[{"url": "http://example.com/"}]',
    ],
)
async def test_hostile_json_is_422(start_gateway: GatewayFactory, raw: str) -> None:
    async with gateway_client(start_gateway, url_allow_private=True) as api:
        answer = await api.post(
            "/api/documents/url",
            content=raw.encode(),
            headers={"content-type": "application/json"},
        )
    refused(answer, 422, "invalid_request")


async def test_a_page_over_the_upload_limit_is_413(start_gateway: GatewayFactory) -> None:
    big = b"<html><title>Big</title><p>" + b"words " * 200_000 + b"</p></html>"
    async with (
        web_site({"/big": page(big)}) as site,
        gateway_client(start_gateway, url_allow_private=True, max_upload_mb=1) as api,
    ):
        refused(await ingest(api, f"{site.url}/big"), 413, "url_too_large")


async def test_a_silent_server_is_a_504_after_the_timeout(start_gateway: GatewayFactory) -> None:
    async with (
        web_site({"/slow": silent()}) as site,
        gateway_client(start_gateway, url_allow_private=True, url_timeout=0.5) as api,
    ):
        answer = await ingest(api, f"{site.url}/slow")
    refused(answer, 504, "url_timeout")
    assert "RAGIS_URL_TIMEOUT" in answer.json()["error"]["message"]


async def test_too_many_redirects_and_error_statuses_are_502(start_gateway: GatewayFactory) -> None:
    routes = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(6)}
    routes["/r6"] = page(TIDE_POOLS)
    async with (
        web_site(routes) as site,
        gateway_client(start_gateway, url_allow_private=True) as api,
    ):
        refused(await ingest(api, f"{site.url}/r0"), 502, "url_unreachable")
        assert "/r6" not in site.paths
        refused(await ingest(api, f"{site.url}/missing"), 502, "url_unreachable")


async def test_a_viewer_may_not_ingest_and_a_strangers_workspace_is_not_found(
    start_gateway: GatewayFactory,
) -> None:
    async with web_site({"/": page(TIDE_POOLS)}) as site:
        with auth_gateway(start_gateway, url_allow_private=True) as base:
            async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
                for name in ("vi", "st"):
                    await make_user(admin, name)
                await admin.post("/api/workspaces", json={"name": "team"})
                added = await admin.post(
                    "/api/workspaces/team/members", json={"username": "vi", "role": "viewer"}
                )
                assert added.status_code in (200, 201), added.text
            team = {"X-Ragis-Workspace": "team"}
            async with (
                signed_in(base, "vi", PASSWORD) as vi,
                signed_in(base, "st", PASSWORD) as st,
                client(base) as anonymous,
            ):
                refused(
                    await vi.post("/api/documents/url", json={"url": site.url}, headers=team),
                    403,
                    "forbidden",
                )
                refused(
                    await st.post("/api/documents/url", json={"url": site.url}, headers=team),
                    404,
                    "not_found",
                )
                answer = await ingest(anonymous, site.url)
                assert answer.status_code == 401, answer.text
        assert site.requests == []
