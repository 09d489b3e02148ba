"""The gateway refuses, in every auth mode, a request for a host it does not serve (DNS
rebinding) and a state-changing request from another site (CSRF), each with a 403 in the JSON
error shape and the security headers; curl-like clients and the page's own requests pass."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from support.gateway_fixtures import GatewayFactory
from support.llm_servers import unused_port

FORM_FILE = ("secret.txt", b"Someone else's page tried to upload this file.\n", "text/plain")


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>ragis</title><div id=app></div>")
    (tmp_path / "assets" / "index-1.js").write_text("console.log('ragis');")
    return tmp_path


@pytest.fixture
def dead_rag() -> str:
    """A RAG service URL nobody listens on: every refusal comes before the gateway calls it."""
    return f"http://127.0.0.1:{unused_port()}"


@pytest.fixture
def gateway_url(start_gateway: GatewayFactory, dead_rag: str, dist: Path) -> Iterator[str]:
    with start_gateway(rag_urls=[dead_rag], static_dir=dist) as url:
        yield url


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def assert_refused(response: httpx.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    return error


def raw_request(url: str, head: bytes) -> tuple[int, bytes]:
    """Send `head` (request line and headers, as bytes) over a plain socket; the status and the
    body of the answer. For what httpx will not send: no Host, two Hosts, raw bytes."""
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer or not _complete(answer):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


# --- Host -------------------------------------------------------------------------------------


async def test_a_foreign_host_gets_403_on_the_api_and_on_the_ui_files(gateway_url: str) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, headers={"Host": "evil.example"}) as client:
        answers = [
            await client.get("/api/health"),
            await client.get("/"),
            await client.get("/assets/index-1.js"),
            await client.get("/api/docs"),
            await client.post("/api/collections", json={"name": "x"}),
        ]
    for answer in answers:
        error = assert_refused(answer, "forbidden_host")
        assert "'evil.example'" in error["message"]
        assert "RAGIS_ALLOWED_HOSTS" in error["message"]
        assert "127.0.0.1" not in error["message"]  # which hosts are served is the log's


async def test_by_default_the_loopback_names_are_served_in_any_case_and_on_any_port(
    gateway_url: str,
) -> None:
    port = port_of(gateway_url)
    hosts = [f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", "localhost",
             f"[::1]:{port}", f"[0:0:0:0:0:0:0:1]:{port}", f"localhost.:{port}",
             "127.0.0.1:1"]  # fmt: skip
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        for host in hosts:
            response = await client.get("/assets/index-1.js", headers={"Host": host})
            assert response.status_code == 200, (host, response.text)
        for host in ("evil.example", f"127.0.0.2:{port}", f"localhost.evil.example:{port}",
                     f"[::2]:{port}", "127.0.0.1.nip.io"):  # fmt: skip
            response = await client.get("/", headers={"Host": host})
            assert_refused(response, "forbidden_host")


async def test_allowed_hosts_with_and_without_a_port_and_ipv6(
    start_gateway: GatewayFactory, dead_rag: str, dist: Path
) -> None:
    allowed = "Ragis.Example, 10.0.0.5:8443, [fd00::5], ::1"
    with start_gateway(rag_urls=[dead_rag], static_dir=dist, allowed_hosts=allowed) as url:
        async with httpx.AsyncClient(base_url=url) as client:

            async def status(host: str) -> int:
                return (await client.get("/", headers={"Host": host})).status_code

            assert await status("ragis.example") == 200
            assert await status("RAGIS.EXAMPLE:8080") == 200
            assert await status("10.0.0.5:8443") == 200
            assert await status("[fd00:0:0::5]:1234") == 200
            assert await status("[::1]") == 200
            assert await status("10.0.0.5:8080") == 403  # listed with another port
            assert await status("10.0.0.5") == 403
            assert await status(f"127.0.0.1:{port_of(url)}") == 403  # the defaults no longer
            assert await status("sub.ragis.example") == 403


def test_a_star_serves_any_host(start_gateway: GatewayFactory, dead_rag: str, dist: Path) -> None:
    with start_gateway(rag_urls=[dead_rag], static_dir=dist, allowed_hosts="*") as url:
        response = httpx.get(url + "/", headers={"Host": "anything.example:9"})
    assert response.status_code == 200


def test_a_non_loopback_bind_also_serves_the_machines_name_and_warns(
    start_gateway: GatewayFactory, dead_rag: str, dist: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ragis.gateway")
    name = socket.gethostname().lower()
    with start_gateway(rag_urls=[dead_rag], static_dir=dist, gateway_host="0.0.0.0") as url:
        port = port_of(url)
        assert httpx.get(url + "/", headers={"Host": f"{name}:{port}"}).status_code == 200
        assert httpx.get(url + "/").status_code == 200
        assert httpx.get(url + "/", headers={"Host": "evil.example"}).status_code == 403
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("RAGIS_ALLOWED_HOSTS is unset" in w for w in warnings), warnings


@pytest.mark.parametrize(
    ("head", "why"),
    [
        (b"GET / HTTP/1.0\r\n\r\n", "names no host"),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n", "several"),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\n\r\n", "several"),
        (b"GET / HTTP/1.1\r\nHost: \xc3\xa9vil.example\r\n\r\n", "'\\xc3\\xa9vil.example'"),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1@evil.example\r\n\r\n", "does not serve"),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1 evil\r\n\r\n", "does not serve"),
        (b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "does not serve"),
        (b"GET / HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n", "does not serve"),
        (b"GET / HTTP/1.1\r\nHost: " + b"a" * 20_000 + b"\r\n\r\n", "aaa..."),
    ],
)
def test_hostile_host_headers_get_403(gateway_url: str, head: bytes, why: str) -> None:
    status, body = raw_request(gateway_url, head)
    assert status == 403, body
    error = httpx.Response(200, content=body).json()["error"]
    assert error["code"] == "forbidden_host"
    assert why in error["message"]
    assert len(error["message"]) < 400  # a huge header is not echoed whole


# --- Cross-site requests ----------------------------------------------------------------------


async def test_a_cross_origin_form_upload_is_refused_and_stores_nothing(
    rag_url: str, start_gateway: GatewayFactory
) -> None:
    with start_gateway(rag_urls=[rag_url]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            for headers in (
                {"Origin": "http://evil.example"},
                {"Origin": "null"},
                {"Sec-Fetch-Site": "cross-site"},
                {"Sec-Fetch-Site": "same-site", "Origin": url},
                {"Sec-Fetch-Site": "cross-site", "Origin": url},
            ):
                refused = await client.post(
                    "/api/documents/upload", files={"file": FORM_FILE}, headers=headers
                )
                error = assert_refused(refused, "cross_site_request")
                assert "POST" in error["message"]
            listed = await client.get("/api/documents", params={"collection": "default"})
            assert listed.status_code in (200, 404), listed.text
            assert listed.status_code == 404 or listed.json()["documents"] == []

            # The page's own upload, as a browser sends it, is stored.
            own = {"Origin": url, "Sec-Fetch-Site": "same-origin"}
            stored = await client.post(
                "/api/documents/upload", files={"file": FORM_FILE}, headers=own
            )
            assert stored.status_code == 200, stored.text
            listed = await client.get("/api/documents", params={"collection": "default"})
            assert [d["filename"] for d in listed.json()["documents"]] == ["secret.txt"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1"},  # another port
        {"Origin": "http://user@127.0.0.1:{port}"},  # userinfo is no origin
        {"Origin": "http://127.0.0.1:{port}/"},  # nor is a path
        {"Origin": "http://127.0.0.1:{port}", "Host": "localhost:{port}"},  # another host
        {"Origin": "https://127.0.0.1:{port}"},  # another scheme
        {"Origin": "http://127.0.0.1:{port}, http://evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "Same-Site"},
    ],
)
async def test_state_changing_requests_from_another_origin_get_403(
    gateway_url: str, method: str, headers: dict[str, str]
) -> None:
    port = str(port_of(gateway_url))
    filled = {name: value.replace("{port}", port) for name, value in headers.items()}
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        for path in ("/api/collections", "/api/chat/stream", "/api/documents/d1", "/"):
            response = await client.request(method, path, json={"message": "hi"}, headers=filled)
            assert_refused(response, "cross_site_request")


async def test_the_pages_own_requests_and_curl_like_ones_pass(gateway_url: str) -> None:
    port = port_of(gateway_url)
    passing = [
        {},  # curl, the CLI
        {"Sec-Fetch-Site": "same-origin", "Origin": gateway_url},
        {"Sec-Fetch-Site": "none"},  # typed into the address bar
        {"Origin": f"http://localhost:{port}", "Host": f"localhost:{port}"},
        {"Origin": f"http://[::1]:{port}", "Host": f"[0::1]:{port}"},
        {"Origin": "http://localhost", "Host": "localhost:80"},  # the default port either way
    ]
    async with httpx.AsyncClient(base_url=gateway_url) as client:
        for headers in passing:
            # A 422 (the name must be a string) shows the request reached the route.
            response = await client.post("/api/collections", json={"name": 5}, headers=headers)
            assert response.status_code == 422, (headers, response.text)


async def test_reads_pass_whatever_their_origin(gateway_url: str) -> None:
    cross = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    async with httpx.AsyncClient(base_url=gateway_url, headers=cross) as client:
        assert (await client.get("/assets/index-1.js")).status_code == 200
        assert (await client.head("/")).status_code == 200
        assert (await client.get("/api/health")).status_code == 200


def test_an_https_origin_behind_an_untrusted_proxy_is_told_about_trusted_proxies(
    gateway_url: str,
) -> None:
    port = port_of(gateway_url)
    behind_tls = {"Origin": f"https://127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
    response = httpx.post(gateway_url + "/api/collections", json={"name": 5}, headers=behind_tls)
    error = assert_refused(response, "cross_site_request")
    assert "RAGIS_TRUSTED_PROXIES" in error["message"]


def test_a_trusted_proxy_says_https_and_the_https_origin_is_then_the_own(
    start_gateway: GatewayFactory, dead_rag: str
) -> None:
    with start_gateway(rag_urls=[dead_rag], trusted_proxies="10.9.9.9, 127.0.0.0/8") as url:
        port = port_of(url)
        behind_tls = {"Origin": f"https://127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
        response = httpx.post(url + "/api/collections", json={"name": 5}, headers=behind_tls)
        assert response.status_code == 422, response.text
        plain = {"Origin": f"http://127.0.0.1:{port}", "X-Forwarded-Proto": "https"}
        response = httpx.post(url + "/api/collections", json={"name": 5}, headers=plain)
        assert_refused(response, "cross_site_request")
