"""Same-origin checks on every request of the gateway, in every auth mode (issue 14).

Two attacks come through the user's own browser, which can reach the gateway where the attacker
cannot (a gateway on loopback included):

- DNS rebinding: a page whose name now resolves to the gateway reads its answers. Its requests
  still carry the page's `Host`, so a request whose Host is not one the gateway serves
  (`ragis.gateway.hosts`, RAGIS_ALLOWED_HOSTS) gets 403 `forbidden_host`; a request with no
  Host, several, or one that is no host name gets it too. This holds for every path, the web
  UI's files included.
- Cross-site request forgery: any page may POST a form, a multipart upload say, to any address
  without a preflight, and the browser sends the user's cookie along (SameSite=Lax stops that
  only for other sites, not for a sibling subdomain). So a request that may change something
  (every method but GET, HEAD and OPTIONS) gets 403 `cross_site_request` when its
  `Sec-Fetch-Site` says `cross-site` or `same-site`, or its `Origin` is not the request's own
  origin (scheme, Host and port; `null`, sent by sandboxed frames and some redirects, is not).
  Browsers send one of the two on every such request; curl and the CLI send neither, and are
  not the browser of a victim, so they pass.

The own origin's scheme is the connection's: behind a TLS reverse proxy the gateway sees http
unless the proxy is trusted to say https (RAGIS_TRUSTED_PROXIES), and the refusal says so.

Pure ASGI, before anything reads the body: a refused upload is not read, let alone stored.
"""

from __future__ import annotations

import logging
import re

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ragis.gateway.auth_mode import binds_loopback
from ragis.gateway.hosts import AllowedHosts, default_hosts, parse_host
from ragis.web.errors import error_body

__all__ = ["SameOrigin", "own_origin", "parse_origin"]

log = logging.getLogger("ragis.gateway")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE = frozenset({"cross-site", "same-site"})
DEFAULT_PORTS = {"http": 80, "https": 443}
_ORIGIN = re.compile(r"(https?)://([^/?#@\s]+)")
_SHOWN = 100  # characters of a hostile header that a refusal repeats

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """An `Origin` header as (scheme, host, port); None for `null` or anything that is not
    exactly `scheme://host[:port]` (userinfo, a path, another scheme)."""
    match = _ORIGIN.fullmatch(value.strip())
    if match is None:
        return None
    scheme = match.group(1).lower()
    try:
        host, port = parse_host(match.group(2))
    except ValueError:
        return None
    return scheme, host, DEFAULT_PORTS[scheme] if port is None else port


def own_origin(scheme: str, host: str, port: int | None) -> Origin:
    return scheme, host, DEFAULT_PORTS.get(scheme, 0) if port is None else port


class SameOrigin:
    """Refuses foreign hosts and cross-site state changes, before the app sees the request."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str] | None, bind_host: str) -> None:
        # Built when the server starts (Starlette builds its middleware on the first event,
        # the lifespan's), so the warning below is part of the start-up log.
        self.app = app
        self.hosts = AllowedHosts.parse(
            allowed_hosts if allowed_hosts is not None else default_hosts(bind_host)
        )
        if allowed_hosts is None and not binds_loopback(bind_host):
            log.warning(
                "RAGIS_GATEWAY_HOST is %s but RAGIS_ALLOWED_HOSTS is unset: the gateway answers "
                "only to %s; set RAGIS_ALLOWED_HOSTS to the name clients use (e.g. "
                "ragis.example.com), or requests for it get 403 forbidden_host",
                bind_host,
                self.hosts,
            )
        elif self.hosts.any:
            log.warning("RAGIS_ALLOWED_HOSTS allows any host: no defence against DNS rebinding")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        code, message = refusal
        log.info(
            "%s %s: %s (allowed hosts: %s)", scope["method"], scope["path"], message, self.hosts
        )
        response = JSONResponse(error_body(code, message), status_code=403)
        await response(scope, receive, send)

    def _refusal(self, scope: Scope) -> tuple[str, str] | None:
        hosts: list[str] = []
        origins: list[str] = []
        fetch_sites: list[str] = []
        for name, value in scope["headers"]:
            if name == b"host":
                hosts.append(value.decode("latin-1"))
            elif name == b"origin":
                origins.append(value.decode("latin-1"))
            elif name == b"sec-fetch-site":
                fetch_sites.append(value.decode("latin-1").strip().lower())
        if len(hosts) != 1:
            why = "names no host" if not hosts else "has several Host headers"
            return "forbidden_host", f"The request {why}; it needs one Host header."
        try:
            host, port = parse_host(hosts[0])
        except ValueError:
            host, port = "", None
        if not host or not self.hosts.allows(host, port):
            # Which hosts it does serve goes to the log only: they may be internal names.
            return "forbidden_host", (
                f"This gateway does not serve the host {_shown(hosts[0])}; "
                "RAGIS_ALLOWED_HOSTS names the hosts it answers to."
            )
        if scope["method"] in SAFE_METHODS:
            return None
        if CROSS_SITE.intersection(fetch_sites):
            return "cross_site_request", (
                f"A {scope['method']} from another site is refused (Sec-Fetch-Site: "
                f"{_shown(', '.join(fetch_sites))}): a page elsewhere cannot act for you here."
            )
        own = own_origin(scope["scheme"], host, port)
        for origin in origins:
            theirs = parse_origin(origin)
            if theirs == own:
                continue
            hint = ""
            if theirs is not None and theirs[0] == "https" and own[0] == "http":
                hint = (
                    " If ragis is behind a TLS reverse proxy, name the proxy in "
                    "RAGIS_TRUSTED_PROXIES so that the gateway trusts its X-Forwarded-Proto."
                )
            return "cross_site_request", (
                f"A {scope['method']} from the origin {_shown(origin)} is refused: it is not "
                f"this gateway's own ({_serialize(own)}).{hint}"
            )
        return None


def _serialize(origin: Origin) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}" + ("" if DEFAULT_PORTS.get(scheme) == port else f":{port}")


def _shown(value: str) -> str:
    """A header as a refusal repeats it: quoted, escaped, and cut short."""
    cut = value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
    return ascii(cut)
