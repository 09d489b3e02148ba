"""The gateway's accounts, opened in its lifespan: nothing while sign-in is off; with it on, a
Redis client (`ragis.db.connect`), the data format checked (a newer ragis's data: refuse to
start), and the first admin made from RAGIS_ADMIN_USER / RAGIS_ADMIN_PASSWORD if there is no
user yet."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ragis.accounts import Accounts, LoginPolicy, ensure_first_admin
from ragis.accounts.layout import AuthKeys
from ragis.accounts.preferences import UserPreferences
from ragis.db import connect
from ragis.db.format import check_format, read_format
from ragis.errors import ConfigError, InvalidInput, RedisUnavailable
from ragis.gateway.auth_mode import AuthMode, binds_loopback
from ragis.gateway.settings import GatewaySettings

__all__ = ["login_policy", "open_gateway_accounts", "open_gateway_preferences"]

log = logging.getLogger("ragis.gateway")


def login_policy(settings: GatewaySettings) -> LoginPolicy:
    return LoginPolicy(
        ttl=settings.login_ttl,
        slow_after=settings.login_slow_after,
        max_failures=settings.login_max_failures,
        lockout=settings.login_lockout,
    )


@asynccontextmanager
async def open_gateway_accounts(settings: GatewaySettings) -> AsyncIterator[Accounts | None]:
    if not settings.auth_on:
        if settings.auth is AuthMode.OFF and not binds_loopback(settings.gateway_host):
            log.warning(
                "RAGIS_AUTH=off while the gateway listens on %s: anyone who reaches it can read, "
                "upload and delete everything. Set RAGIS_AUTH=on unless a proxy in front "
                "authenticates every request.",
                settings.gateway_host,
            )
        yield None
        return
    if settings.redis_url is None:
        raise ConfigError(
            "Sign-in is on (RAGIS_AUTH), and the accounts live in Redis, but REDIS_URL is not "
            "set: set it to the Redis of the RAG service (`ragis up` sets it)."
        )
    redis = await connect(settings.redis_url)
    try:
        check_format(await read_format(redis, settings.key_prefix), settings.redis_url)
        accounts = Accounts(redis, settings.key_prefix, login_policy(settings))
        await _first_admin(accounts, settings)
        yield accounts
    finally:
        await redis.aclose()


@asynccontextmanager
async def open_gateway_preferences(
    settings: GatewaySettings, accounts: Accounts | None
) -> AsyncIterator[UserPreferences | None]:
    """The users' preferences: the accounts' with sign-in on; with it off, the local user's
    in the same keys over a client of its own (REDIS_URL), or None when there is no Redis to
    reach (the gateway still starts: only preferences answer 503)."""
    if accounts is not None:
        yield accounts.preferences
        return
    if settings.redis_url is None:
        yield None
        return
    try:
        redis = await connect(settings.redis_url)
    except RedisUnavailable as exc:
        log.warning("preferences are off: %s", exc.message)
        yield None
        return
    try:
        yield UserPreferences(redis, AuthKeys(settings.key_prefix))
    finally:
        await redis.aclose()


async def _first_admin(accounts: Accounts, settings: GatewaySettings) -> None:
    if settings.admin_user is not None and settings.admin_password is not None:
        try:
            await ensure_first_admin(
                accounts, settings.admin_user, settings.admin_password.get_secret_value()
            )
        except InvalidInput as exc:
            raise ConfigError(exc.message) from None
    if await accounts.users.count() == 0:
        log.warning(
            "Sign-in is on and there is no user yet: run `ragis admin create NAME`, or set "
            "RAGIS_ADMIN_USER and RAGIS_ADMIN_PASSWORD and restart."
        )
