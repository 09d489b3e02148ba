"""RAGIS_AUTH and the sign-in settings: the mode each bind gets, the first admin made only on a
start with no user, and every setting documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ragis.errors import ConfigError
from ragis.gateway.accounts_setup import open_gateway_accounts
from ragis.gateway.settings import GatewaySettings, load_gateway_settings
from support.signin import ADMIN, ADMIN_PASSWORD, auth_gateway, client, signed_in

README = Path(__file__).parents[2] / "README.md"
AUTH_SETTINGS = (
    "RAGIS_AUTH",
    "RAGIS_ADMIN_USER",
    "RAGIS_ADMIN_PASSWORD",
    "RAGIS_LOGIN_TTL",
    "RAGIS_LOGIN_SLOW_AFTER",
    "RAGIS_LOGIN_MAX_FAILURES",
    "RAGIS_LOGIN_LOCKOUT",
)


def _settings(**overrides: Any) -> GatewaySettings:
    return load_gateway_settings(_env_file=None, static_dir=None, **overrides)


@pytest.mark.parametrize(
    ("host", "mode", "on"),
    [
        ("127.0.0.1", "auto", False),
        ("::1", "auto", False),
        ("localhost", "auto", False),
        ("127.0.0.2", "auto", False),
        ("0.0.0.0", "auto", True),
        ("192.168.1.5", "auto", True),
        ("::", "auto", True),
        ("ragis.example.com", "auto", True),
        ("127.0.0.1", "on", True),
        ("0.0.0.0", "off", False),
    ],
)
def test_auto_turns_sign_in_on_beyond_loopback(host: str, mode: str, on: bool) -> None:
    assert _settings(gateway_host=host, auth=mode).auth_on is on


def test_the_defaults_are_the_documented_ones() -> None:
    settings = _settings()
    assert settings.auth == "auto"
    assert (settings.admin_user, settings.admin_password) == (None, None)
    assert settings.login_ttl == 7 * 86_400
    assert (settings.login_slow_after, settings.login_max_failures) == (3, 10)
    assert settings.login_lockout == 900


@pytest.mark.parametrize(
    "overrides",
    [
        {"auth": "maybe"},
        {"admin_user": "root"},
        {"admin_password": "root password"},
        {"login_ttl": 10},
        {"login_max_failures": 0},
    ],
)
def test_bad_sign_in_settings_fail_with_a_sentence(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="Invalid ragis settings"):
        _settings(**overrides)


def test_the_admin_password_is_a_secret() -> None:
    settings = _settings(admin_user="root", admin_password="root password 1")
    assert "root password 1" not in repr(settings)


def test_every_sign_in_setting_is_in_the_readme_table() -> None:
    rows = [line for line in README.read_text().splitlines() if line.startswith("| `")]
    for name in AUTH_SETTINGS:
        assert any(row.startswith(f"| `{name}` |") for row in rows), name


async def test_the_first_admin_is_made_only_when_there_is_no_user(start_gateway: Any) -> None:
    with auth_gateway(start_gateway) as base:
        async with signed_in(base, ADMIN, ADMIN_PASSWORD):
            pass
    # Started again with another first admin: the users exist, so nothing is made.
    with auth_gateway(start_gateway, admin_user="other", admin_password="other password") as base:
        async with client(base) as anyone:
            answer = await anyone.post(
                "/api/auth/login", json={"username": "other", "password": "other password"}
            )
        assert answer.status_code == 401
        async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
            users = (await admin.get("/api/users")).json()["users"]
    assert [u["username"] for u in users] == [ADMIN]


async def test_a_bad_first_admin_stops_the_start_with_a_sentence(
    gateway_options: dict[str, Any],
) -> None:
    settings = load_gateway_settings(
        **{**gateway_options, "auth": "on", "admin_user": ADMIN, "admin_password": "short"}
    )
    with pytest.raises(ConfigError, match="RAGIS_ADMIN_PASSWORD: A password needs 8"):
        async with open_gateway_accounts(settings):
            pass


async def test_sign_in_needs_redis(gateway_options: dict[str, Any]) -> None:
    settings = load_gateway_settings(**{**gateway_options, "auth": "on", "redis_url": None})
    with pytest.raises(ConfigError, match="REDIS_URL is not set"):
        async with open_gateway_accounts(settings):
            pass


async def test_sign_in_off_needs_no_redis(gateway_options: dict[str, Any]) -> None:
    settings = load_gateway_settings(**{**gateway_options, "auth": "off", "redis_url": None})
    async with open_gateway_accounts(settings) as accounts:
        assert accounts is None


def test_a_gateway_without_any_user_starts_and_refuses_everyone(start_gateway: Any) -> None:
    with auth_gateway(start_gateway, admin_user=None, admin_password=None) as base:
        assert base.startswith("http://")


async def test_sign_in_off_beyond_loopback_is_warned_about(
    gateway_options: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_gateway_settings(
        **{**gateway_options, "auth": "off", "gateway_host": "0.0.0.0"}
    )
    async with open_gateway_accounts(settings) as accounts:
        assert accounts is None
    assert any("RAGIS_AUTH=off while the gateway listens on 0.0.0.0" in r.getMessage()
               for r in caplog.records)  # fmt: skip
