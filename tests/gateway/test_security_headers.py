"""Every answer of the gateway carries Content-Security-Policy, X-Content-Type-Options and
Referrer-Policy: the web UI, its assets, JSON answers and errors, the chat stream, the
not-built page and the API docs (each page's inline code allowed by its hash only)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
import pytest

from support.gateway_fixtures import GatewayFactory
from support.llm_servers import unused_port


def directives(response: httpx.Response) -> dict[str, str]:
    csp = response.headers["content-security-policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in csp.split(";")
        if part.strip()
    }


def assert_secured(response: httpx.Response) -> dict[str, str]:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    for name in ("default-src", "script-src", "style-src"):
        assert "unsafe-inline" not in policy[name]
        assert "unsafe-eval" not in policy[name]
    return policy


def sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>ragis</title><div id=app></div>")
    (tmp_path / "assets" / "index-1.js").write_text("console.log('ragis');")
    return tmp_path


async def test_the_web_ui_and_the_api_answers_are_secured(
    start_gateway: GatewayFactory, dist: Path
) -> None:
    dead = f"http://127.0.0.1:{unused_port()}"
    with start_gateway(rag_urls=[dead], static_dir=dist) as url:
        async with httpx.AsyncClient(base_url=url) as client:
            answers = [
                await client.get("/"),
                await client.get("/some/route/of/the/app"),
                await client.get("/assets/index-1.js"),
                await client.get("/assets/missing.js"),
                await client.get("/api/health"),
                await client.get("/api/collections"),  # 503: the RAG service is down
                await client.get("/api/nothing-here"),
                await client.post("/api/collections", json={"name": 5}),
                await client.post("/api/chat/stream", content=b"x" * (2 * 1024 * 1024)),
                await client.post("/"),  # 405: the UI is GET and HEAD only
            ]
            async with client.stream("POST", "/api/chat/stream", json={"message": "hi"}) as sse:
                answers.append(sse)
    statuses = [a.status_code for a in answers]
    assert statuses == [200, 200, 200, 404, 200, 503, 404, 422, 413, 405, 200], statuses
    for answer in answers:
        policy = assert_secured(answer)
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["connect-src"] == "'self'"


def test_the_not_built_page_allows_only_its_own_style(start_gateway: GatewayFactory) -> None:
    with start_gateway(rag_urls=["http://127.0.0.1:9"], static_dir=None) as url:
        response = httpx.get(url + "/")
    assert response.status_code == 200
    policy = assert_secured(response)
    styles = re.findall(r"<style>(.*?)</style>", response.text, re.DOTALL)
    assert len(styles) == 1
    assert policy["style-src"] == f"'self' {sha256_source(styles[0])}"
    assert policy["script-src"] == "'self'"


def test_the_api_docs_allow_their_cdn_and_their_one_inline_script(
    start_gateway: GatewayFactory,
) -> None:
    with start_gateway(rag_urls=["http://127.0.0.1:9"]) as url:
        response = httpx.get(url + "/api/docs")
        schema = httpx.get(url + "/api/openapi.json")
    assert response.status_code == 200
    policy = assert_secured(response)
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    assert len(scripts) == 1
    assert policy["script-src"].split() == [
        "'self'",
        "https://cdn.jsdelivr.net",
        sha256_source(scripts[0]),
    ]
    assert schema.headers["content-type"] == "application/json"
    assert directives(schema)["script-src"] == "'self'"
