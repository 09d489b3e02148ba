"""Signing in: sessions, wrong passwords, unknown users, lockout per username and address."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from ragis.accounts import Accounts, InvalidCredentials, LoginPolicy
from ragis.contract import Role
from ragis.errors import TooManyAttempts, Unauthenticated


@pytest.fixture
async def people(accounts: Accounts) -> Accounts:
    await accounts.users.create("alice", "correct horse", Role.ADMIN)
    await accounts.users.create("bob", "correct horse")
    return accounts


async def test_signing_in_makes_a_session_that_signing_out_ends(people: Accounts) -> None:
    user, cookie = await people.sign_in("bob", "correct horse", "10.0.0.1")
    assert user.name == "bob"
    principal = await people.credentials.by_login(cookie, None)
    assert (principal.user, principal.workspace, principal.key_id) == ("bob", "bob", None)
    assert await people.logins.end(cookie) == "bob"
    with pytest.raises(Unauthenticated, match="sign in again"):
        await people.credentials.by_login(cookie, None)
    assert await people.logins.end(cookie) is None


async def test_a_session_expires_after_the_login_ttl(
    people: Accounts, redis: Redis, prefix: str
) -> None:
    _, _cookie = await people.sign_in("bob", "correct horse", "10.0.0.1")
    sessions = [k async for k in redis.scan_iter(match=f"{prefix}:{{auth}}:login:*")]
    assert len(sessions) == 1
    assert 0 < await redis.ttl(sessions[0]) <= people.policy.ttl


@pytest.mark.parametrize(
    ("username", "password"),
    [("bob", "wrong password"), ("ghost", "correct horse"), ("Not A Name!", "x"), ("bob", "")],
)
async def test_a_wrong_username_or_password_gets_one_sentence(
    people: Accounts, username: str, password: str
) -> None:
    with pytest.raises(InvalidCredentials, match=r"^Wrong username or password\.$"):
        await people.sign_in(username, password, "10.0.0.1")


async def test_failures_lock_out_a_username_from_every_address(people: Accounts) -> None:
    for i in range(3):
        with pytest.raises(InvalidCredentials):
            await people.sign_in("bob", "wrong password", f"10.0.0.{i}")
    with pytest.raises(TooManyAttempts) as locked:
        await people.sign_in("bob", "correct horse", "10.0.0.99")
    assert 0 < locked.value.retry_after <= 600
    # Another user is not locked out.
    await people.sign_in("alice", "correct horse", "10.0.0.99")


async def test_failures_lock_out_an_address_for_every_username(people: Accounts) -> None:
    for name in ("a1", "a2", "a3"):
        with pytest.raises(InvalidCredentials):
            await people.sign_in(name, "wrong password", "10.9.9.9")
    with pytest.raises(TooManyAttempts):
        await people.sign_in("bob", "correct horse", "10.9.9.9")
    await people.sign_in("bob", "correct horse", "10.0.0.1")


async def test_a_success_clears_the_usernames_failures(people: Accounts) -> None:
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await people.sign_in("bob", "wrong password", "10.0.0.1")
    await people.sign_in("bob", "correct horse", "10.0.0.2")
    for _ in range(2):
        with pytest.raises(InvalidCredentials):
            await people.sign_in("bob", "wrong password", "10.0.0.3")
    await people.sign_in("bob", "correct horse", "10.0.0.4")


def test_failures_beyond_slow_after_are_held_back_longer_and_longer() -> None:
    policy = LoginPolicy(slow_after=3, max_failures=10, max_delay=4.0)
    delays = [policy.delay(n) for n in range(1, 11)]
    assert delays[:3] == [0.0, 0.0, 0.0]
    assert delays[3:] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.delay(10_000) == 4.0


async def test_signins_are_audited_without_the_password(people: Accounts) -> None:
    with pytest.raises(InvalidCredentials):
        await people.sign_in("bob", "secret guess", "10.0.0.7")
    await people.sign_in("bob", "correct horse", "10.0.0.7")
    events = await people.audit.recent(10)
    assert [(e.action, e.actor, e.ok, e.address) for e in events] == [
        ("login", "bob", True, "10.0.0.7"),
        ("login_failed", "bob", False, "10.0.0.7"),
    ]
    assert all("secret guess" not in str(e) and "correct horse" not in str(e) for e in events)
