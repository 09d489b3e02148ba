"""The host names the gateway answers to (`RAGIS_ALLOWED_HOSTS`), against DNS rebinding.

A web page on `evil.example` can make its own name resolve to 127.0.0.1 a moment after it loaded:
the browser then sends the page's requests to the gateway as same-origin requests of
`evil.example`, and the page reads the answers. The one thing such a request cannot hide is its
`Host` header, which still says `evil.example`; so the gateway answers only requests whose Host is
a name it is known by.

An allowed host is a name or an IP address, optionally with a port: `ragis.example`,
`10.0.0.5:8080`, `[fd00::5]`; without a port it matches any port. `*` allows every host (and
with it, DNS rebinding). Names compare without regard to case, IPv6 addresses in their canonical
form. Unset, the gateway answers to the loopback names, and when it binds a non-loopback address
also to that address and the machine's host names (best effort: a public name the machine does
not know of itself must be listed, which the start-up warning says).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass

from ragis.gateway.auth_mode import binds_loopback

__all__ = [
    "LOOPBACK_HOSTS",
    "AllowedHosts",
    "HostPattern",
    "default_hosts",
    "parse_host",
]

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
ANY = "*"
_WILDCARD_BINDS = frozenset({"0.0.0.0", "::", "[::]", ""})
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"  # `_` too: compose service names have it
_NAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
_PORT = re.compile(r"[0-9]{1,5}")


def parse_host(value: str) -> tuple[str, int | None]:
    """`name`, `name:port`, `1.2.3.4:port` or `[v6]:port` as (host, port): the host in lower
    case, an IPv6 address in brackets and canonical form, the port None when absent. A value
    that is no such thing (a path, userinfo, spaces, non-ASCII) raises ValueError."""
    try:
        return _parse_host(value)
    except ValueError as exc:
        raise ValueError(f"not a host ({exc})") from None


def _parse_host(value: str) -> tuple[str, int | None]:
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise ValueError("an IPv6 address without its closing bracket")
        address = ipaddress.IPv6Address(value[1:end])
        if address.scope_id:  # `[fe80::1%eth0]`: no browser sends a zone
            raise ValueError("an IPv6 address with a zone")
        return f"[{address.compressed}]", _port(value[end + 1 :])
    name, colon, port = value.partition(":")
    name = name.lower().removesuffix(".")  # `example.com.` is `example.com`
    if not name.isascii() or not _NAME.fullmatch(name):
        raise ValueError("not a name or an IP address")
    return name, _port(colon + port)


def _port(rest: str) -> int | None:
    if rest in ("", ":"):  # RFC 9110 allows `host:` with an empty port
        return None
    if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]) or not 0 < int(rest[1:]) < 65536:
        raise ValueError("a port that is not 1-65535")
    return int(rest[1:])


@dataclass(frozen=True)
class HostPattern:
    """One allowed host; `port` None matches every port, `host` `*` every host."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, value: str) -> HostPattern:
        value = value.strip()
        if value == ANY:
            return cls(ANY)
        if value.count(":") > 1 and not value.startswith("["):  # `::1`, as people write it
            return cls(f"[{ipaddress.IPv6Address(value).compressed}]")
        return cls(*parse_host(value))

    def matches(self, host: str, port: int | None) -> bool:
        if self.host == ANY:
            return True
        return self.host == host and (self.port is None or self.port == port)

    def __str__(self) -> str:
        return self.host if self.port is None else f"{self.host}:{self.port}"


@dataclass(frozen=True)
class AllowedHosts:
    patterns: tuple[HostPattern, ...]

    @classmethod
    def parse(cls, values: list[str]) -> AllowedHosts:
        return cls(tuple(HostPattern.parse(value) for value in values))

    @property
    def any(self) -> bool:
        return any(pattern.host == ANY for pattern in self.patterns)

    def allows(self, host: str, port: int | None) -> bool:
        """Whether a request for `host`/`port` (as `parse_host` gives them) is served."""
        return any(pattern.matches(host, port) for pattern in self.patterns)

    def __str__(self) -> str:
        return ", ".join(str(pattern) for pattern in self.patterns)


def default_hosts(bind_host: str) -> list[str]:
    """The hosts served when RAGIS_ALLOWED_HOSTS is unset: the loopback names, and for a
    non-loopback bind also the bound address and the machine's names and their addresses."""
    hosts = list(LOOPBACK_HOSTS)
    if binds_loopback(bind_host):
        return hosts
    candidates = [] if bind_host.strip() in _WILDCARD_BINDS else [bind_host.strip()]
    candidates += _machine_names()
    for candidate in candidates:
        try:
            host = HostPattern.parse(candidate).host
        except ValueError:
            continue  # a name the machine gives itself that no browser could send
        if host not in hosts and host != ANY:
            hosts.append(host)
    return hosts


def _machine_names() -> list[str]:
    """The machine's host name, its fully qualified name, and the addresses they resolve to
    (in a container: its address on the compose network). Resolving may fail; then fewer."""
    names = [socket.gethostname()]
    try:
        names.append(socket.getfqdn())
        for *_, sockaddr in socket.getaddrinfo(names[0], None, proto=socket.IPPROTO_TCP):
            names.append(str(sockaddr[0]))
    except OSError:
        pass  # no resolver, or the name is unknown to it: the names we have are enough
    return names
