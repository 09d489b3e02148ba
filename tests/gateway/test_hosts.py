"""Which hosts the gateway serves: RAGIS_ALLOWED_HOSTS as read and checked, and the default for
a loopback and a non-loopback bind (the requests themselves: test_origin.py)."""

from __future__ import annotations

import socket

import pytest

from ragis.errors import ConfigError
from ragis.gateway.auth_mode import binds_loopback
from ragis.gateway.hosts import (
    LOOPBACK_HOSTS,
    AllowedHosts,
    HostPattern,
    default_hosts,
    parse_host,
)
from ragis.gateway.settings import load_gateway_settings


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("ragis.example", ("ragis.example", None)),
        ("Ragis.Example:8443", ("ragis.example", 8443)),
        ("ragis.example.", ("ragis.example", None)),
        ("ragis_gateway:8080", ("ragis_gateway", 8080)),
        ("10.0.0.5:80", ("10.0.0.5", 80)),
        ("[::1]", ("[::1]", None)),
        ("[0:0:0:0:0:0:0:1]:8080", ("[::1]", 8080)),
        ("[FD00::5]:1", ("[fd00::5]", 1)),
        ("localhost:", ("localhost", None)),
    ],
)
def test_a_host_is_a_name_or_an_address_with_an_optional_port(
    value: str, parsed: tuple[str, int | None]
) -> None:
    assert parse_host(value) == parsed


@pytest.mark.parametrize(
    "value",
    ["", ":80", "a b", "évil.example", "user@host", "host/path", "-host", "host-", "a..b",
     "x" * 64, ".".join(["abcdefgh"] * 30), "[::1", "[::1]x", "[fe80::1%eth0]", "[1.2.3.4]",
     "::1", "host:0", "host:65536", "host:1x", "host:+80", "host:123456"],
)  # fmt: skip
def test_anything_else_is_not_a_host(value: str) -> None:
    with pytest.raises(ValueError, match=r"^not a host"):
        parse_host(value)


def test_a_pattern_without_a_port_matches_every_port_and_star_every_host() -> None:
    hosts = AllowedHosts.parse(["ragis.example", "10.0.0.5:8443", "::1"])
    assert hosts.allows("ragis.example", None)
    assert hosts.allows("ragis.example", 1234)
    assert hosts.allows("10.0.0.5", 8443)
    assert not hosts.allows("10.0.0.5", 8080)
    assert not hosts.allows("10.0.0.5", None)
    assert hosts.allows("[::1]", 80)  # written bare in the setting, bracketed in a Host
    assert not hosts.allows("sub.ragis.example", None)
    assert not hosts.any
    anything = AllowedHosts.parse(["*"])
    assert anything.any
    assert anything.allows("evil.example", 1)
    assert str(HostPattern.parse(" 10.0.0.5:8443 ")) == "10.0.0.5:8443"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LocalHost"]
)
def test_loopback_binds(host: str) -> None:
    assert binds_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "ragis.example", "fd00::5", ""])
def test_non_loopback_binds(host: str) -> None:
    assert not binds_loopback(host)


def test_a_loopback_bind_serves_the_loopback_names_only() -> None:
    assert default_hosts("127.0.0.1") == list(LOOPBACK_HOSTS)
    assert default_hosts("::1") == list(LOOPBACK_HOSTS)


def test_a_non_loopback_bind_also_serves_its_address_and_the_machines_name() -> None:
    name = socket.gethostname().lower()
    for bind, address in (("10.0.0.5", "10.0.0.5"), ("fd00::5", "[fd00::5]")):
        hosts = default_hosts(bind)
        assert hosts[:3] == list(LOOPBACK_HOSTS)
        assert address in hosts
        assert name in hosts
    every = default_hosts("0.0.0.0")
    assert name in every
    assert "0.0.0.0" not in every  # no browser asks for the wildcard


def test_allowed_hosts_and_trusted_proxies_are_read_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_gateway_settings(_env_file=None)
    assert (settings.allowed_hosts, settings.trusted_proxies) == (None, [])
    monkeypatch.setenv("RAGIS_ALLOWED_HOSTS", " ragis.example, [::1]:8080 ,::1,")
    monkeypatch.setenv("RAGIS_TRUSTED_PROXIES", "10.0.0.0/8, ::1")
    settings = load_gateway_settings(_env_file=None)
    assert settings.allowed_hosts == ["ragis.example", "[::1]:8080", "::1"]
    assert settings.trusted_proxies == ["10.0.0.0/8", "::1"]
    monkeypatch.setenv("RAGIS_ALLOWED_HOSTS", " ")
    assert load_gateway_settings(_env_file=None).allowed_hosts is None  # blank: the default


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RAGIS_ALLOWED_HOSTS", "http://ragis.example"),
        ("RAGIS_ALLOWED_HOSTS", "ragis.example/"),
        ("RAGIS_ALLOWED_HOSTS", "ragis.example:99999"),
        ("RAGIS_ALLOWED_HOSTS", "*.ragis.example"),
        ("RAGIS_TRUSTED_PROXIES", "proxy.internal"),
        ("RAGIS_TRUSTED_PROXIES", "10.0.0.1/8"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_and_the_value(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"{name}: '{value.replace('*', '[*]')}' is not"):
        load_gateway_settings(_env_file=None)
