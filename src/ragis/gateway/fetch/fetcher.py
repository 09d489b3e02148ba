"""Fetching one web page to ingest, without letting a caller aim the gateway at what only it can
reach (server-side request forgery).

    URL -> check: http or https, no credentials, a host, at most 1,024 characters (a source)
        -> resolve the host (getaddrinfo), check EVERY address with the guard
        -> connect to those checked addresses only: the connection's resolver answers with
           them, so no second lookup can return another address (DNS rebinding)
        -> a redirect (301, 302, 303, 307, 308): the next URL goes through all of it again,
           at most 5 times
        -> read the body, streaming, and stop at the size limit

The whole fetch (DNS, redirects, body) has one deadline. Refusals raise `UrlRefused` (422), a page
over the limit `PageTooLarge` (413), an unreachable server or an error status `UrlUnreachable`
(502), a fetch past its deadline `UrlTimeout` (504). No proxy from the environment, no cookies.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from ragis import __version__
from ragis.contract.documents import MAX_SOURCE_CHARS
from ragis.errors import PageTooLarge, UrlRefused, UrlTimeout, UrlUnreachable
from ragis.gateway.fetch.guard import Guard, IPAddress
from ragis.gateway.fetch.naming import page_filename

__all__ = ["FetchLimits", "FetchedPage", "PageFetcher", "check_url"]

USER_AGENT = f"ragis/{__version__} (fetching a page to ingest)"
MAX_URL_CHARS = MAX_SOURCE_CHARS  # the URL becomes the document's source
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
READ_CHUNK = 64 * 1024
_MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int
    timeout: float
    max_redirects: int = MAX_REDIRECTS


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # as asked for: the document's source
    final_url: str  # after redirects
    data: bytes
    content_type: str
    filename: str


def check_url(url: str) -> URL:
    """`url` parsed, if it is one the fetcher may try at all; else `UrlRefused`."""
    if len(url) > MAX_URL_CHARS:
        raise UrlRefused(f"The URL is {len(url)} characters long; at most {MAX_URL_CHARS}.")
    shown = url[:100]
    try:
        parsed = URL(url)
        host = parsed.raw_host
        port = parsed.port
    except ValueError:
        raise UrlRefused(f"{shown!r} is not a URL.") from None
    if parsed.scheme not in ("http", "https"):
        raise UrlRefused(f"{shown!r}: only http:// and https:// pages can be fetched.")
    if parsed.user is not None or parsed.password is not None:
        # The gateway would send them on the caller's behalf, and logs would keep them.
        raise UrlRefused("A URL with a user name or password in it is refused.")
    if not host or port is None:
        raise UrlRefused(f"{shown!r} names no host.")
    return parsed


class _PinnedResolver(AbstractResolver):
    """Answers for one host with the addresses already resolved and checked."""

    def __init__(self, host: str, addresses: list[IPAddress]) -> None:
        self._host = host
        self._addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host != self._host:
            raise OSError(f"no checked address for {host!r}")
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET if address.version == 4 else socket.AF_INET6,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self._addresses
        ]

    async def close(self) -> None:
        return None


@asynccontextmanager
async def _pinned_session(
    host: str, addresses: list[IPAddress]
) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(
        resolver=_PinnedResolver(host, addresses), use_dns_cache=False, force_close=True
    )
    async with aiohttp.ClientSession(
        connector=connector,
        trust_env=False,  # no proxy from the environment
        cookie_jar=aiohttp.DummyCookieJar(),
        timeout=aiohttp.ClientTimeout(total=None),  # the fetch's own deadline rules
        headers={"User-Agent": USER_AGENT, "Accept": "text/html, */*;q=0.8"},
    ) as session:
        yield session


class PageFetcher:
    def __init__(self, limits: FetchLimits, guard: Guard) -> None:
        self._limits = limits
        self._guard = guard

    async def fetch(self, url: str) -> FetchedPage:
        target = check_url(url)
        try:
            async with asyncio.timeout(self._limits.timeout):
                return await self._follow(url, target)
        except TimeoutError:
            raise UrlTimeout(
                f"{target.host} did not send the page within {self._limits.timeout:g} s "
                "(RAGIS_URL_TIMEOUT)."
            ) from None

    async def _follow(self, url: str, target: URL) -> FetchedPage:
        for _ in range(self._limits.max_redirects + 1):
            addresses = await self._checked_addresses(target)
            try:
                async with (
                    _pinned_session(target.raw_host or "", addresses) as session,
                    session.get(target, allow_redirects=False) as response,
                ):
                    location = response.headers.get("Location")
                    if response.status in REDIRECTS and location:
                        target = _redirect(target, location)
                        continue
                    if not 200 <= response.status < 300:
                        raise UrlUnreachable(
                            f"{target.host} answered HTTP {response.status} for "
                            f"{str(target)[:200]}."
                        )
                    data = await self._read(response)
                    content_type = response.headers.get("Content-Type", "")
            except aiohttp.ClientError as exc:
                raise UrlUnreachable(
                    f"Could not fetch a page from {target.host} ({type(exc).__name__})."
                ) from exc
            return FetchedPage(
                url=url,
                final_url=str(target),
                data=data,
                content_type=content_type,
                filename=page_filename(target, content_type, data),
            )
        raise UrlUnreachable(f"{url[:200]} redirects more than {self._limits.max_redirects} times.")

    async def _checked_addresses(self, url: URL) -> list[IPAddress]:
        """Every address of the URL's host, each one allowed by the guard."""
        host = url.raw_host or ""
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = await _resolve(host, url.port or 0)
        for address in addresses:
            reason = self._guard.refusal(address)
            if reason is not None:
                raise UrlRefused(f"{url.host} is not fetched: {reason}.")
        return addresses

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self._limits.max_bytes
        if response.content_length is not None and response.content_length > limit:
            raise _too_large(limit)
        parts: list[bytes] = []
        size = 0
        # Counted after decompression: a small gzip body cannot grow past the limit.
        async for chunk in response.content.iter_chunked(READ_CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            parts.append(chunk)
        return b"".join(parts)


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UrlUnreachable(f"{host[:100]} does not resolve to an address.") from exc
    addresses: dict[IPAddress, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        addresses[ipaddress.ip_address(str(sockaddr[0]))] = None
    if not addresses:
        raise UrlUnreachable(f"{host[:100]} does not resolve to an address.")
    return list(addresses)


def _redirect(current: URL, location: str) -> URL:
    try:
        following = current.join(URL(location))
    except ValueError:
        raise UrlUnreachable(f"{current.host} redirects to something that is not a URL.") from None
    return check_url(str(following))


def _too_large(limit: int) -> PageTooLarge:
    size = f"{limit // _MiB} MiB" if limit % _MiB == 0 else f"{limit:,} bytes"
    return PageTooLarge(f"The page is larger than {size} (RAGIS_MAX_UPLOAD_MB).")
