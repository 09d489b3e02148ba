"""A small web site on loopback for the tests that fetch pages: each path answers as a test wrote
it (a page, a redirect, a body larger than it says, a silence), on the scripted raw HTTP server.

    async with web_site({"/": page(html_page("Origami", "<p>...</p>"))}) as site:
        ...  # site.url, site.requests; site.routes can change while it runs
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus

from support.scripted_http import Reply, Request, scripted_server

__all__ = ["Answer", "WebSite", "chunked", "page", "redirect", "silent", "web_site"]

Answer = Callable[[Reply], Awaitable[None]]


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def page(
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Answer:
    async def answer(reply: Reply) -> None:
        head = {"Content-Type": content_type, "Content-Length": str(len(body)), **(headers or {})}
        await reply.send(_head(status, head) + body)

    return answer


def redirect(location: str, status: int = 302) -> Answer:
    return page(b"", "text/plain", status=status, headers={"Location": location})


def chunked(parts: Iterable[bytes], content_type: str = "text/plain") -> Answer:
    """A body with no Content-Length, sent in chunks: only counting while reading finds its
    size."""

    async def answer(reply: Reply) -> None:
        await reply.start_stream(content_type=content_type)
        for part in parts:
            await reply.chunk(part)
        await reply.end_stream()

    return answer


def silent() -> Answer:
    """Never answers; waits for the client to give up."""

    async def answer(reply: Reply) -> None:
        await reply.client_left()

    return answer


@dataclass
class WebSite:
    url: str
    routes: dict[str, Answer]
    requests: list[Request] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [r.target for r in self.requests]


@contextlib.asynccontextmanager
async def web_site(routes: dict[str, Answer]) -> AsyncIterator[WebSite]:
    site = WebSite(url="", routes=dict(routes))

    async def handler(request: Request, reply: Reply) -> None:
        site.requests.append(request)
        answer = site.routes.get(request.target)
        if answer is None:
            await reply.text(404, "no such page", content_type="text/plain")
        else:
            await answer(reply)
        # One request a connection, as the fetcher asks (Connection: close).
        reply.close()

    async with scripted_server(handler) as server:
        site.url = server.url
        yield site
