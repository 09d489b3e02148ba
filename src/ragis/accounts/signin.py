"""Signing in with a username and a password: lockout first, then the password (against a
dummy hash for an unknown user), then a new session. Every attempt is audited."""

from __future__ import annotations

import asyncio
import re

from ragis.accounts.audit import Action, Audit
from ragis.accounts.lockout import Lockout
from ragis.accounts.logins import Logins
from ragis.accounts.models import User
from ragis.accounts.passwords import Passwords
from ragis.accounts.policy import LoginPolicy
from ragis.accounts.users import Users
from ragis.contract import USERNAME_PATTERN
from ragis.errors import Unauthenticated

__all__ = ["InvalidCredentials", "SignIn"]

_USERNAME = re.compile(USERNAME_PATTERN)


class InvalidCredentials(Unauthenticated):
    """Wrong username or password: the same sentence for both, so it tells nothing."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("Wrong username or password.")


class SignIn:
    def __init__(
        self,
        users: Users,
        passwords: Passwords,
        logins: Logins,
        lockout: Lockout,
        audit: Audit,
        policy: LoginPolicy,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._logins = logins
        self._lockout = lockout
        self._audit = audit
        self._policy = policy

    async def __call__(self, username: str, password: str, address: str) -> tuple[User, str]:
        """The user and the new session's cookie value. `TooManyAttempts` while locked out,
        `InvalidCredentials` for a wrong username or password."""
        await self._lockout.check(username, address)
        # A name that cannot be a user's is checked against the dummy hash like an unknown one.
        known = _USERNAME.fullmatch(username) is not None
        stored = await self._users.password_hash(username) if known else None
        user = await self._users.get(username) if stored is not None else None
        if user is None or not await self._passwords.verify(stored, password):
            if user is None:
                await self._passwords.verify(None, password)
            failures = await self._lockout.failed(username, address)
            await self._audit.record(
                Action.LOGIN_FAILED, actor=username, target=username, address=address, ok=False
            )
            # Slowed down, not refused, between `slow_after` and `max_failures` failures.
            await asyncio.sleep(self._policy.delay(failures))
            raise InvalidCredentials()
        await self._lockout.succeeded(username)
        token = await self._logins.start(user.name)
        await self._audit.record(Action.LOGIN, actor=user.name, target=user.name, address=address)
        return user, token
