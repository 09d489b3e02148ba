"""The web UI: a built single-page app from `static_dir`, or the page saying how to build it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from support.gateway_fixtures import GatewayFactory
from support.llm_servers import unused_port

INDEX = "<!doctype html><title>ragis</title><div id=app></div>"
ASSET = "console.log('ragis');"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-3f2a1b.js").write_text(ASSET)
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    return tmp_path


@contextlib.asynccontextmanager
async def ui_client(
    start_gateway: GatewayFactory, static_dir: Path | None
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway serving `static_dir` (no RAG service: the web UI needs none)."""
    dead = f"http://127.0.0.1:{unused_port()}"
    with start_gateway(rag_urls=[dead], static_dir=static_dir) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            yield client


@pytest.fixture
async def ui(start_gateway: GatewayFactory, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with ui_client(start_gateway, dist) as client:
        yield client


@pytest.fixture
async def no_ui(start_gateway: GatewayFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with ui_client(start_gateway, None) as client:
        yield client


async def test_the_root_serves_index_html_revalidated(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    etag = response.headers["etag"]
    again = await ui.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304


async def test_hashed_assets_are_cached_for_a_year(ui: httpx.AsyncClient) -> None:
    response = await ui.get("/assets/index-3f2a1b.js")
    assert response.status_code == 200
    assert response.text == ASSET
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    other = await ui.get("/favicon.svg")
    assert other.status_code == 200
    assert other.headers["cache-control"] == "no-cache"


async def test_app_routes_get_index_html_and_missing_assets_404(ui: httpx.AsyncClient) -> None:
    for path in ("/chat", "/documents/abc", "/settings/"):
        response = await ui.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
    response = await ui.get("/assets/gone-123.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_paths_cannot_leave_the_static_dir(ui: httpx.AsyncClient) -> None:
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt"):
        response = await ui.get(path)
        assert "not for the web" not in response.text, path


async def test_unknown_api_paths_are_json_404_whatever_the_method(ui: httpx.AsyncClient) -> None:
    assert (await ui.get("/api")).json()["error"]["code"] == "not_found"
    for method in ("GET", "POST", "DELETE"):
        response = await ui.request(method, "/api/nope")
        assert response.status_code == 404
        assert response.json()["error"] == {
            "code": "not_found",
            "message": f"There is no endpoint {method} /api/nope.",
        }


async def test_without_a_built_ui_the_root_says_how_to_build_it(no_ui: httpx.AsyncClient) -> None:
    response = await no_ui.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "not built" in response.text
    assert "cd frontend &amp;&amp; npm install &amp;&amp; npm run build" in response.text
    assert 'href="/api/health"' in response.text
    assert 'href="/api/docs"' in response.text
    assert (await no_ui.get("/chat")).status_code == 404
    assert (await no_ui.get("/api/nope")).json()["error"]["code"] == "not_found"


async def test_the_api_docs_are_under_api(no_ui: httpx.AsyncClient) -> None:
    assert (await no_ui.get("/api/docs")).status_code == 200
    schema = (await no_ui.get("/api/openapi.json")).json()
    assert "/api/documents/upload" in schema["paths"]
    assert "/api/chat/stream" in schema["paths"]
    upload = schema["paths"]["/api/documents/upload"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
