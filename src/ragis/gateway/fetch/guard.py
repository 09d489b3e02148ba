"""Which addresses the gateway may fetch a web page from: the guard against server-side request
forgery (SSRF).

A caller who can make the gateway fetch a URL can make it knock on what only the gateway can
reach: its own loopback services (Redis, the RAG service), the intranet behind it, the cloud's
metadata service with its credentials. So every address a host name resolves to is classified
here, and only public (globally routable, unicast) addresses pass:

    metadata      169.254.169.254, fd00:ec2::254            always refused
    unspecified   0.0.0.0, ::                               always refused
    link-local    169.254/16, fe80::/10                     always refused
    multicast     224/4, ff00::/8                           always refused
    reserved      anything else not globally routable:      always refused
                  0/8, 240/4, broadcast, documentation, benchmarking, Teredo, ::/8 ...
    loopback      127/8, ::1                                refused unless allow_private
    private       10/8, 172.16/12, 192.168/16, fc00::/7,    refused unless allow_private
                  fec0::/10 (site-local)
    shared        100.64/10 (carrier-grade NAT)             refused unless allow_private

An IPv6 address that carries an IPv4 one (IPv4-mapped ::ffff:a.b.c.d, 6to4 2002::/16, NAT64
64:ff9b::/96) is judged by the IPv4 address it leads to: ::ffff:127.0.0.1 is loopback.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

__all__ = ["AddressGuard", "AddressKind", "Guard", "IPAddress", "classify"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
SHARED = ipaddress.ip_network("100.64.0.0/10")
PRIVATE = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("fc00::/7"),
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressKind(StrEnum):
    PUBLIC = "public"
    METADATA = "a cloud metadata address"
    UNSPECIFIED = "the unspecified address"
    LOOPBACK = "a loopback address"
    LINK_LOCAL = "a link-local address"
    MULTICAST = "a multicast address"
    PRIVATE = "a private address"
    SHARED = "a shared (carrier-grade NAT) address"
    RESERVED = "a reserved address"


#: What RAGIS_URL_ALLOW_PRIVATE lets through besides public addresses (an intranet's).
PRIVATE_KINDS = frozenset({AddressKind.LOOPBACK, AddressKind.PRIVATE, AddressKind.SHARED})


def classify(address: IPAddress) -> AddressKind:
    ip = _embedded_ipv4(address) or address
    if ip in METADATA:  # before private: fd00:ec2::254 lies in fc00::/7
        return AddressKind.METADATA
    if ip.is_unspecified:
        return AddressKind.UNSPECIFIED
    if ip.is_loopback:
        return AddressKind.LOOPBACK
    if ip.is_link_local:
        return AddressKind.LINK_LOCAL
    if ip.is_multicast:
        return AddressKind.MULTICAST
    if ip.version == 4 and ip in SHARED:
        return AddressKind.SHARED
    if any(ip.version == net.version and ip in net for net in PRIVATE):
        return AddressKind.PRIVATE
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:  # fec0::/10, deprecated
        return AddressKind.PRIVATE
    if not ip.is_global or ip.is_reserved:
        return AddressKind.RESERVED
    return AddressKind.PUBLIC


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to, if it carries one."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


class Guard(Protocol):
    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` may not be fetched from, or None when it may."""


@dataclass(frozen=True, slots=True)
class AddressGuard:
    """The gateway's guard: public addresses, and with `allow_private` loopback and private
    ones too (RAGIS_URL_ALLOW_PRIVATE, for an intranet)."""

    allow_private: bool = False

    def refusal(self, address: IPAddress) -> str | None:
        kind = classify(address)
        if kind is AddressKind.PUBLIC:
            return None
        if self.allow_private and kind in PRIVATE_KINDS:
            return None
        hint = " (RAGIS_URL_ALLOW_PRIVATE=true allows it)" if kind in PRIVATE_KINDS else ""
        return f"{address} is {kind.value}{hint}"
