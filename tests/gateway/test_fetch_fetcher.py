"""The page fetcher against a real loopback web site: redirects re-checked at every hop, limits
on size, time and redirects, URLs it refuses before any connection."""

from __future__ import annotations

import gzip
import ipaddress

import pytest

from ragis.errors import PageTooLarge, UrlRefused, UrlTimeout, UrlUnreachable
from ragis.gateway.fetch import AddressGuard, FetchLimits, Guard, PageFetcher, check_url
from ragis.gateway.fetch.fetcher import _pinned_session
from ragis.gateway.fetch.guard import IPAddress
from support.documents import html_page
from support.web_site import chunked, page, redirect, silent, web_site

MiB = 1024 * 1024
CRANES = html_page("Paper cranes / Origami", "<p>A thousand paper cranes grant a wish.</p>")


class OnlyAddresses:
    """A guard that allows exactly the given addresses: the loopback site is "public" to it, any
    other address private."""

    def __init__(self, *allowed: str) -> None:
        self.allowed = {ipaddress.ip_address(a) for a in allowed}

    def refusal(self, address: IPAddress) -> str | None:
        return None if address in self.allowed else f"{address} is not allowed here"


def fetcher(
    *, max_bytes: int = MiB, timeout: float = 10.0, guard: Guard | None = None
) -> PageFetcher:
    """A fetcher for the loopback site (private addresses allowed unless `guard` says)."""
    chosen = guard if guard is not None else AddressGuard(allow_private=True)
    return PageFetcher(FetchLimits(max_bytes=max_bytes, timeout=timeout), chosen)


async def test_a_page_is_fetched_with_its_title_as_the_name_and_a_ragis_user_agent() -> None:
    async with web_site({"/cranes": page(CRANES)}) as site:
        fetched = await fetcher().fetch(f"{site.url}/cranes")
    assert fetched.data == CRANES
    assert fetched.filename == "Paper cranes - Origami.html"
    assert fetched.url == fetched.final_url == f"{site.url}/cranes"
    assert site.requests[0].headers["user-agent"].startswith("ragis/")


async def test_a_file_keeps_its_url_name_or_gets_its_content_type_suffix() -> None:
    routes = {
        "/files/notes.md": page(b"# Notes\n", "text/plain"),
        "/download": page(b"plain text", "text/plain; charset=utf-8"),
        "/untitled": page(b"<html><body><p>no title</p></body></html>"),
    }
    async with web_site(routes) as site:
        named = await fetcher().fetch(f"{site.url}/files/notes.md")
        typed = await fetcher().fetch(f"{site.url}/download")
        untitled = await fetcher().fetch(f"{site.url}/untitled")
    assert named.filename == "notes.md"
    assert typed.filename == "download.txt"
    assert untitled.filename == "untitled.html"


async def test_redirects_are_followed_up_to_five_times() -> None:
    routes = {f"/r{i}": redirect(f"/r{i + 1}") for i in range(5)}
    routes["/r5"] = page(CRANES)
    async with web_site(routes) as site:
        fetched = await fetcher().fetch(f"{site.url}/r0")
    assert fetched.final_url == f"{site.url}/r5"
    assert fetched.url == f"{site.url}/r0"
    assert fetched.data == CRANES


async def test_a_sixth_redirect_is_refused() -> None:
    routes = {f"/r{i}": redirect(f"/r{i + 1}", status=301 + i % 2) for i in range(6)}
    routes["/r6"] = page(CRANES)
    async with web_site(routes) as site:
        with pytest.raises(UrlUnreachable, match="redirects more than 5 times"):
            await fetcher().fetch(f"{site.url}/r0")
        assert "/r6" not in site.paths


async def test_a_redirect_to_an_address_the_guard_refuses_is_not_followed() -> None:
    guard = OnlyAddresses("127.0.0.1")
    async with web_site({}) as site:
        port = site.url.rsplit(":", 1)[1]
        site.routes["/"] = redirect(f"http://[::1]:{port}/secret")
        site.routes["/to-127.0.0.2"] = redirect(f"http://127.0.0.2:{port}/secret")
        with pytest.raises(UrlRefused, match=r"::1 is not allowed here"):
            await fetcher(guard=guard).fetch(f"{site.url}/")
        with pytest.raises(UrlRefused, match=r"127\.0\.0\.2 is not allowed here"):
            await fetcher(guard=guard).fetch(f"{site.url}/to-127.0.0.2")
        assert site.paths == ["/", "/to-127.0.0.2"]


