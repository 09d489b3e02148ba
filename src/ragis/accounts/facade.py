"""`Accounts`: every part of the accounts over one Redis client and key prefix, and
`open_accounts` to get one from settings (the CLI's `ragis admin create` uses it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ragis.accounts.apikeys import ApiKeys
from ragis.accounts.audit import Audit
from ragis.accounts.credentials import Credentials
from ragis.accounts.layout import AuthKeys
from ragis.accounts.lockout import Lockout
from ragis.accounts.logins import Logins
from ragis.accounts.passwords import Passwords
from ragis.accounts.policy import LoginPolicy
from ragis.accounts.preferences import UserPreferences
from ragis.accounts.signin import SignIn
from ragis.accounts.users import Users
from ragis.accounts.workspaces import Workspaces
from ragis.db.client import RedisClient, connect
from ragis.errors import ConfigError
from ragis.settings import RedisSettings

__all__ = ["Accounts", "open_accounts"]


class Accounts:
    """Users, workspaces, API keys, sign-in and the audit, in Redis under `<prefix>:{auth}:`."""

    def __init__(
        self,
        redis: RedisClient,
        prefix: str,
        policy: LoginPolicy | None = None,
        passwords: Passwords | None = None,
    ) -> None:
        keys = AuthKeys(prefix)
        self.policy = policy or LoginPolicy()
        self.passwords = passwords or Passwords()
        self.users = Users(redis, keys, self.passwords)
        self.workspaces = Workspaces(redis, keys)
        self.keys = ApiKeys(redis, keys)
        self.logins = Logins(redis, keys, self.policy.ttl)
        self.lockout = Lockout(redis, keys, self.policy)
        self.audit = Audit(redis, keys)
        self.credentials = Credentials(redis, keys)
        self.preferences = UserPreferences(redis, keys)
        self.sign_in = SignIn(
            self.users, self.passwords, self.logins, self.lockout, self.audit, self.policy
        )


@asynccontextmanager
async def open_accounts(
    settings: RedisSettings, policy: LoginPolicy | None = None, *, url: str | None = None
) -> AsyncIterator[Accounts]:
    """Accounts over a new client of `url` (default: settings' REDIS_URL), closed on exit."""
    target = url or settings.redis_url
    if target is None:
        raise ConfigError(
            "The accounts live in Redis, and REDIS_URL is not set: set it to the Redis ragis "
            "uses (`ragis up` passes its embedded Redis's URL to the services)."
        )
    redis = await connect(target)
    try:
        yield Accounts(redis, settings.key_prefix, policy)
    finally:
        await redis.aclose()
