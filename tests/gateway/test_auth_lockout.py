"""Brute force through the real gateway: failures are slowed down, then refused with 429 and
Retry-After, per username (from any address) and per client address (for any username).

Thresholds are made small by settings; the client address is varied through a trusted proxy's
X-Forwarded-For. No assertion reads a clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.signin import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    auth_gateway,
    client,
    make_user,
    signed_in,
)

LIMITS = {"login_slow_after": 1, "login_max_failures": 3, "login_lockout": 600}


@pytest.fixture
def base(start_gateway: Any) -> Iterator[str]:
    with auth_gateway(start_gateway, trusted_proxies=["127.0.0.1"], **LIMITS) as url:
        yield url


async def _login(base: str, username: str, password: str, address: str) -> Any:
    async with client(base) as anyone:
        return await anyone.post(
            "/api/auth/login",
            json={"username": username, "password": password},
            headers={"X-Forwarded-For": address},
        )


async def test_a_username_is_locked_out_from_every_address(base: str) -> None:
    for i in range(3):
        wrong = await _login(base, ADMIN, "wrong password", f"198.51.100.{i}")
        assert wrong.status_code == 401
    locked = await _login(base, ADMIN, ADMIN_PASSWORD, "198.51.100.200")
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(locked.headers["retry-after"]) <= 600
    assert "set-cookie" not in locked.headers


async def test_an_address_is_locked_out_for_every_username(base: str) -> None:
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        await make_user(admin, "bob")
    for name in ("guess1", "guess2", "guess3"):
        assert (await _login(base, name, "wrong password", "203.0.113.7")).status_code == 401
    locked = await _login(base, "bob", PASSWORD, "203.0.113.7")
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 1
    # The same user from elsewhere is not locked out.
    assert (await _login(base, "bob", PASSWORD, "203.0.113.8")).status_code == 200


async def test_failed_and_refused_attempts_are_audited(base: str) -> None:
    for _ in range(4):
        await _login(base, "bob", "wrong password", "192.0.2.1")
    async with signed_in(base, ADMIN, ADMIN_PASSWORD) as admin:
        events = (await admin.get("/api/audit", params={"limit": 10})).json()["events"]
    failed = [e for e in events if e["action"] == "login_failed"]
    assert len(failed) == 3  # the fourth was refused before any password was checked
    assert {(e["actor"], e["address"], e["ok"]) for e in failed} == {("bob", "192.0.2.1", False)}