@pytest.mark.parametrize(
    "location", ["ftp://127.0.0.1/x", "file:///etc/passwd", "http://user:pw@127.0.0.1/"]
)
async def test_a_redirect_to_a_refused_url_is_not_followed(location: str) -> None:
    async with web_site({"/": redirect(location)}) as site:
        with pytest.raises(UrlRefused):
            await fetcher().fetch(f"{site.url}/")


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "0.0.0.0", "127.1", "2130706433", "0x7f.1"]
)
async def test_loopback_in_every_spelling_is_refused_by_default(host: str) -> None:
    async with web_site({"/": page(CRANES)}) as site:
        port = site.url.rsplit(":", 1)[1]
        with pytest.raises(UrlRefused, match="is not fetched"):
            await fetcher(guard=AddressGuard()).fetch(f"http://{host}:{port}/")
        assert site.requests == []


async def test_a_page_over_the_limit_is_refused_by_its_content_length() -> None:
    async with web_site({"/": page(b"x" * (MiB + 1), "text/plain")}) as site:
        with pytest.raises(PageTooLarge, match="1 MiB"):
            await fetcher().fetch(f"{site.url}/")


async def test_a_page_without_a_length_is_cut_off_at_the_limit() -> None:
    parts = [b"y" * 65536] * 40  # 2.5 MiB, in chunks
    async with web_site({"/": chunked(parts)}) as site:
        with pytest.raises(PageTooLarge):
            await fetcher().fetch(f"{site.url}/")


async def test_a_compressed_page_is_limited_by_its_expanded_size() -> None:
    bomb = gzip.compress(b"z" * (4 * MiB))
    assert len(bomb) < MiB
    answer = page(bomb, "text/plain", headers={"Content-Encoding": "gzip"})
    async with web_site({"/": answer}) as site:
        with pytest.raises(PageTooLarge):
            await fetcher().fetch(f"{site.url}/")


async def test_a_page_just_under_the_limit_is_fetched() -> None:
    async with web_site({"/": chunked([b"w" * 1000] * 4)}) as site:
        fetched = await fetcher(max_bytes=4000).fetch(f"{site.url}/")
    assert fetched.data == b"w" * 4000


async def test_a_silent_server_times_out() -> None:
    async with web_site({"/": silent()}) as site:
        with pytest.raises(UrlTimeout, match="RAGIS_URL_TIMEOUT"):
            await fetcher(timeout=0.5).fetch(f"{site.url}/")


async def test_an_error_status_or_a_closed_port_is_unreachable() -> None:
    async with web_site({}) as site:
        with pytest.raises(UrlUnreachable, match="HTTP 404"):
            await fetcher().fetch(f"{site.url}/missing")
    with pytest.raises(UrlUnreachable):
        await fetcher().fetch(f"{site.url}/")  # the site is gone: nothing listens


async def test_a_name_that_does_not_resolve_is_unreachable() -> None:
    with pytest.raises(UrlUnreachable, match="does not resolve"):
        await fetcher().fetch("http://no-such-host.invalid/")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/file.txt",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "http://user:secret@example.com/",
        "https://user@example.com/",
        "http:///no-host",
        "not a url",
        "",
        "http://example.com:99999/",
        "http://[::1/",
        "http://example.com/" + "a" * 2000,
    ],
)
def test_urls_refused_before_any_connection(url: str) -> None:
    with pytest.raises(UrlRefused):
        check_url(url)


async def test_the_connection_goes_to_the_checked_addresses_without_a_second_lookup() -> None:
    # `.invalid` never resolves (RFC 6761): reaching the site under that name proves the
    # connection used the pinned address, so a DNS answer that changes after the check (DNS
    # rebinding) cannot redirect it.
    async with web_site({"/": page(CRANES)}) as site:
        port = site.url.rsplit(":", 1)[1]
        pinned = [ipaddress.ip_address("127.0.0.1")]
        async with (
            _pinned_session("rebound.invalid", pinned) as session,
            session.get(f"http://rebound.invalid:{port}/") as response,
        ):
            assert await response.read() == CRANES
        assert site.requests[0].headers["host"] == f"rebound.invalid:{port}"
