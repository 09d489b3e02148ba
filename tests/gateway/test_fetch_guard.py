"""The SSRF guard: which addresses a web page may be fetched from, IPv4 and IPv6, embedded forms
judged by the IPv4 address they lead to."""

from __future__ import annotations

import ipaddress

import pytest

from ragis.gateway.fetch import AddressGuard, AddressKind, classify

K = AddressKind

CASES = [
    # IPv4
    ("8.8.8.8", K.PUBLIC),
    ("1.1.1.1", K.PUBLIC),
    ("127.0.0.1", K.LOOPBACK),
    ("127.255.255.254", K.LOOPBACK),
    ("10.0.0.1", K.PRIVATE),
    ("172.16.0.1", K.PRIVATE),
    ("172.31.255.255", K.PRIVATE),
    ("192.168.1.1", K.PRIVATE),
    ("100.64.0.1", K.SHARED),
    ("100.127.255.254", K.SHARED),
    ("169.254.169.254", K.METADATA),
    ("169.254.1.1", K.LINK_LOCAL),
    ("0.0.0.0", K.UNSPECIFIED),
    ("0.1.2.3", K.RESERVED),
    ("224.0.0.1", K.MULTICAST),
    ("239.255.255.250", K.MULTICAST),
    ("240.0.0.1", K.RESERVED),
    ("255.255.255.255", K.RESERVED),
    ("192.0.2.1", K.RESERVED),  # documentation
    ("198.18.0.1", K.RESERVED),  # benchmarking
    # IPv6
    ("2606:4700:4700::1111", K.PUBLIC),
    ("::1", K.LOOPBACK),
    ("::", K.UNSPECIFIED),
    ("fe80::1", K.LINK_LOCAL),
    ("fe80::1%1", K.LINK_LOCAL),
    ("ff02::1", K.MULTICAST),
    ("fc00::1", K.PRIVATE),
    ("fd12:3456::1", K.PRIVATE),
    ("fec0::1", K.PRIVATE),  # site-local, deprecated
    ("fd00:ec2::254", K.METADATA),
    ("2001:db8::1", K.RESERVED),  # documentation
    ("2001::1", K.RESERVED),  # Teredo
    ("::7f00:1", K.RESERVED),  # IPv4-compatible, deprecated
    # IPv6 carrying IPv4: judged as the IPv4 address
    ("::ffff:127.0.0.1", K.LOOPBACK),
    ("::ffff:7f00:1", K.LOOPBACK),
    ("::ffff:10.0.0.1", K.PRIVATE),
    ("::ffff:169.254.169.254", K.METADATA),
    ("::ffff:0.0.0.0", K.UNSPECIFIED),
    ("::ffff:8.8.8.8", K.PUBLIC),
    ("2002:7f00:1::", K.LOOPBACK),  # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::1", K.METADATA),  # 6to4 of 169.254.169.254
    ("2002:808:808::1", K.PUBLIC),
    ("64:ff9b::7f00:1", K.LOOPBACK),  # NAT64 of 127.0.0.1
    ("64:ff9b::a00:1", K.PRIVATE),
    ("64:ff9b::808:808", K.PUBLIC),
]


@pytest.mark.parametrize(("address", "kind"), CASES)
def test_every_address_is_classified_as_its_kind(address: str, kind: AddressKind) -> None:
    assert classify(ipaddress.ip_address(address)) is kind


@pytest.mark.parametrize(("address", "kind"), CASES)
def test_by_default_only_public_addresses_pass(address: str, kind: AddressKind) -> None:
    reason = AddressGuard().refusal(ipaddress.ip_address(address))
    if kind is K.PUBLIC:
        assert reason is None
    else:
        assert reason is not None
        assert kind.value in reason


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "100.64.0.1", "fd12::1"]
)
def test_allow_private_lets_loopback_and_private_addresses_through(address: str) -> None:
    assert AddressGuard(allow_private=True).refusal(ipaddress.ip_address(address)) is None
    reason = AddressGuard().refusal(ipaddress.ip_address(address))
    assert reason is not None
    assert "RAGIS_URL_ALLOW_PRIVATE" in reason


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "169.254.1.1",
        "fe80::1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "240.0.0.1",
        "192.0.2.1",
    ],
)
def test_allow_private_still_refuses_metadata_link_local_multicast_and_reserved(
    address: str,
) -> None:
    reason = AddressGuard(allow_private=True).refusal(ipaddress.ip_address(address))
    assert reason is not None
    assert "RAGIS_URL_ALLOW_PRIVATE" not in reason
